//! Connections have identity: a close fails only what was written on that connection, and
//! nothing written on a connection reaches a later incarnation of its peer.

use super::{NodeEvent, World};
use crate::history::Stop;
use crate::net::Network;
use crate::rng::Stream;
use model::protocol::{Request, Response};
use model::{NodeId, RequestId, Time};

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);

fn world() -> World {
    let net = Network::new(2, 1, 1, Stream::new(1, "network"));
    World::new(1, vec!["a".into(), "b".into()], net)
}

fn route_request(world: &mut World, at: u64) -> RequestId {
    let request = Request::GetRouteInfoByTopic { topic: "t".into() };
    world.request(Time::from_ms(at), A, B, request, 3_000)
}

/// Every event due at `node` by `at`, in order.
fn due(world: &mut World, node: NodeId, at: u64) -> Vec<NodeEvent> {
    std::iter::from_fn(|| world.pop_due(node, Time::from_ms(at))).collect()
}

/// What the host loop does with a close that reached `node`: the requests written on that
/// connection fail; the model hears of it only if it was the connection open now.
fn close_reaches(world: &mut World, node: NodeId, event: &NodeEvent) -> (Vec<RequestId>, bool) {
    let NodeEvent::ConnectionClosed { peer, conn } = event else {
        panic!("not a close: {event:?}");
    };
    let failed = world.take_pending_on(node, *conn);
    (failed, world.close_arrived(node, *peer, *conn))
}

#[test]
fn a_late_close_of_an_old_connection_fails_nothing_written_on_the_new_one() {
    let mut world = world();
    let first = route_request(&mut world, 0);
    world.close_connection(Time::ZERO, A, B);
    let second = route_request(&mut world, 0); // a new connection
    let events = due(&mut world, B, 10);
    assert_eq!(events.len(), 3, "both requests and the close: {events:?}");
    let close = events
        .iter()
        .find(|e| matches!(e, NodeEvent::ConnectionClosed { .. }));
    let (failed, current) = close_reaches(&mut world, B, close.expect("the close"));
    assert!(
        failed.is_empty() && !current,
        "B's connection to A is the new one"
    );
    let answer = |world: &mut World, id| {
        world.respond(
            Time::from_ms(10),
            B,
            A,
            id,
            Response::error(model::protocol::ResponseCode::SystemError),
        )
    };
    answer(&mut world, first);
    answer(&mut world, second);
    let answered: Vec<RequestId> = due(&mut world, A, 20)
        .into_iter()
        .filter_map(|e| match e {
            NodeEvent::Response { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(
        answered,
        vec![second],
        "the first failed when A closed its connection"
    );
}

#[test]
fn nothing_written_to_an_earlier_incarnation_reaches_the_next() {
    let mut world = world();
    let before = route_request(&mut world, 0);
    due(&mut world, B, 5);
    world.stop(Time::from_ms(5), B, Stop::PowerOff);
    world.start(Time::from_ms(6), B);
    // A writes twice in one instant on its connection to B's previous incarnation.
    let stale = [route_request(&mut world, 7), route_request(&mut world, 7)];
    let at_b = due(&mut world, B, 20);
    assert!(
        at_b.iter().all(|e| !matches!(e, NodeEvent::Request { .. })),
        "a request reached the new process: {at_b:?}"
    );
    let at_a = due(&mut world, A, 20);
    let closes: Vec<&NodeEvent> = at_a
        .iter()
        .filter(|e| matches!(e, NodeEvent::ConnectionClosed { .. }))
        .collect();
    assert_eq!(closes.len(), 1, "{at_a:?}");
    let (mut failed, current) = close_reaches(&mut world, A, closes[0]);
    failed.sort();
    let mut expected = vec![before, stale[0], stale[1]];
    expected.sort();
    assert_eq!(
        failed, expected,
        "everything written on the reset connection fails"
    );
    assert!(current);
    let after = route_request(&mut world, 20);
    let at_b = due(&mut world, B, 30);
    assert!(
        at_b.iter()
            .any(|e| matches!(e, NodeEvent::Request { id: Some(id), .. } if *id == after)),
        "a new connection reaches the new process: {at_b:?}"
    );
}

//! The physical limit a run approaches: a bare madsim program of a scenario's shape (as many
//! nodes, as many request/response pairs spread over the same simulated span) with no model,
//! no history and no checker. `sim bench --baseline` runs it in the same process right after
//! the scenario, so the ratio of the two is measured on one machine in one moment.

use madsim::net::Endpoint;
use madsim::runtime::{Handle, Runtime};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// What the baseline reproduces of a scenario.
#[derive(Copy, Clone, Debug)]
pub struct Shape {
    /// Nodes: one client and `nodes - 1` servers (at least one).
    pub nodes: usize,
    /// Request/response pairs, sent at an even rate.
    pub messages: u64,
    /// Simulated time the pairs are spread over.
    pub span_ms: u64,
}

/// One baseline run.
#[derive(Copy, Clone, Debug)]
pub struct BaselineRun {
    /// Messages delivered: a request and a response per pair.
    pub events: u64,
    pub simulated_ms: u64,
    pub wall: Duration,
}

const REQUEST: u64 = 1;
const RESPONSE: u64 = 2;
const PORT: u16 = 9_000;
/// A request's size, about a small message's.
const BODY: usize = 256;

fn address(node: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(10, 0, (node / 250) as u8, (node % 250 + 1) as u8);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

/// Runs the shape once with `seed`. Call it on a thread of its own (madsim runtimes do not
/// nest).
pub fn run(shape: Shape, seed: u64) -> BaselineRun {
    let started = Instant::now();
    let runtime = Runtime::with_seed_and_config(seed, madsim::Config::default());
    let servers = shape.nodes.max(2) - 1;
    let simulated_ms = runtime.block_on(async move {
        let handle = Handle::current();
        for server in 1..=servers {
            let node = handle.create_node().ip(address(server).ip()).build();
            node.spawn(serve(address(server)));
        }
        let client = handle.create_node().ip(address(0).ip()).build();
        let begun = madsim::time::Instant::now();
        let task = client.spawn(ask(shape, servers));
        task.await.expect("the client finishes");
        begun.elapsed().as_millis() as u64
    });
    BaselineRun {
        events: shape.messages * 2,
        simulated_ms,
        wall: started.elapsed(),
    }
}

/// A server answers every request with its bytes.
async fn serve(at: SocketAddr) {
    let endpoint = Endpoint::bind(at).await.expect("bind a server");
    let mut buf = vec![0u8; BODY];
    loop {
        let Ok((len, from)) = endpoint.recv_from(REQUEST, &mut buf).await else {
            return;
        };
        let _ = endpoint.send_to(from, RESPONSE, &buf[..len]).await;
    }
}

/// The client sends the pairs at an even rate, round robin over the servers, and waits for
/// every answer.
async fn ask(shape: Shape, servers: usize) {
    let endpoint = std::sync::Arc::new(Endpoint::bind(address(0)).await.expect("bind the client"));
    let answers = {
        let endpoint = endpoint.clone();
        madsim::task::spawn(async move {
            let mut buf = vec![0u8; BODY];
            for _ in 0..shape.messages {
                let _ = endpoint.recv_from(RESPONSE, &mut buf).await;
            }
        })
    };
    let interval = Duration::from_micros(shape.span_ms * 1_000 / shape.messages.max(1));
    let body = vec![7u8; BODY];
    for message in 0..shape.messages {
        let server = address(1 + (message as usize % servers));
        let _ = endpoint.send_to(server, REQUEST, &body).await;
        madsim::time::sleep(interval).await;
    }
    answers.await.expect("every answer arrives");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_is_answered_over_the_span() {
        let shape = Shape {
            nodes: 3,
            messages: 40,
            span_ms: 2_000,
        };
        let run = std::thread::spawn(move || run(shape, 7))
            .join()
            .expect("runs");
        assert_eq!(run.events, 80);
        // The last request leaves after the span's last interval; its answer needs a round trip.
        assert!((1_950..2_500).contains(&run.simulated_ms), "{run:?}");
    }
}

//! The host loop: runs one model node inside its madsim node.
//!
//! The loop owns the node's state machine, so killing the madsim node drops the process's
//! memory with it. It waits until an event in the node's queue is due, hands every due event to
//! the node in order, and applies what the node does through [`HostIo`].

use super::promises::Answered;
use super::world::{NodeEvent, World};
use crate::disk::{DiskSim, NodeDisk};
use crate::history::SimEvent;
use model::disk::Disk;
use model::event::Event;
use model::node::{Context, Inbound, Io, Node, RpcError};
use model::protocol::{Request, Response};
use model::timer::Timer;
use model::{NodeId, RequestId, Time};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

/// Builds a fresh process of a node (at first start and at every restart).
pub type NodeFactory = Arc<dyn Fn() -> Box<dyn Node> + Send + Sync>;

/// More events than this at one node in one instant means a zero-delay loop in the model.
const MAX_EVENTS_PER_INSTANT: u32 = 1_000_000;

/// Runs a node's process; `boot_delay_ms` delays its first start (not restarts).
pub async fn host_loop(
    world: Arc<Mutex<World>>,
    node: NodeId,
    factories: (NodeFactory, Option<NodeFactory>),
    boot_delay_ms: u64,
) {
    if world.lock().expect("world lock").over_budget.is_some() {
        return; // The run is over: nothing starts any more.
    }
    let first_boot = world.lock().expect("world lock").incarnation(node) == 0;
    if first_boot && boot_delay_ms > 0 {
        madsim::time::sleep(std::time::Duration::from_millis(boot_delay_ms)).await;
    }
    let disks = madsim::plugin::simulator::<DiskSim>();
    let switched = world.lock().expect("world lock").switched(node);
    let mut process = match (switched, &factories.1) {
        (true, Some(switched)) => switched(),
        _ => (factories.0)(),
    };
    {
        let mut world = world.lock().expect("world lock");
        if first_boot {
            world.booted(node);
        }
        let now = world.now();
        let inputs = super::recovery::inputs(disks.lock().settled(node, now));
        if let Some(inputs) = inputs {
            world.record_sim(now, Some(node), inputs);
        }
        step(&mut world, &disks, node, now, |ctx| process.on_start(ctx));
    }
    loop {
        WaitForEvent {
            world: &world,
            node,
        }
        .await;
        let mut guard = world.lock().expect("world lock");
        let now = guard.now();
        let mut handled = 0;
        while guard.over_budget.is_none()
            && let Some(event) = guard.pop_due(node, now)
        {
            guard.trace_event(now, node, &event);
            if let NodeEvent::Shutdown = event {
                step(&mut guard, &disks, node, now, |ctx| {
                    process.on_shutdown(ctx)
                });
                guard.stop(now, node, crate::history::Stop::Shutdown);
                return;
            }
            handled += 1;
            if handled >= MAX_EVENTS_PER_INSTANT {
                let mut last = format!("{event:?}");
                last.truncate(300);
                panic!(
                    "{} handled {handled} events at {now}: a zero-delay loop, the last {last}",
                    guard.name(node)
                );
            }
            dispatch(&mut guard, &disks, node, now, &mut *process, event);
            if let Some(restart_after_ms) = guard.take_exit(node) {
                crash(&mut guard, node, now, restart_after_ms);
                return;
            }
        }
        if guard.over_budget.is_some() {
            return; // Past the event budget: the supervisor ends the run.
        }
    }
}

/// The process crashed itself: it stops like a killed one; the supervisor's housekeeping
/// restarts it when its delay is over (a restarted init runs a fresh host loop).
fn crash(world: &mut World, node: NodeId, now: Time, restart_after_ms: Option<u64>) {
    world.stop(now, node, crate::history::Stop::Kill);
    if let Some(delay) = restart_after_ms {
        world.schedule_restart(node, madsim::plugin::node(), now.plus_ms(delay.max(1)));
    }
}

/// Resolves when something in the node's queue is due.
struct WaitForEvent<'a> {
    world: &'a Mutex<World>,
    node: NodeId,
}

impl Future for WaitForEvent<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let mut world = self.world.lock().expect("world lock");
        let now = world.now();
        if world.ready_or_wait(self.node, now, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

fn dispatch(
    world: &mut World,
    disks: &DiskSim,
    node: NodeId,
    now: Time,
    process: &mut dyn Node,
    event: NodeEvent,
) {
    match event {
        NodeEvent::Request { from, id, request } => {
            let inbound = Inbound {
                from,
                request_id: id,
            };
            step(world, disks, node, now, |ctx| {
                process.on_request(ctx, inbound, request)
            });
        }
        NodeEvent::Response { id, response } => {
            if world.take_pending(node, id) {
                step(world, disks, node, now, |ctx| {
                    process.on_response(ctx, id, Ok(response))
                });
            }
        }
        NodeEvent::Refused { id } => {
            if world.take_pending(node, id) {
                let failed = Err(RpcError::Refused);
                step(world, disks, node, now, |ctx| {
                    process.on_response(ctx, id, failed)
                });
            }
        }
        NodeEvent::Closed { id } => {
            let closed = Err(RpcError::ConnectionClosed);
            step(world, disks, node, now, |ctx| {
                process.on_response(ctx, id, closed)
            });
        }
        NodeEvent::Timeout { id } => {
            if world.take_pending(node, id) {
                let timeout = Err(RpcError::Timeout);
                step(world, disks, node, now, |ctx| {
                    process.on_response(ctx, id, timeout)
                });
            }
        }
        NodeEvent::Timer(timer) => {
            step(world, disks, node, now, |ctx| process.on_timer(ctx, timer));
        }
        NodeEvent::Flushed(flush) => {
            step(world, disks, node, now, |ctx| {
                process.on_flushed(ctx, flush)
            });
        }
        NodeEvent::Shutdown => unreachable!("the host loop stops the node itself"),
        NodeEvent::ConnectionClosed { peer, conn } => {
            for id in world.take_pending_on(node, conn) {
                let closed = Err(RpcError::ConnectionClosed);
                step(world, disks, node, now, |ctx| {
                    process.on_response(ctx, id, closed)
                });
            }
            if world.close_arrived(node, peer, conn) {
                step(world, disks, node, now, |ctx| {
                    process.on_connection_closed(ctx, peer)
                });
            }
        }
    }
}

thread_local! {
    /// The step being run on this thread (each seed has its own): where a panic happened.
    static STEP: std::cell::Cell<Option<(Time, NodeId)>> = const { std::cell::Cell::new(None) };
}

/// The node step this thread was running when it panicked, if it was in one.
pub fn current_step() -> Option<(Time, NodeId)> {
    STEP.with(std::cell::Cell::get)
}

/// Runs one handler of the node with a context onto the world and its disk.
fn step(
    world: &mut World,
    disks: &DiskSim,
    node: NodeId,
    now: Time,
    handler: impl FnOnce(&mut Context<'_>),
) {
    let mut disks = disks.lock();
    let wall_ms = now.wall_clock_off_by(world.clock_offset_ms(node));
    let mut io = HostIo {
        world: &mut *world,
        disk: disks.handle(node, now, wall_ms),
        node,
        now,
        answered: Vec::new(),
    };
    STEP.with(|step| step.set(Some((now, node))));
    handler(&mut Context::new(now, node, &mut io));
    STEP.with(|step| step.set(None));
    let flushes = std::mem::take(&mut io.disk.flushes);
    let deleted = std::mem::take(&mut io.disk.deleted);
    let answered = std::mem::take(&mut io.answered);
    for (flush, at) in flushes {
        world.schedule(node, at, NodeEvent::Flushed(flush));
    }
    for file in deleted {
        world.record_sim(now, Some(node), file_deleted(file));
    }
    for answer in answered {
        let held = world.promises.held(&mut disks, node, answer, now);
        world.record_sim(now, Some(node), held);
    }
}

/// The harness's record of a file the node deleted.
fn file_deleted(file: crate::disk::Deleted) -> SimEvent {
    SimEvent::FileDeleted {
        file: file.path,
        len: file.len,
        modified_ms: file.modified_ms,
        wall_ms: file.wall_ms,
        used: file.usage.used,
        capacity: file.usage.capacity,
        oldest: file.oldest,
        remaining: file.remaining,
    }
}

/// What a node's actions do to the world.
struct HostIo<'a> {
    world: &'a mut World,
    disk: NodeDisk<'a>,
    node: NodeId,
    now: Time,
    /// The SEND_OK answers given in this step, whose promises the disks are read for.
    answered: Vec<Answered>,
}

impl Io for HostIo<'_> {
    fn random_u64(&mut self) -> u64 {
        self.world.random_u64(self.node)
    }

    fn request(&mut self, to: NodeId, request: Request, timeout_ms: u64) -> RequestId {
        self.world
            .request(self.now, self.node, to, request, timeout_ms)
    }

    fn oneway(&mut self, to: NodeId, request: Request) {
        self.world.oneway(self.now, self.node, to, request)
    }

    fn respond(&mut self, to: NodeId, request_id: RequestId, response: Response) {
        if let Some(answer) = self.world.promises.answered(self.node, &response) {
            self.answered.push(answer);
        }
        self.world
            .respond(self.now, self.node, to, request_id, response)
    }

    fn set_timer(&mut self, delay_ms: u64, timer: Timer) {
        self.world.schedule(
            self.node,
            self.now.plus_ms(delay_ms),
            NodeEvent::Timer(timer),
        )
    }

    fn close_connection(&mut self, peer: NodeId) {
        self.world.close_connection(self.now, self.node, peer)
    }

    fn disk(&mut self) -> &mut dyn Disk {
        &mut self.disk
    }

    fn emit(&mut self, event: Event) {
        self.world.record_model(self.now, self.node, event)
    }

    fn exit(&mut self, restart_after_ms: Option<u64>) {
        self.world.request_exit(self.node, restart_after_ms);
    }

    fn clock_offset_ms(&self) -> i64 {
        self.world.clock_offset_ms(self.node)
    }
}

//! A stand-in for the harness, for unit tests of nodes: a [`MemDisk`], recorded timers,
//! requests and events, and a fixed clock the test moves.

use crate::disk::{Disk, MemDisk};
use crate::event::Event;
use crate::ids::{NodeId, RequestId};
use crate::node::{Context, Io};
use crate::protocol::{Request, Response};
use crate::time::Time;
use crate::timer::Timer;

#[derive(Default)]
pub struct TestIo {
    pub disk: MemDisk,
    pub now: Time,
    pub timers: Vec<(Time, Timer)>,
    pub requests: Vec<(NodeId, Request)>,
    pub responses: Vec<(NodeId, RequestId, Response)>,
    pub events: Vec<Event>,
    /// Set when the node crashed itself, with its restart delay.
    pub exited: Option<Option<u64>>,
    next_request: u64,
    random: u64,
}

impl TestIo {
    pub fn new() -> TestIo {
        TestIo::default()
    }

    /// A fresh harness over a copy of this one's disk, at the same time (a restarted process).
    pub fn restart(&self) -> TestIo {
        TestIo {
            disk: self.disk.clone(),
            now: self.now,
            ..TestIo::new()
        }
    }

    /// A context for node `me` at the current time.
    pub fn ctx(&mut self) -> Context<'_> {
        let now = self.now;
        Context::new(now, NodeId(0), self)
    }

    /// Takes the timers due by `now`, earliest first.
    pub fn due_timers(&mut self) -> Vec<Timer> {
        self.timers.sort_by_key(|(at, _)| *at);
        let split = self.timers.partition_point(|(at, _)| *at <= self.now);
        self.timers.drain(..split).map(|(_, timer)| timer).collect()
    }
}

impl Io for TestIo {
    fn random_u64(&mut self) -> u64 {
        self.random = self
            .random
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.random
    }

    fn request(&mut self, to: NodeId, request: Request, _timeout_ms: u64) -> RequestId {
        self.next_request += 1;
        self.requests.push((to, request));
        RequestId(self.next_request)
    }

    fn oneway(&mut self, to: NodeId, request: Request) {
        self.requests.push((to, request));
    }

    fn respond(&mut self, to: NodeId, request_id: RequestId, response: Response) {
        self.responses.push((to, request_id, response));
    }

    fn set_timer(&mut self, delay_ms: u64, timer: Timer) {
        self.timers.push((self.now.plus_ms(delay_ms), timer));
    }

    fn close_connection(&mut self, _peer: NodeId) {}

    fn disk(&mut self) -> &mut dyn Disk {
        &mut self.disk
    }

    fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    fn exit(&mut self, restart_after_ms: Option<u64>) {
        self.exited = Some(restart_after_ms);
    }
}

//! The interface between a model node and the harness that runs it.
//!
//! Every process in the cluster (name server, broker, client application) is a [`Node`]: a
//! state machine the harness feeds with starts, requests, responses, timers, disk completions
//! and closed connections. A node acts only through its [`Context`]: it reads the time, draws
//! randomness, sends requests, sets timers, uses its disk and emits events for the history.
//! The model never sees a runtime, a clock or a random generator of its own.

use crate::disk::{Disk, FlushId};
use crate::event::Event;
use crate::ids::{NodeId, RequestId};
use crate::protocol::{Request, Response};
use crate::time::Time;
use crate::timer::Timer;

/// Why a request got no response.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RpcError {
    /// No response within the timeout (lost on the way, peer silent, partitioned or paused).
    /// The request may or may not have been processed.
    Timeout,
    /// The connection closed while the request was pending (the peer's process died, or this
    /// node closed it). The request may or may not have been processed.
    ConnectionClosed,
    /// No connection could be made (nothing listens there): the request was never delivered.
    Refused,
}

impl RpcError {
    /// Whether the peer may have processed the request anyway.
    pub fn outcome_unknown(self) -> bool {
        self != RpcError::Refused
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RpcError::Timeout => "timeout",
            RpcError::ConnectionClosed => "connection closed",
            RpcError::Refused => "connection refused",
        })
    }
}

/// Where an incoming request came from and how to answer it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub from: NodeId,
    /// `None` for a oneway request: there is nobody to answer.
    pub request_id: Option<RequestId>,
}

/// A process of the simulated cluster, as a state machine.
pub trait Node {
    /// The process starts (first boot or restart); its disk holds whatever survived.
    fn on_start(&mut self, ctx: &mut Context<'_>);

    /// A request (or oneway request) arrived.
    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request);

    /// A request this node sent was answered, or failed.
    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        request_id: RequestId,
        result: Result<Response, RpcError>,
    );

    /// A timer this node set is due.
    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer);

    /// A flush this node asked for is durable.
    fn on_flushed(&mut self, _ctx: &mut Context<'_>, _flush: FlushId) {}

    /// The connection to `peer` closed (its process died). Pending requests to it have
    /// already failed with [`RpcError::ConnectionClosed`].
    fn on_connection_closed(&mut self, _ctx: &mut Context<'_>, _peer: NodeId) {}

    /// The process is asked to stop cleanly: its shutdown hooks run here, then it exits and
    /// its connections close. Whatever it sends here still reaches its peers.
    fn on_shutdown(&mut self, _ctx: &mut Context<'_>) {}
}

/// What the harness does for a node: the effects a node may cause.
pub trait Io {
    fn random_u64(&mut self) -> u64;
    fn request(&mut self, to: NodeId, request: Request, timeout_ms: u64) -> RequestId;
    fn oneway(&mut self, to: NodeId, request: Request);
    fn respond(&mut self, to: NodeId, request_id: RequestId, response: Response);
    fn set_timer(&mut self, delay_ms: u64, timer: Timer);
    /// Closes this node's connection to `peer`: requests pending on it fail, and the peer
    /// learns of the close.
    fn close_connection(&mut self, peer: NodeId);
    fn disk(&mut self) -> &mut dyn Disk;
    fn emit(&mut self, event: Event);
    /// The process ends itself at once (a crash); it starts again after `restart_after_ms`,
    /// or at the heal if `None`.
    fn exit(&mut self, restart_after_ms: Option<u64>);
    /// How far this machine's wall clock stands from true time (skews and jumps), in ms.
    fn clock_offset_ms(&self) -> i64 {
        0
    }
}

/// A node's view of the world during one step.
pub struct Context<'a> {
    now: Time,
    me: NodeId,
    io: &'a mut dyn Io,
}

impl<'a> Context<'a> {
    pub fn new(now: Time, me: NodeId, io: &'a mut dyn Io) -> Context<'a> {
        Context { now, me, io }
    }

    pub fn now(&self) -> Time {
        self.now
    }

    /// What this machine's wall clock shows (`System.currentTimeMillis()`): true time since
    /// the epoch, moved by the machine's skew and jumps.
    pub fn wall_clock_ms(&self) -> u64 {
        self.now.wall_clock_off_by(self.io.clock_offset_ms())
    }

    pub fn me(&self) -> NodeId {
        self.me
    }

    pub fn random_u64(&mut self) -> u64 {
        self.io.random_u64()
    }

    /// A uniform draw from `0..bound` (`bound` > 0).
    pub fn random_below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "random_below needs a positive bound");
        // Multiply-shift: unbiased enough for model choices and cheaper than rejection.
        ((u128::from(self.io.random_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Sends a request; its outcome arrives later through [`Node::on_response`].
    pub fn request(&mut self, to: NodeId, request: Request, timeout_ms: u64) -> RequestId {
        self.io.request(to, request, timeout_ms)
    }

    /// Sends a request nobody answers.
    pub fn oneway(&mut self, to: NodeId, request: Request) {
        self.io.oneway(to, request)
    }

    /// Answers a request; does nothing for a oneway one.
    pub fn respond(&mut self, inbound: Inbound, response: Response) {
        if let Some(request_id) = inbound.request_id {
            self.io.respond(inbound.from, request_id, response);
        }
    }

    /// Answers a request this node does not serve (`REQUEST_CODE_NOT_SUPPORTED`).
    pub fn not_supported(&mut self, inbound: Inbound) {
        self.respond(
            inbound,
            Response::error(crate::protocol::ResponseCode::RequestCodeNotSupported),
        );
    }

    pub fn set_timer(&mut self, delay_ms: u64, timer: Timer) {
        self.io.set_timer(delay_ms, timer)
    }

    /// Closes the connection to `peer`, as RocketMQ's remoting client does after a timeout.
    pub fn close_connection(&mut self, peer: NodeId) {
        self.io.close_connection(peer)
    }

    pub fn disk(&mut self) -> &mut dyn Disk {
        self.io.disk()
    }

    pub fn emit(&mut self, event: Event) {
        self.io.emit(event)
    }

    /// Crashes this process: nothing after this step runs; it restarts after
    /// `restart_after_ms` (or at the heal).
    pub fn exit(&mut self, restart_after_ms: Option<u64>) {
        self.io.exit(restart_after_ms)
    }
}

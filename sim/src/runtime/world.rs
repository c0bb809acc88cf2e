//! The shared state of one run: every node's event queue, pending requests and connections,
//! the network, the history and the trace digest.
//!
//! Each node's host loop takes due events from its queue in `(time, sequence)` order. Sending a
//! message puts an event into the receiver's queue at its arrival time and arms a madsim timer
//! that wakes the receiver's host exactly then, so a run costs one wake per distinct event time
//! per node and nothing while nodes are idle.

use crate::history::{Digest, Entry, History, Recorded, SimEvent, Stop};
use crate::net::{Direction, Fate, Network, Packet};
use crate::rng::Stream;
use model::disk::FlushId;
use model::event::Event;
use model::protocol::{Request, RequestCode, Response};
use model::timer::Timer;
use model::{NodeId, RequestId, Time};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::task::Waker;
use std::time::{Duration, Instant};

/// What a node's host loop can be handed.
#[derive(Debug)]
pub enum NodeEvent {
    Request {
        from: NodeId,
        id: Option<RequestId>,
        request: Request,
    },
    Response {
        id: RequestId,
        response: Response,
    },
    /// No connection could be opened for a pending request: it was never delivered.
    Refused {
        id: RequestId,
    },
    /// The connection a pending request was sent on closed under it (already taken from the
    /// pending requests, so a late answer finds nobody waiting).
    Closed {
        id: RequestId,
    },
    /// A pending request's timeout is due.
    Timeout {
        id: RequestId,
    },
    Timer(Timer),
    Flushed(FlushId),
    /// The connection `conn` to `peer` closed (reset, or closed by the peer).
    ConnectionClosed {
        peer: NodeId,
        conn: u64,
    },
    /// The supervisor asks the process to stop cleanly.
    Shutdown,
}

#[derive(Debug)]
struct Scheduled {
    at: Time,
    seq: u64,
    event: NodeEvent,
    /// For a packet: its sender, and when the sender starts transmitting it.
    sent: Option<(NodeId, Time)>,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Whether a node's process runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    /// Down after a kill: connections to it are refused at once.
    Killed,
    /// Down after power loss or disk loss: packets to it vanish.
    Off,
}

#[derive(Copy, Clone, Debug)]
struct PendingRequest {
    code: RequestCode,
    /// The connection it was written on: only that connection's close fails it.
    conn: u64,
}

/// One end of a connection between two nodes. Both ends know it by the same id, so a close
/// reaches only the requests written on it, and nothing written on it reaches a later
/// incarnation of either end.
#[derive(Copy, Clone, Debug)]
struct Connection {
    id: u64,
    /// The peer's incarnation when it was opened.
    peer_incarnation: u32,
    /// The peer's kernel reset it: what is written on it vanishes, and it fails when the
    /// reset reaches this end.
    reset: bool,
}

/// Whether a write may go out on a connection.
enum Write {
    Open(u64),
    /// Written on a reset connection: it vanishes; the request fails when the reset arrives.
    Lost(u64),
}

struct Slot {
    status: Status,
    /// Bumped at every start: connections made to an earlier incarnation are stale.
    incarnation: u32,
    queue: BinaryHeap<Reverse<Scheduled>>,
    pending: BTreeMap<RequestId, PendingRequest>,
    /// Open connections, by peer.
    connections: BTreeMap<NodeId, Connection>,
    /// The host loop's waker, while it waits.
    waker: Option<Waker>,
    /// Times at which a madsim timer will wake this host.
    armed: BTreeSet<Time>,
    stream: Stream,
    /// An operator switched its role (see `NodeSpec::switched`).
    switched: bool,
}

/// One packet as it was sent, for the report's space-time diagram (kept with the trace).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PacketRecord {
    pub sent: Time,
    pub from: NodeId,
    pub to: NodeId,
    pub code: RequestCode,
    pub direction: Direction,
    /// When it arrives, or `None` if it vanished (a rule dropped it, or the receiver was down).
    pub arrives: Option<Time>,
}

/// One processed event, as the trace digest sees it.
#[derive(Hash)]
struct TraceItem {
    at: Time,
    node: NodeId,
    kind: u8,
    peer: u16,
    code: i32,
    id: u64,
}

pub struct World {
    names: Vec<String>,
    slots: Vec<Slot>,
    pub net: Network,
    pub history: History,
    pub digest: Digest,
    /// Human-readable trace lines, kept only when asked for.
    pub trace: Option<Vec<String>>,
    /// Every packet sent, kept with the trace.
    pub packets: Option<Vec<PacketRecord>>,
    /// Whose SEND_OK answers the harness checks against the disks.
    pub promises: super::promises::PromiseWatch,
    next_seq: u64,
    next_request: u64,
    next_connection: u64,
    /// The madsim instant of time zero.
    base: Option<Instant>,
    /// Node events handled, for speed figures and the event budget.
    pub events_handled: u64,
    /// How many events the run may handle; past it every host stops (see `over_budget`).
    pub event_budget: u64,
    /// Why the run stopped early, once it exceeded a budget.
    pub over_budget: Option<String>,
    /// What the supervisor watches to end the drain and the read-back.
    pub progress: RunProgress,
    /// Nodes that asked to crash themselves during the current step, with their restart delay.
    exits: BTreeMap<NodeId, Option<u64>>,
    /// Crashed nodes to start again: when, and which madsim node.
    restarts: Vec<(Time, NodeId, madsim::task::NodeId)>,
    /// Machines whose disk was lost for good (`returns = false`): nothing starts them again.
    pub lost_for_good: BTreeSet<NodeId>,
}

/// Milestones of the workload, noted as the history records them.
#[derive(Clone, Debug, Default)]
pub struct RunProgress {
    /// Producer nodes that finished their messages.
    pub finished_producers: BTreeSet<NodeId>,
    /// When the last of them finished.
    pub producers_finished_at: Time,
    /// Each broadcasting consumer's last reported backlog.
    pub consumer_lag: BTreeMap<NodeId, u64>,
    pub read_back_done: bool,
}

impl World {
    pub fn new(seed: u64, names: Vec<String>, net: Network) -> World {
        let slots = names
            .iter()
            .map(|name| Slot {
                status: Status::Running,
                incarnation: 0,
                queue: BinaryHeap::new(),
                pending: BTreeMap::new(),
                connections: BTreeMap::new(),
                waker: None,
                armed: BTreeSet::new(),
                stream: Stream::new(seed, &format!("node/{name}")),
                switched: false,
            })
            .collect();
        World {
            names,
            slots,
            net,
            history: History::default(),
            digest: Digest::default(),
            trace: None,
            packets: None,
            promises: Default::default(),
            next_seq: 0,
            next_request: 0,
            next_connection: 0,
            base: None,
            events_handled: 0,
            event_budget: u64::MAX,
            over_budget: None,
            progress: RunProgress::default(),
            exits: BTreeMap::new(),
            restarts: Vec::new(),
            lost_for_good: BTreeSet::new(),
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn name(&self, node: NodeId) -> &str {
        &self.names[node.index()]
    }

    /// Simulated time now, in whole milliseconds. Must run inside the madsim runtime.
    /// Simulated time, for a reader that sets nothing up (see `now`).
    pub fn clock(&self) -> Time {
        Time::from_ms(madsim::time::TimeHandle::current().elapsed().as_millis() as u64)
    }

    pub fn now(&mut self) -> Time {
        let handle = madsim::time::TimeHandle::current();
        if self.base.is_none() {
            self.base = Some(handle.now_instant() - handle.elapsed());
        }
        Time::from_ms(handle.elapsed().as_millis() as u64)
    }

    pub fn status(&self, node: NodeId) -> Status {
        self.slots[node.index()].status
    }

    pub fn random_u64(&mut self, node: NodeId) -> u64 {
        self.slots[node.index()].stream.next_u64()
    }

    // --- recording ---------------------------------------------------------------------

    pub fn record(&mut self, at: Time, node: Option<NodeId>, event: Recorded) {
        let entry = Entry { at, node, event };
        self.history.record(&mut self.digest, entry);
    }

    pub fn record_model(&mut self, at: Time, node: NodeId, event: Event) {
        match &event {
            Event::WorkloadFinished { .. } => {
                self.progress.finished_producers.insert(node);
                self.progress.producers_finished_at = at;
            }
            Event::ReadBackDone { .. } => self.progress.read_back_done = true,
            Event::ConsumerLag { behind, .. } => {
                self.progress.consumer_lag.insert(node, *behind);
            }
            _ => {}
        }
        self.record(at, Some(node), Recorded::Model(event));
    }

    pub fn record_sim(&mut self, at: Time, node: Option<NodeId>, event: SimEvent) {
        self.record(at, node, Recorded::Sim(event));
    }

    // --- the event queues ---------------------------------------------------------------

    /// Puts an event into a node's queue and makes sure its host wakes for it.
    pub fn schedule(&mut self, node: NodeId, at: Time, event: NodeEvent) {
        self.schedule_sent(node, at, event, None);
    }

    fn schedule_sent(
        &mut self,
        node: NodeId,
        at: Time,
        event: NodeEvent,
        sent: Option<(NodeId, Time)>,
    ) {
        self.next_seq += 1;
        let seq = self.next_seq;
        let slot = &mut self.slots[node.index()];
        slot.queue.push(Reverse(Scheduled {
            at,
            seq,
            event,
            sent,
        }));
        self.arm(node, at);
    }

    /// The earliest due event of a node, if any is due by `now`.
    pub fn pop_due(&mut self, node: NodeId, now: Time) -> Option<NodeEvent> {
        let slot = &mut self.slots[node.index()];
        if slot.queue.peek().is_some_and(|Reverse(s)| s.at <= now) {
            let Reverse(scheduled) = slot.queue.pop().expect("peeked");
            Some(scheduled.event)
        } else {
            None
        }
    }

    /// Called by a host about to wait: whether something is due now; otherwise remembers the
    /// waker and arms a timer for the next event.
    pub fn ready_or_wait(&mut self, node: NodeId, now: Time, waker: &Waker) -> bool {
        let slot = &mut self.slots[node.index()];
        while slot.armed.first().is_some_and(|at| *at <= now) {
            slot.armed.pop_first();
        }
        let next = slot.queue.peek().map(|Reverse(s)| s.at);
        if next.is_some_and(|at| at <= now) {
            return true;
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            slot.waker = Some(waker.clone());
            slot.armed.clear();
        }
        if let Some(at) = next {
            self.arm(node, at);
        }
        false
    }

    /// Ensures the node's host wakes by `at`.
    fn arm(&mut self, node: NodeId, at: Time) {
        let base = self.base;
        let slot = &mut self.slots[node.index()];
        let Some(waker) = &slot.waker else {
            return; // Not waiting: the host looks at its queue before it waits again.
        };
        if slot.armed.first().is_some_and(|first| *first <= at) {
            return; // It wakes earlier anyway and will arm again then.
        }
        let base = base.expect("time base is set before anything is scheduled");
        let deadline = base + Duration::from_millis(at.as_ms());
        let mut sleep = madsim::time::TimeHandle::current().sleep_until(deadline);
        let mut cx = std::task::Context::from_waker(waker);
        // Polling a Sleep once registers a madsim timer that wakes `waker` at the deadline.
        if std::pin::Pin::new(&mut sleep).poll(&mut cx).is_ready() {
            waker.wake_by_ref();
        } else {
            slot.armed.insert(at);
        }
    }

    // --- the network ---------------------------------------------------------------------

    fn allocate_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// The connection `from` writes to `to` on, opened if there is none. One made to an
    /// earlier incarnation of `to` is reset by its kernel: the write vanishes, and the reset
    /// reaches `from` one hop later, closing the connection and failing what was written on it.
    fn connect(&mut self, now: Time, from: NodeId, to: NodeId) -> Write {
        let to_incarnation = self.slots[to.index()].incarnation;
        let existing = self.slots[from.index()].connections.get(&to).copied();
        match existing {
            Some(conn) if conn.reset => Write::Lost(conn.id),
            Some(conn) if conn.peer_incarnation != to_incarnation => {
                self.slots[from.index()].connections.insert(
                    to,
                    Connection {
                        reset: true,
                        ..conn
                    },
                );
                let at = now.plus_ms(self.net.hop_ms());
                self.schedule(
                    from,
                    at,
                    NodeEvent::ConnectionClosed {
                        peer: to,
                        conn: conn.id,
                    },
                );
                Write::Lost(conn.id)
            }
            Some(conn) => Write::Open(conn.id),
            None => {
                self.next_connection += 1;
                let id = self.next_connection;
                let from_incarnation = self.slots[from.index()].incarnation;
                let mine = Connection {
                    id,
                    peer_incarnation: to_incarnation,
                    reset: false,
                };
                let theirs = Connection {
                    id,
                    peer_incarnation: from_incarnation,
                    reset: false,
                };
                self.slots[from.index()].connections.insert(to, mine);
                self.slots[to.index()].connections.insert(from, theirs);
                Write::Open(id)
            }
        }
    }

    /// A connection's close reached `node`: it forgets the connection if it is still the
    /// one it has to `peer`. Returns whether it was (a close of an older connection says
    /// nothing about the one open now).
    pub fn close_arrived(&mut self, node: NodeId, peer: NodeId, conn: u64) -> bool {
        let connections = &mut self.slots[node.index()].connections;
        match connections.get(&peer) {
            Some(current) if current.id != conn => false,
            Some(_) => connections.remove(&peer).is_some(),
            None => true,
        }
    }

    fn transmit(&mut self, now: Time, packet: Packet, event: NodeEvent) {
        if self.slots[packet.to.index()].status != Status::Running {
            self.log_packet(now, &packet, None);
            return;
        }
        match self.net.send(now, &packet) {
            Fate::Deliver(at, starts) => {
                self.log_packet(now, &packet, Some(at));
                self.schedule_sent(packet.to, at, event, Some((packet.from, starts)));
            }
            Fate::Drop { .. } => self.log_packet(now, &packet, None),
        }
    }

    fn log_packet(&mut self, now: Time, packet: &Packet, arrives: Option<Time>) {
        if let Some(packets) = &mut self.packets {
            packets.push(PacketRecord {
                sent: now,
                from: packet.from,
                to: packet.to,
                code: packet.code,
                direction: packet.direction,
                arrives,
            });
        }
    }

    /// `from` sends a request to `to`; its outcome reaches `from` as a response, a failure or
    /// a timeout.
    pub fn request(
        &mut self,
        now: Time,
        from: NodeId,
        to: NodeId,
        request: Request,
        timeout_ms: u64,
    ) -> RequestId {
        let id = self.allocate_request_id();
        self.schedule(from, now.plus_ms(timeout_ms), NodeEvent::Timeout { id });
        let code = request.code();
        let conn = match self.slots[to.index()].status {
            Status::Killed => {
                // Connection refused: the sender learns after one round trip.
                let hop = self.net.hop_ms();
                self.schedule(from, now.plus_ms(2 * hop), NodeEvent::Refused { id });
                0
            }
            Status::Off => 0, // Silence: the timeout will tell.
            Status::Running => match self.connect(now, from, to) {
                Write::Open(conn) => {
                    let packet = Packet {
                        from,
                        to,
                        code,
                        direction: Direction::Request,
                        bytes: request.wire_bytes(),
                    };
                    let event = NodeEvent::Request {
                        from,
                        id: Some(id),
                        request,
                    };
                    self.transmit(now, packet, event);
                    conn
                }
                Write::Lost(conn) => conn,
            },
        };
        let pending = PendingRequest { code, conn };
        self.slots[from.index()].pending.insert(id, pending);
        id
    }

    /// `from` sends a request nobody answers.
    pub fn oneway(&mut self, now: Time, from: NodeId, to: NodeId, request: Request) {
        if self.slots[to.index()].status != Status::Running {
            return;
        }
        if let Write::Lost(_) = self.connect(now, from, to) {
            return;
        }
        let packet = Packet {
            from,
            to,
            code: request.code(),
            direction: Direction::Request,
            bytes: request.wire_bytes(),
        };
        let event = NodeEvent::Request {
            from,
            id: None,
            request,
        };
        self.transmit(now, packet, event);
    }

    /// `from` answers request `id` of `to`. Nobody hears it if `to` no longer waits for it.
    pub fn respond(
        &mut self,
        now: Time,
        from: NodeId,
        to: NodeId,
        id: RequestId,
        response: Response,
    ) {
        let Some(pending) = self.slots[to.index()].pending.get(&id) else {
            return;
        };
        let on_its_connection = self.slots[from.index()].connections.get(&to);
        if !on_its_connection.is_some_and(|c| c.id == pending.conn && !c.reset) {
            return; // The connection it came in on is gone: the answer has nowhere to go.
        }
        let code = pending.code;
        let packet = Packet {
            from,
            to,
            code,
            direction: Direction::Response,
            bytes: response.wire_bytes(),
        };
        self.transmit(now, packet, NodeEvent::Response { id, response });
    }

    /// Takes a pending request, if it is still pending (not answered, failed or timed out).
    pub fn take_pending(&mut self, node: NodeId, id: RequestId) -> bool {
        self.slots[node.index()].pending.remove(&id).is_some()
    }

    /// The pending requests `node` wrote on connection `conn`, removed.
    pub fn take_pending_on(&mut self, node: NodeId, conn: u64) -> Vec<RequestId> {
        let slot = &mut self.slots[node.index()];
        let ids: Vec<RequestId> = slot
            .pending
            .iter()
            .filter(|(_, p)| p.conn == conn)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            slot.pending.remove(id);
        }
        ids
    }

    /// `node` closes its connection to `peer` (a client after a timeout): the requests pending
    /// on it fail now; the peer learns of the close one hop later.
    pub fn close_connection(&mut self, now: Time, node: NodeId, peer: NodeId) {
        let Some(conn) = self.slots[node.index()].connections.remove(&peer) else {
            return;
        };
        for id in self.take_pending_on(node, conn.id) {
            self.schedule(node, now, NodeEvent::Closed { id });
        }
        if self.slots[peer.index()].status == Status::Running {
            let at = self.net.close_arrives(now, node, peer);
            let closed = NodeEvent::ConnectionClosed {
                peer: node,
                conn: conn.id,
            };
            self.schedule(peer, at, closed);
        }
    }

    // --- process lifecycle (called by the supervisor) -----------------------------------

    /// The process of `node` stops. After a kill its peers see their connections reset;
    /// after power or disk loss they hear nothing.
    pub fn stop(&mut self, now: Time, node: NodeId, how: Stop) {
        let slot = &mut self.slots[node.index()];
        slot.status = match how {
            Stop::Kill | Stop::Shutdown => Status::Killed,
            Stop::PowerOff | Stop::DiskLoss => Status::Off,
        };
        slot.queue.clear();
        slot.pending.clear();
        slot.waker = None;
        slot.armed.clear();
        let peers: Vec<(NodeId, Connection)> =
            std::mem::take(&mut slot.connections).into_iter().collect();
        if matches!(how, Stop::PowerOff | Stop::DiskLoss) {
            // The machine's buffers die with it: packets it had not started sending vanish.
            self.net.sender_lost(node, now);
            for slot in &mut self.slots {
                slot.queue.retain(|Reverse(s)| {
                    !s.sent
                        .is_some_and(|(from, starts)| from == node && starts > now)
                });
            }
        }
        if matches!(how, Stop::Kill | Stop::Shutdown) {
            for (peer, conn) in peers {
                if self.slots[peer.index()].status == Status::Running {
                    let at = self.net.close_arrives(now, node, peer);
                    let closed = NodeEvent::ConnectionClosed {
                        peer: node,
                        conn: conn.id,
                    };
                    self.schedule(peer, at, closed);
                }
            }
        }
        self.record_sim(now, Some(node), SimEvent::Stopped { how });
    }

    /// A node asks to crash itself (see `model::node::Io::exit`).
    pub fn request_exit(&mut self, node: NodeId, restart_after_ms: Option<u64>) {
        self.exits.insert(node, restart_after_ms);
    }

    /// Takes a node's crash request, if it made one.
    pub fn take_exit(&mut self, node: NodeId) -> Option<Option<u64>> {
        self.exits.remove(&node)
    }

    /// A crashed node is to start again at `at`.
    /// An operator switched the node's role: its next start runs its other process.
    pub fn switch_role(&mut self, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        slot.switched = !slot.switched;
    }

    pub fn switched(&self, node: NodeId) -> bool {
        self.slots[node.index()].switched
    }

    pub fn schedule_restart(&mut self, node: NodeId, madsim_id: madsim::task::NodeId, at: Time) {
        self.restarts.push((at, node, madsim_id));
    }

    /// The restarts due by `now`.
    pub fn due_restarts(&mut self, now: Time) -> Vec<(NodeId, madsim::task::NodeId)> {
        let (due, later): (Vec<_>, Vec<_>) =
            self.restarts.drain(..).partition(|(at, ..)| *at <= now);
        self.restarts = later;
        due.into_iter().map(|(_, node, id)| (node, id)).collect()
    }

    /// Marks a node whose process has not booted yet: nothing listens there.
    pub fn not_booted(&mut self, node: NodeId) {
        self.slots[node.index()].status = Status::Killed;
    }

    /// The node's process booted for the first time.
    pub fn booted(&mut self, node: NodeId) {
        self.slots[node.index()].status = Status::Running;
    }

    /// How often the node's process was restarted.
    pub fn incarnation(&self, node: NodeId) -> u32 {
        self.slots[node.index()].incarnation
    }

    /// The process of `node` starts again (its host loop is about to run).
    pub fn start(&mut self, now: Time, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        slot.status = Status::Running;
        slot.incarnation += 1;
        self.record_sim(now, Some(node), SimEvent::Started);
    }

    // --- trace ---------------------------------------------------------------------------

    /// Adds a handled event to the digest (and the trace log, if kept).
    pub fn trace_event(&mut self, at: Time, node: NodeId, event: &NodeEvent) {
        self.events_handled += 1;
        if self.events_handled >= self.event_budget && self.over_budget.is_none() {
            self.over_budget = Some(format!(
                "the run exceeded its event budget of {} events at {at}",
                self.event_budget
            ));
        }
        let (kind, peer, code, id) = match event {
            NodeEvent::Request { from, id, request } => {
                (1, from.0, request.code().number(), id.map_or(0, |id| id.0))
            }
            NodeEvent::Response { id, response } => (2, 0, response.code.number(), id.0),
            NodeEvent::Refused { id } => (3, 0, 0, id.0),
            NodeEvent::Closed { id } => (8, 0, 0, id.0),
            NodeEvent::Timeout { id } => (4, 0, 0, id.0),
            NodeEvent::Timer(_) => (5, 0, 0, 0),
            NodeEvent::Flushed(flush) => (6, 0, 0, flush.0),
            NodeEvent::ConnectionClosed { peer, .. } => (7, peer.0, 0, 0),
            NodeEvent::Shutdown => (9, 0, 0, 0),
        };
        self.digest.add(&TraceItem {
            at,
            node,
            kind,
            peer,
            code,
            id,
        });
        if self.trace.is_some() {
            let line = self.describe(at, node, event);
            if let Some(trace) = &mut self.trace {
                trace.push(line);
            }
        }
    }

    fn describe(&self, at: Time, node: NodeId, event: &NodeEvent) -> String {
        let me = self.name(node);
        match event {
            NodeEvent::Request { from, id, request } => {
                let id = id.map_or("oneway".to_string(), |id| format!("#{}", id.0));
                format!("{at} {me} <- {} {} {id}", self.name(*from), request.code())
            }
            NodeEvent::Response { id, response } => {
                format!("{at} {me} <- response #{} {}", id.0, response.code)
            }
            NodeEvent::Refused { id } => format!("{at} {me} request #{} refused", id.0),
            NodeEvent::Closed { id } => {
                format!("{at} {me} request #{} failed: connection closed", id.0)
            }
            NodeEvent::Timeout { id } => format!("{at} {me} request #{} timeout due", id.0),
            NodeEvent::Timer(timer) => format!("{at} {me} timer {timer:?}"),
            NodeEvent::Flushed(flush) => format!("{at} {me} flush {} done", flush.0),
            NodeEvent::ConnectionClosed { peer, .. } => {
                format!("{at} {me} connection to {} closed", self.name(*peer))
            }
            NodeEvent::Shutdown => format!("{at} {me} shutdown"),
        }
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod connection_tests;

//! The shared state of one run: every node's event queue, pending requests and connections,
//! the network, the history and the trace digest. Its jobs live in their own files: `queues`
//! (what is due, and the timers that wake a host), `transport` (connections, requests and
//! responses), `lifecycle` (stops, starts, exits, role switches) and `trace` (the digest and
//! the event budget).
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

mod lifecycle;
mod queues;
mod trace;
mod transport;

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
    /// Boxed: the queue is a binary heap, and each push and pop moves its entries up and down
    /// it, so an entry is kept small (40 bytes, not 216).
    event: Box<NodeEvent>,
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
    /// How far the machine's wall clock stands from true time (clock faults).
    clock_offset_ms: i64,
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
    /// Handled events per kind, when the run counts them (`sim bench`).
    pub event_kinds: Option<BTreeMap<String, u64>>,
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
    /// Each DLedger group's latest leader: the member that announced the highest term.
    pub dledger_leaders: BTreeMap<String, (u64, NodeId)>,
}

impl World {
    /// How far `node`'s wall clock stands from true time.
    pub fn clock_offset_ms(&self, node: NodeId) -> i64 {
        self.slots[node.index()].clock_offset_ms
    }

    /// `node`'s wall clock steps by `by_ms` (a clock fault); returns its offset now.
    pub fn step_clock(&mut self, node: NodeId, by_ms: i64) -> i64 {
        let slot = &mut self.slots[node.index()];
        slot.clock_offset_ms += by_ms;
        slot.clock_offset_ms
    }

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
                clock_offset_ms: 0,
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
            event_kinds: None,
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

    /// The member of a DLedger group that last announced its leadership, and its name.
    pub fn dledger_leader(&self, group: &str) -> Option<(NodeId, String)> {
        let (_, node) = self.progress.dledger_leaders.get(group)?;
        Some((*node, self.name(*node).to_string()))
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
            Event::DLedgerLeader { group, term, .. } => {
                let latest = self.progress.dledger_leaders.get(group);
                if latest.is_none_or(|(known, _)| known <= term) {
                    let leader = (*term, node);
                    self.progress.dledger_leaders.insert(group.clone(), leader);
                }
            }
            _ => {}
        }
        self.record(at, Some(node), Recorded::Model(event));
    }

    pub fn record_sim(&mut self, at: Time, node: Option<NodeId>, event: SimEvent) {
        self.record(at, node, Recorded::Sim(event));
    }
}

#[cfg(test)]
mod connection_tests;

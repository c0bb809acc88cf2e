//! A scenario as a run sees it: checked, with node names resolved to ids and scenario words
//! turned into model settings. `validate` builds it; `cluster` and the checker read it.

use super::schema::{FaultPhase, FlushMode, MasterRole};
use super::units::{Condition, MillisRange};
use crate::net::Direction;
use crate::ratio::Ratio;
use model::NodeId;
use model::client::consumer::ConsumeMode;
use model::event::SendMode;
use model::protocol::RequestCode;

/// A scenario, checked and resolved.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: String,
    /// The matrix cell this scenario is, e.g. `flush=sync,fault=kill`.
    pub cell: Option<String>,
    pub name: String,
    pub summary: String,
    pub teaches: String,
    pub duration_ms: u64,
    pub drain_timeout_ms: u64,
    /// The auditor looks every record read back up by its key.
    pub query_index: bool,
    /// How much simulated time and how many events the run may take.
    pub budget: Budget,
    pub latency: MillisRange,
    pub flush_latency: MillisRange,
    pub cluster_name: String,
    /// Every node, in id order.
    pub nodes: Vec<NodeDecl>,
    pub broker_groups: Vec<BrokerGroup>,
    pub topics: Vec<Topic>,
    pub producers: Vec<Producer>,
    pub consumers: Vec<ConsumerGroup>,
    pub faults: Vec<Fault>,
    pub expect: Expectations,
    pub bugs: Bugs,
    /// Random fault schedules drawn per seed (see `crate::swarm`).
    pub swarm: Option<Swarm>,
}

/// A resolved `[swarm]` table.
#[derive(Clone, Debug)]
pub struct Swarm {
    pub kinds: Vec<super::schema::FaultKind>,
    pub targets: Vec<NodeId>,
    pub min_faults: u32,
    pub max_faults: u32,
    pub window: MillisRange,
    pub lasts: MillisRange,
    /// The request codes a drawn drop or delay matches, one drawn per fault (none: all).
    pub requests: Vec<model::protocol::RequestCode>,
}

/// How long the drain may take by default before the run counts as not drained.
pub const DEFAULT_DRAIN_TIMEOUT_MS: u64 = 300_000;
/// How long the read-back may take before the run counts as not read back.
pub const READ_BACK_TIMEOUT_MS: u64 = 120_000;

/// How long the read-back may take: consumers may still be working through long retry chains
/// (the delay levels reach hours), so it is as long as the drain may be, and no less than
/// [`READ_BACK_TIMEOUT_MS`].
pub fn read_back_timeout_ms(drain_timeout_ms: u64) -> u64 {
    drain_timeout_ms.max(READ_BACK_TIMEOUT_MS)
}

/// What a run may spend; past either, it ends as liveness-unknown with the reason.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Simulated time from zero.
    pub simulated_ms: u64,
    /// Events handled by all nodes together.
    pub events: u64,
}

#[derive(Clone, Debug)]
pub struct NodeDecl {
    pub name: String,
    pub role: NodeRole,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeRole {
    NameServer,
    /// A broker of group `group` (index into `broker_groups`) with this broker id.
    Broker {
        group: usize,
        broker_id: u64,
    },
    /// Instance `instance` of producer `producer`; `client` numbers every producer instance of
    /// the scenario densely (it is the producer part of message ids).
    Producer {
        producer: usize,
        instance: u32,
        client: u32,
    },
    /// Instance `instance` of consumer group `group` (index into `consumers`).
    Consumer {
        group: usize,
        instance: u32,
    },
    /// Reads every queue back after the drain.
    Auditor,
    /// The operator's admin tool, on its own machine: present when a `query-keys` fault is.
    Operator,
}

#[derive(Clone, Debug)]
pub struct BrokerGroup {
    pub name: String,
    pub flush: FlushMode,
    /// The master's role; a DLedger group's is SYNC_MASTER, the role its leader takes
    /// (`DLedgerRoleChangeHandler.changeToMaster(SYNC_MASTER)`).
    pub role: MasterRole,
    pub transient_store_pool: bool,
    pub commit_log_file_size: u64,
    pub consume_queue_file_entries: u64,
    /// The index files' slots and entries.
    pub index: model::broker::store::index::IndexShape,
    pub sync_flush_timeout_ms: u64,
    pub slave_read_enable: bool,
    /// `TOTAL_PHYSICAL_MEMORY_SIZE` of each machine of the group.
    pub memory_bytes: u64,
    /// `waitTimeMillsInSendQueue` and `osPageCacheBusyTimeOutMills`.
    pub send_queue_wait_ms: u64,
    pub page_cache_busy_timeout_ms: u64,
    pub transaction: model::broker::TransactionConfig,
    pub retention: Retention,
    /// `haSlaveFallbehindMax`, `haTransferBatchSize`, `slaveTimeout`.
    pub ha: HaLimits,
    /// `Some` for a DLedger group (`replication = "dledger"`): its members' settings.
    pub dledger: Option<DLedgerGroup>,
    /// Master first, then slaves; in a DLedger group, its members `n0`, `n1`, ... in order.
    pub nodes: Vec<NodeId>,
}

impl BrokerGroup {
    /// Whether the group replicates through DLedger.
    pub fn is_dledger(&self) -> bool {
        self.dledger.is_some()
    }
}

/// The limits of a classic group's replication.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HaLimits {
    pub slave_fallbehind_max: u64,
    pub transfer_batch_size: u64,
    pub slave_timeout_ms: u64,
    pub heartbeat_interval_ms: u64,
    pub housekeeping_interval_ms: u64,
}

/// A broker group's retention settings and its machines' disk size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// `fileReservedTime`.
    pub file_reserved_time_ms: u64,
    /// `deleteWhen`: the hours of the day, validated.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio`, in percent.
    pub disk_max_used_space_percent: u64,
    /// `cleanResourceInterval`.
    pub clean_resource_interval_ms: u64,
    /// `cleanFileForciblyEnable`.
    pub clean_file_forcibly: bool,
    /// Each machine's disk size; `None` is unbounded.
    pub disk_bytes: Option<u64>,
}

/// A DLedger group's settings. Its members are the group's `nodes`, member `k` with DLedger id
/// `nk`; `n0` is the static leader for now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DLedgerGroup {
    /// `maxWaitAckTimeMs`.
    pub max_wait_ack_ms: u64,
    /// `maxPushTimeOutMs`.
    pub max_push_timeout_ms: u64,
    /// `flushFileInterval`.
    pub flush_interval_ms: u64,
    /// `checkPointInterval`.
    pub checkpoint_interval_ms: u64,
    /// `maxPendingRequestsNum`.
    pub max_pending_requests: usize,
}

impl DLedgerGroup {
    /// The static leader's member index (`n0`).
    pub const LEADER: usize = 0;

    /// The DLedger id of member `member`: `n0`, `n1`, ...
    pub fn member_id(member: usize) -> String {
        format!("n{member}")
    }

    /// The broker id member `member` runs with: the leader is the master (0, as
    /// `changeToMaster` sets it); a follower is a slave with `DLedgerCommitLog`'s id, its
    /// DLedger id's number + 1.
    pub fn broker_id(member: usize) -> u64 {
        match member {
            Self::LEADER => 0,
            follower => follower as u64 + 1,
        }
    }

    /// The member that runs with broker id `broker_id` (the inverse of [`Self::broker_id`]).
    pub fn member(broker_id: u64) -> usize {
        match broker_id {
            0 => Self::LEADER,
            id => {
                assert!(id >= 2, "no DLedger member runs with broker id {id}");
                (id - 1) as usize
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Topic {
    pub name: String,
    /// The ConsumeQueues each hosting group may hold: the most read or write queues the topic
    /// has at any time of the run (an `update-topic` may grow them).
    pub queues: u32,
    /// `readQueueNums`, `writeQueueNums` and `perm` at the start.
    pub read_queues: u32,
    pub write_queues: u32,
    pub perm: u8,
    /// Indexes into `broker_groups`.
    pub groups: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Producer {
    pub group: String,
    pub topic: String,
    pub send: SendMode,
    pub messages: u32,
    pub interval_ms: u64,
    pub start_ms: u64,
    pub keys: Option<u32>,
    /// How the producer picks a queue.
    pub selector: super::schema::SelectorName,
    /// With the machine-room selector: the broker groups in the producer's room.
    pub room_brokers: Vec<String>,
    pub body_bytes: u64,
    pub retries: u32,
    pub timeout_ms: u64,
    pub latency_fault_tolerance: bool,
    pub retry_when_not_store_ok: bool,
    pub app_retries: u32,
    /// `delayTimeLevel` of every message.
    pub delay_level: Option<u32>,
    /// A transactional producer's local transactions.
    pub transaction: Option<crate::workload::transaction::TransactionSpec>,
    /// The tags its messages cycle through (none: no tag).
    pub tags: Vec<String>,
    pub nodes: Vec<NodeId>,
}

/// A consumer group: its settings and its instances.
#[derive(Clone, Debug)]
pub struct ConsumerGroup {
    pub group: String,
    pub topic: String,
    pub broadcasting: bool,
    pub mode: ConsumeMode,
    pub strategy: model::client::consumer::Strategy,
    pub consume_from_first: bool,
    /// `CONSUME_FROM_TIMESTAMP`: the wall-clock `consumeTimestamp`.
    pub consume_timestamp_ms: Option<u64>,
    /// `consumeMessageBatchMaxSize` and `consumeThreadMax`, when the file sets them (the
    /// model's defaults otherwise).
    pub batch: Option<usize>,
    pub threads: Option<usize>,
    pub max_reconsume_times: Option<u32>,
    pub nodes: Vec<NodeId>,
    /// When each instance boots, if not with the cluster.
    pub starts_ms: Vec<Option<u64>>,
    /// What each instance's listener does.
    pub listeners: Vec<Listener>,
    /// Each instance's subscription expression (`*`, or tags joined by `||`).
    pub subscriptions: Vec<String>,
}

impl ConsumerGroup {
    /// An orderly push consumer (`MessageListenerOrderly`).
    pub fn orderly(&self) -> bool {
        self.mode == ConsumeMode::Orderly
    }

    /// A lite pull consumer (no listener, no send-back).
    pub fn lite_pull(&self) -> bool {
        self.mode == ConsumeMode::LitePull
    }
}

/// What a consumer instance's listener does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub consume_time: MillisRange,
    pub fail: Ratio,
    pub crash_after: Option<u32>,
    pub restart_after_ms: u64,
    /// Every `.0` messages, one that takes `.1` ms.
    pub stuck: Option<(u32, u64)>,
}

#[derive(Clone, Debug)]
pub struct Fault {
    /// Position in the file, from 0; names the fault in the history.
    pub index: usize,
    pub at: MillisRange,
    pub lasts_ms: Option<u64>,
    /// The phase `at` counts in.
    pub phase: FaultPhase,
    pub spec: FaultSpec,
    /// A one-line description for the history and reports.
    pub description: String,
    /// Its fields that name a DLedger group's role: the fault is planned when it fires.
    pub aims: Vec<crate::fault::aim::Aim>,
}

impl Fault {
    /// When the fault's `at` counts from: the start, or the heal at the run phase's end.
    pub fn origin_ms(&self, duration_ms: u64) -> u64 {
        match self.phase {
            FaultPhase::Run => 0,
            FaultPhase::Drain => duration_ms,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeFault {
    Kill,
    Shutdown,
    /// An operator switches a broker between master and slave.
    SwitchRole,
    PowerOff {
        returns: bool,
    },
    OsCrash,
    DiskLoss {
        returns: bool,
    },
    Pause,
}

#[derive(Clone, Debug)]
pub enum FaultSpec {
    /// Something happens to one node, drawn per seed from `candidates`.
    Node {
        fault: NodeFault,
        candidates: Vec<NodeId>,
    },
    Partition {
        a: Vec<NodeId>,
        b: Vec<NodeId>,
        one_way: bool,
    },
    Drop {
        direction: Direction,
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
        codes: Vec<RequestCode>,
        probability: Ratio,
    },
    Delay {
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
        codes: Vec<RequestCode>,
        extra: MillisRange,
    },
    Bandwidth {
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
        codes: Vec<RequestCode>,
        bytes_per_second: u64,
    },
    SlowDisk {
        candidates: Vec<NodeId>,
        extra_ms: u64,
    },
    /// A byte of a broker's newest commitlog file rots.
    BitRot { candidates: Vec<NodeId> },
    /// An operator changes a topic's queue numbers and permission.
    UpdateTopic(crate::fault::topic::TopicUpdate),
    /// An operator's call from the operator's machine: a query by key, a reset of a group's
    /// offsets, a message handed to a consumer directly.
    Operator(OperatorCall),
    /// A node's wall clock steps by `by_ms`, and back at the end if `undone` (a skew).
    Clock {
        candidates: Vec<NodeId>,
        by_ms: i64,
        undone: bool,
    },
}

/// What an operator does from the operator's machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorCall {
    QueryKeys(crate::fault::query::KeysQuery),
    ResetOffset(crate::fault::redeliver::OffsetReset),
    ConsumeDirectly(crate::fault::redeliver::DirectConsume),
}

impl OperatorCall {
    /// The broker groups the call goes to.
    pub fn brokers(&self) -> &[String] {
        match self {
            OperatorCall::QueryKeys(query) => &query.brokers,
            OperatorCall::ResetOffset(reset) => &reset.brokers,
            OperatorCall::ConsumeDirectly(direct) => &direct.brokers,
        }
    }
}

impl FaultSpec {
    /// Whether the fault ends, at its `for` or else at the heal; a role switch, a topic
    /// update, bit rot, a clock's jump and a machine that never returns stay.
    pub fn ends(&self) -> bool {
        match self {
            FaultSpec::Node { fault, .. } => !matches!(
                fault,
                NodeFault::SwitchRole
                    | NodeFault::PowerOff { returns: false }
                    | NodeFault::DiskLoss { returns: false }
            ),
            FaultSpec::BitRot { .. } | FaultSpec::UpdateTopic(_) | FaultSpec::Operator(_) => false,
            FaultSpec::Clock { undone, .. } => *undone,
            _ => true,
        }
    }
}

/// What must hold: a condition per row of the expectations' table
/// (`check::expectations::TABLE`), by its position there; `None` or `observe` means reported
/// only.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    conditions: Vec<Option<Condition>>,
}

impl Expectations {
    /// One condition per row of the table, in its order.
    pub fn new(conditions: Vec<Option<Condition>>) -> Expectations {
        assert_eq!(
            conditions.len(),
            crate::check::expectations::TABLE.len(),
            "a condition per expectation"
        );
        Expectations { conditions }
    }

    /// Each row's condition, in the table's order.
    pub fn conditions(&self) -> &[Option<Condition>] {
        &self.conditions
    }

    /// The condition of the expectation named `name`.
    pub fn get(&self, name: &str) -> Option<&Condition> {
        let position = crate::check::expectations::position(name)?;
        self.conditions.get(position)?.as_ref()
    }
}

/// Deliberate defects (`[bugs]`): the table as written, every switch off by default.
pub use super::schema::BugsSection as Bugs;

//! What nodes report for the history: everything the checker and the report may reason about.
//!
//! The checker reads only these (and the harness's own fault records), never node internals,
//! so every fact a verdict or an explanation needs must be emitted here.

use crate::ids::{MessageId, NodeId};
use crate::time::Time;
use serde::{Deserialize, Serialize};

/// How a producer sends (`CommunicationMode`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendMode {
    Sync,
    Async,
    Oneway,
    /// `sendMessageInTransaction`: a sync send of a half message, then the local
    /// transaction, then END_TRANSACTION.
    Transaction,
}

impl SendMode {
    /// Sends that wait for their answer and retry as sync sends do.
    pub fn is_sync(self) -> bool {
        matches!(self, SendMode::Sync | SendMode::Transaction)
    }
}

/// A local transaction's state (`LocalTransactionState`), and what END_TRANSACTION asks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionState {
    Commit,
    Rollback,
    Unknown,
}

impl TransactionState {
    pub fn name(self) -> &'static str {
        match self {
            TransactionState::Commit => "COMMIT_MESSAGE",
            TransactionState::Rollback => "ROLLBACK_MESSAGE",
            TransactionState::Unknown => "UNKNOW",
        }
    }
}

/// A broker's answer to a stored message (`SendStatus`). Every one means "stored on the
/// master"; only `SendOk` promises the configured durability.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SendStatus {
    SendOk,
    FlushDiskTimeout,
    FlushSlaveTimeout,
    SlaveNotAvailable,
}

impl SendStatus {
    pub fn name(self) -> &'static str {
        match self {
            SendStatus::SendOk => "SEND_OK",
            SendStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            SendStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
            SendStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
        }
    }
}

/// Why a name server dropped a broker.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemovalReason {
    /// The broker's connection closed (its process died): removed at once.
    ChannelClosed,
    /// No registration for 120 s: removed by the periodic scan.
    Expired,
}

/// One broker group as a client's route shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteBroker {
    pub name: String,
    /// Broker ids present (0 = master).
    pub ids: Vec<u64>,
}

/// One message of a listener call, as the application saw it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListenedMessage {
    /// `None` when the message carries no readable `UNIQ_KEY`.
    pub id: Option<MessageId>,
    /// The queue it came from: its topic (possibly `%RETRY%group`), id and offset, on the
    /// broker that stored it.
    pub topic: String,
    pub queue_id: u32,
    pub queue_offset: u64,
    pub store_host: NodeId,
    pub reconsume_times: u32,
}

/// One ConsumeQueue entry: the queue (topic and id) and the entry's offset in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueEntry {
    pub topic: String,
    pub queue_id: u32,
    pub offset: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    // --- name server ---
    /// A broker address registered for the first time (or again after removal).
    BrokerRegistered {
        broker: String,
        broker_id: u64,
        addr: NodeId,
    },
    /// A broker address was removed from the route tables.
    BrokerRemoved {
        broker: String,
        broker_id: u64,
        addr: NodeId,
        reason: RemovalReason,
        /// When its last registration reached this name server.
        last_update: Time,
    },

    // --- client route cache ---
    /// A client's cached route of a topic changed.
    RouteChanged {
        topic: String,
        name_server: NodeId,
        brokers: Vec<RouteBroker>,
    },

    // --- producer operations (Jepsen-style invoke / ok / fail / info) ---
    SendInvoke {
        id: MessageId,
        topic: String,
        key: Option<String>,
        /// The message's tag (its `TAGS` property), which subscriptions filter on.
        tags: Option<String>,
        mode: SendMode,
        /// CRC32 of the body as sent, to compare with what is stored.
        body_crc: u32,
    },
    /// One attempt of a send failed; the producer may retry.
    SendAttemptFailed {
        id: MessageId,
        attempt: u32,
        broker: String,
        error: String,
    },
    SendOk {
        id: MessageId,
        status: SendStatus,
        broker: String,
        /// The broker node that stored it.
        store_host: NodeId,
        queue_id: u32,
        queue_offset: u64,
        commit_log_offset: u64,
        /// The record's size in the commitlog.
        size: u32,
        attempts: u32,
    },
    /// The message was certainly not stored.
    SendFail {
        id: MessageId,
        error: String,
        attempts: u32,
    },
    /// The outcome is unknown: some attempt may have been stored.
    SendInfo {
        id: MessageId,
        error: String,
        attempts: u32,
    },

    // --- transactions ---
    /// The application's local transaction of a half message is decided and durable in its
    /// own database (the producer machine's disk). Emitted by the application, never by the
    /// model: what "committed" means for the checker.
    TransactionDecided {
        id: MessageId,
        state: TransactionState,
    },
    /// A producer sent END_TRANSACTION (oneway) for a half message: after its local
    /// transaction, or answering a check. `to` is `None` when no master was known.
    TransactionEndSent {
        id: MessageId,
        state: TransactionState,
        from_check: bool,
        to: Option<NodeId>,
    },
    /// A broker stored a consumer's send-back: the retry (or dead-letter) copy of message
    /// `id` of `group`, at commitlog `put` with `size` bytes (answered SUCCESS, WAIT false).
    SentBack {
        broker: String,
        group: String,
        id: Option<MessageId>,
        put: u64,
        size: u32,
    },
    /// A master handled END_TRANSACTION. `put` is the commitlog offset of the real message
    /// it stored (a commit); `refused` why it did nothing.
    TransactionEnded {
        broker: String,
        /// The half the record at the request's offsets holds (the request's id when none).
        id: Option<MessageId>,
        /// The id the request named.
        requested: Option<MessageId>,
        state: TransactionState,
        from_check: bool,
        half_offset: u64,
        put: Option<u64>,
        size: u32,
        refused: Option<String>,
    },
    /// The check service re-put a half message (copy number `times`) and asked a producer of
    /// its group about it; `producer` is `None` when the group had no channel.
    TransactionChecked {
        broker: String,
        id: Option<MessageId>,
        times: u32,
        half_offset: u64,
        producer: Option<NodeId>,
    },
    /// The check service gave a half message up after `times` checks
    /// (`TRANS_CHECK_MAX_TIME_TOPIC`).
    TransactionDiscarded {
        broker: String,
        id: Option<MessageId>,
        times: u32,
    },

    /// The application driving a producer has sent all its messages and has none in flight.
    WorkloadFinished { messages: u32 },

    // --- broker store ---
    /// The commitlog is durable up to this physical offset.
    Flushed { broker: String, offset: u64 },
    /// A master learned that a slave holds its commitlog up to `offset` (the slave's report,
    /// `slaveAckOffset`); `master_offset` is how far the master's own log reaches.
    Replicated {
        broker: String,
        slave: NodeId,
        offset: u64,
        master_offset: u64,
    },
    /// A slave with an empty log took its first data from its master: its copy of the log
    /// starts at `offset` (a master starts a new slave at the beginning of its last file).
    ReplicaStarted { broker: String, offset: u64 },
    /// A slave refused what its master pushed: the data starts at `master_offset`, but the
    /// slave's log ends at `slave_offset` (it is ahead of, or diverged from, its master).
    ReplicaMismatch {
        broker: String,
        master: NodeId,
        master_offset: u64,
        slave_offset: u64,
    },
    /// A master closed a slave's connection whose later report claimed more than the master
    /// holds (`HAConnection`, 4.9.3+).
    ReplicaOverclaimed {
        broker: String,
        slave: NodeId,
        reported: u64,
        master_offset: u64,
    },
    /// The store recovered at start.
    Recovered {
        broker: String,
        abnormal: bool,
        /// The first offset of the CommitLog file recovery began its scan with (an abnormal
        /// recovery re-dispatches from there).
        scanned_from: u64,
        /// The commitlog's max offset after recovery.
        max_offset: u64,
        /// Bytes of torn or partial records cut from the tail.
        truncated_bytes: u64,
    },
    /// Dispatch wrote a record's ConsumeQueue entry where the queue ended, not at the queue
    /// offset the record carries, because the entries between were missing (4.9.8 logs
    /// "[BUG]logic queue order maybe wrong" and writes it anyway). From then on that entry
    /// points at a record of another queue offset: a slave whose master cut and reused
    /// offsets after a power loss drifts this way.
    ConsumeQueueMisplaced {
        broker: String,
        /// Where the entry went.
        entry: QueueEntry,
        /// The queue offset the record carries.
        queue_offset: u64,
        commit_log_offset: u64,
    },

    // --- DLedger elections ---
    /// A DLedger member granted its vote in `term` to `candidate` (itself included) and wrote
    /// it to its term file (never fsynced): the voter's own record of the grant.
    #[serde(rename = "dledger-vote-granted")]
    DLedgerVoteGranted {
        group: String,
        voter: String,
        term: u64,
        candidate: String,
    },
    /// A DLedger member became its group's leader in `term` (`changeRoleToLeader`).
    #[serde(rename = "dledger-leader")]
    DLedgerLeader {
        group: String,
        member: String,
        term: u64,
    },

    // --- DLedger logs ---
    /// A DLedger member wrote entry `index` of `term` to its log at data position `pos` (a
    /// leader's append, or a follower's APPEND or TRUNCATE of what its leader pushed): `crc`
    /// is the CRC32 of the entry's bytes as written, by which replicas are compared.
    #[serde(rename = "dledger-stored")]
    DLedgerStored {
        group: String,
        member: String,
        index: u64,
        term: u64,
        pos: u64,
        size: u32,
        crc: u32,
    },
    /// A DLedger member's log lost every entry from `from` on: a leader's TRUNCATE, or the
    /// member's recovery at start (`recovery`), which keeps what its data files held.
    #[serde(rename = "dledger-cut")]
    DLedgerCut {
        group: String,
        member: String,
        from: u64,
        recovery: bool,
    },
    /// A DLedger member's committed index moved to `index`; the committed entries end at data
    /// position `pos`.
    #[serde(rename = "dledger-committed")]
    DLedgerCommitted {
        group: String,
        member: String,
        index: u64,
        pos: u64,
    },
    /// A DLedger member's broker dispatched the records of the entries at data positions
    /// `from..to` to its ConsumeQueues.
    #[serde(rename = "dledger-dispatched")]
    DLedgerDispatched {
        group: String,
        member: String,
        from: u64,
        to: u64,
    },

    // --- consumers ---
    /// A consumer's listener (or a lite pull application) is done with a message: it was
    /// handed over `took_ms` ago, and the listener answered `consumed` (CONSUME_SUCCESS or
    /// SUCCESS) or asked for it again later. A batch the process died in is not delivered.
    Delivered {
        group: String,
        consumer: String,
        /// `None` when the message carries no readable `UNIQ_KEY`.
        id: Option<MessageId>,
        /// The message's own topic (a retried message's original one).
        topic: String,
        broker: String,
        /// The queue it was pulled from: its topic (possibly `%RETRY%group`), id and offset.
        queue_topic: String,
        queue_id: u32,
        queue_offset: u64,
        reconsume_times: u32,
        body_crc: u32,
        consumed: bool,
        took_ms: u64,
    },
    /// The client dropped a pulled message its subscription excludes by tag
    /// (`processPullResult`'s string compare): the broker's prefilter had let it through.
    ClientDroppedTag {
        group: String,
        consumer: String,
        broker: String,
        topic: String,
        queue_id: u32,
        queue_offset: u64,
        tag: Option<String>,
    },
    /// A consumer's rebalance computed its share of a topic's queues (the allocate strategy's
    /// answer, before the process queues follow it): `mine` out of `queues` queues, among
    /// `consumers` consumer ids.
    Allocated {
        group: String,
        consumer: String,
        topic: String,
        /// (broker, queue id) of each queue allocated to it.
        mine: Vec<(String, u32)>,
        consumers: u32,
        queues: u32,
    },
    /// A consumer took a queue and starts pulling it at `offset`.
    QueueAssigned {
        group: String,
        consumer: String,
        broker: String,
        topic: String,
        queue_id: u32,
        offset: u64,
    },
    /// A consumer gave a queue up (rebalanced away, or its offset was illegal).
    QueueDropped {
        group: String,
        consumer: String,
        broker: String,
        topic: String,
        queue_id: u32,
        reason: String,
    },
    /// A consumer started pulling a queue from a slave (or back from the master): with the
    /// master gone, or on the master's suggestion.
    PullReplica {
        group: String,
        consumer: String,
        broker: String,
        topic: String,
        queue_id: u32,
        slave: bool,
    },
    /// A pull's offset was illegal (PULL_OFFSET_MOVED); the consumer moves to `to`.
    OffsetMoved {
        group: String,
        consumer: String,
        broker: String,
        topic: String,
        queue_id: u32,
        from: u64,
        to: u64,
    },
    /// A broadcasting consumer's backlog (messages pulled-for but not consumed, or known to
    /// exist past its offsets) became zero, or stopped being zero.
    ConsumerLag { group: String, behind: u64 },
    /// The auditor saw every clustering group consume everything (the drain is over).
    ConsumersCaughtUp,
    /// The auditor's last route of a topic: how many queues a broker group lets consumers
    /// read, and whether it lets them read at all (`QueueData`'s `readQueueNums`, `perm`).
    ReadQueues {
        topic: String,
        broker: String,
        read_queue_nums: u32,
        readable: bool,
    },
    /// A broker applied an operator's UPDATE_AND_CREATE_TOPIC (`updateTopicConfig`).
    TopicUpdated {
        broker: String,
        topic: String,
        read_queue_nums: u32,
        write_queue_nums: u32,
        perm: u32,
    },
    /// The auditor's last look at a group's progress on a queue, from the broker group's
    /// current master (`GET_CONSUME_STATS`): the group's committed offset there.
    ConsumerProgress {
        group: String,
        broker: String,
        topic: String,
        queue_id: u32,
        consumer_offset: u64,
        broker_offset: u64,
    },

    // --- the application (the workload's listener), never the model ---
    /// The application's listener was called with a batch at this time; it stays inside for
    /// `duration_ms` and answers `success`, unless its process dies in the middle (`crashed`).
    /// The application emits this itself, so a consumer model that calls its listener when it
    /// should not cannot hide the call.
    ListenerCall {
        messages: Vec<ListenedMessage>,
        duration_ms: u64,
        success: bool,
        crashed: bool,
    },

    // --- final read-back (the auditor) ---
    /// A stored message found when reading a queue back after heal. `topic`, `queue_id`,
    /// `queue_offset` and `commit_log_offset` are the record's own fields; `entry` is the
    /// ConsumeQueue entry the auditor found it through.
    ReadBack {
        broker: String,
        /// The replica read (the master or a slave of the group).
        replica: NodeId,
        entry: QueueEntry,
        topic: String,
        queue_id: u32,
        queue_offset: u64,
        commit_log_offset: u64,
        /// `None` when the record carries no well-formed `UNIQ_KEY` (corrupt properties).
        id: Option<MessageId>,
        key: Option<String>,
        /// Bytes of the record (for explanations: a flush must pass its end).
        size: u32,
        /// CRC32 of the body as read back.
        body_crc: u32,
    },
    /// ConsumeQueue entries the auditor read that led to no record: the broker found nothing
    /// readable where they point (past the commitlog's end), or bytes that are no record.
    ReadBackNoRecord {
        broker: String,
        replica: NodeId,
        topic: String,
        queue_id: u32,
        /// The first queue offset concerned, and one past the last.
        from: u64,
        to: u64,
    },
    /// A queue could not be read back completely.
    ReadBackFailed {
        broker: String,
        replica: NodeId,
        topic: String,
        queue_id: u32,
        error: String,
    },
    /// The auditor looked a record it read from `replica` up by its `UNIQ_KEY`
    /// (QUERY_MESSAGE): whether the answer held it.
    IndexLookup {
        broker: String,
        replica: NodeId,
        id: MessageId,
        found: bool,
    },
    /// Every queue has been read back (or given up on).
    ReadBackDone { queues: u32 },

    // --- an operator's queries ---
    /// An operator looked `key` of `topic` up on `replica` (QUERY_MESSAGE, as `mqadmin
    /// queryMsgByKey` does): the messages the answer held with that key, by their `UNIQ_KEY`;
    /// `capped` when it held as many records as a query may return (more may exist).
    KeysQueried {
        /// When the round of queries this answer belongs to began.
        asked: Time,
        broker: String,
        replica: NodeId,
        topic: String,
        key: String,
        found: Vec<MessageId>,
        capped: bool,
    },
    /// A broker answered an operator's reset of `group`'s offsets of `topic` by time
    /// (INVOKE_BROKER_TO_RESET_OFFSET, as `mqadmin resetOffsetByTime` does): the offset of
    /// each queue id it sent the group's consumers. Refused resets are not reported.
    OffsetsReset {
        /// When the operator asked.
        asked: Time,
        broker: String,
        group: String,
        topic: String,
        /// The wall-clock time asked for (`None`: `now`, the queues' ends).
        timestamp_ms: Option<u64>,
        offsets: Vec<(u32, u64)>,
    },
    /// An operator sent CONSUME_MESSAGE_DIRECTLY of message `id` for the client `client` of
    /// `group` (the console's resend): the next delivery of it to that client is this one.
    DirectConsumeAsked {
        group: String,
        client: String,
        id: MessageId,
    },
    /// An operator's CONSUME_MESSAGE_DIRECTLY came back through `broker`: the client
    /// `client` of `group` was handed message `id` and `consumed` it or not (`None`: the call
    /// failed or timed out, whatever the listener did).
    ConsumedDirectly {
        asked: Time,
        broker: String,
        group: String,
        client: String,
        id: MessageId,
        consumed: Option<bool>,
    },
}

//! The scenario file format, as serde reads it. Defaults are stated where each field is
//! declared; the broker's store defaults are the model's own (`StoreConfig::default()`), so
//! they have one home. Semantic checks (names that must exist, values that must fit together) live in
//! `validate`.

use super::units::{
    Bandwidth, Bytes, Condition, CountCondition, Millis, MillisRange, Rate, SignedMillis,
    TimeCondition,
};
use crate::ratio::Ratio;
use model::broker::config::{StoreConfig, TransactionConfig};
use model::dledger::config::{DLedgerConfig, Peer};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    /// One line: what happens.
    pub summary: String,
    /// The trade-off the scenario teaches, in a few sentences.
    pub teaches: String,
    /// Length of the run phase (faults happen here); heal, drain and read-back follow.
    pub duration: Millis,
    /// How long the drain may take before the run counts as not drained. Default 300 s.
    #[serde(default)]
    pub drain_timeout: Option<Millis>,
    /// After the read-back, the auditor looks every record it read up by its `UNIQ_KEY`
    /// (QUERY_MESSAGE) on the replica it read it from: `index_missing`. Default false.
    #[serde(default)]
    pub query_index: bool,
    #[serde(default)]
    pub network: NetworkSection,
    #[serde(default)]
    pub disk: DiskSection,
    pub cluster: ClusterSection,
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicSection>,
    #[serde(default, rename = "producer")]
    pub producers: Vec<ProducerSection>,
    #[serde(default, rename = "consumer")]
    pub consumers: Vec<ConsumerSection>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<FaultSection>,
    #[serde(default)]
    pub expect: ExpectSection,
    /// Deliberate defects, to prove the checker sees what they break.
    #[serde(default)]
    pub bugs: BugsSection,
    /// Random fault schedules: each seed draws its own faults from this atlas.
    #[serde(default)]
    pub swarm: Option<SwarmSection>,
    /// What a run may spend before it ends as liveness-unknown. Default: from the phases.
    #[serde(default)]
    pub budget: BudgetSection,
    /// Axes of a scenario matrix (see `matrix`); already substituted when this is read.
    #[serde(default)]
    pub matrix: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// One-way latency of every hop, drawn uniformly. Default "1ms..3ms"; at least 1 ms.
    #[serde(default = "default_latency")]
    pub latency: MillisRange,
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection {
            latency: default_latency(),
        }
    }
}

fn default_latency() -> MillisRange {
    MillisRange {
        min: Millis(1),
        max: Millis(3),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSection {
    /// How long an fsync takes, drawn uniformly. Default "1ms..8ms".
    #[serde(default = "default_flush_latency")]
    pub flush_latency: MillisRange,
}

impl Default for DiskSection {
    fn default() -> Self {
        DiskSection {
            flush_latency: default_flush_latency(),
        }
    }
}

fn default_flush_latency() -> MillisRange {
    MillisRange {
        min: Millis(1),
        max: Millis(8),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// Cluster name brokers register under. Default "DefaultCluster".
    #[serde(default = "default_cluster_name")]
    pub name: String,
    /// How many name servers (`namesrv-0`, `namesrv-1`, ...). Default 2.
    #[serde(default = "default_name_servers")]
    pub name_servers: u32,
    #[serde(rename = "broker_group")]
    pub broker_groups: Vec<BrokerGroupSection>,
}

fn default_cluster_name() -> String {
    "DefaultCluster".to_string()
}

fn default_name_servers() -> u32 {
    2
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlushMode {
    Async,
    Sync,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MasterRole {
    AsyncMaster,
    SyncMaster,
}

/// How a broker group replicates.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replication {
    /// A master and `slaves` (HAService): the file names the master's role.
    #[default]
    Classic,
    /// `enableDLegerCommitLog`: `peers` members of a DLedger group (`DLedgerCommitLog`), which
    /// elects its own master.
    Dledger,
    /// Classic, its master an ASYNC_MASTER (`role` said in the same word, so that one key can
    /// choose among the three in a matrix).
    AsyncMaster,
    /// Classic, its master a SYNC_MASTER.
    SyncMaster,
}

impl Replication {
    /// The master role the value names, for the classic shorthands.
    pub fn role(self) -> Option<MasterRole> {
        match self {
            Replication::AsyncMaster => Some(MasterRole::AsyncMaster),
            Replication::SyncMaster => Some(MasterRole::SyncMaster),
            Replication::Classic | Replication::Dledger => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerGroupSection {
    /// The group's broker name. Classic: its master is the node of the same name, slaves are
    /// `<name>-s1`, `<name>-s2`, ... DLedger: its members are `<name>-n0` .. `<name>-n{peers-1}`.
    pub name: String,
    /// `flushDiskType`. Default "async".
    #[serde(default = "default_flush")]
    pub flush: FlushMode,
    /// "classic" or "dledger", or "async-master" / "sync-master" for classic with that role.
    /// Default "classic".
    #[serde(default)]
    pub replication: Replication,
    /// `brokerRole` of the master; classic only. Default "async-master".
    #[serde(default)]
    pub role: Option<MasterRole>,
    /// How many slaves replicate the master; classic only. Default 0.
    #[serde(default)]
    pub slaves: Option<u32>,
    /// The group's machines: members of a DLedger group (`dLegerPeers`), 3 or 5 (default 3);
    /// for a classic group, the master and `peers - 1` slaves (instead of `slaves`).
    #[serde(default)]
    pub peers: Option<u32>,
    /// `maxWaitAckTimeMs`; dledger only. Default: `DLedgerConfig`'s (2.5s).
    #[serde(default)]
    pub dledger_max_wait_ack: Option<Millis>,
    /// `maxPushTimeOutMs`; dledger only. Default: `DLedgerConfig`'s (1s).
    #[serde(default)]
    pub dledger_max_push_timeout: Option<Millis>,
    /// `flushFileInterval`; dledger only. Default: `DLedgerConfig`'s (10ms).
    #[serde(default)]
    pub dledger_flush_interval: Option<Millis>,
    /// `checkPointInterval`; dledger only. Default: `DLedgerConfig`'s (3s).
    #[serde(default)]
    pub dledger_checkpoint_interval: Option<Millis>,
    /// `maxPendingRequestsNum`; dledger only. Default: `DLedgerConfig`'s (10000).
    #[serde(default)]
    pub dledger_max_pending_requests: Option<u64>,
    /// `transientStorePoolEnable`. Default false.
    #[serde(default)]
    pub transient_store_pool: bool,
    /// The machine room (IDC) the group's machines stand in, for machine-room selectors.
    #[serde(default)]
    pub room: Option<String>,
    /// `mappedFileSizeCommitLog`. Default "64KiB" (RocketMQ: 1 GiB), so that files roll.
    #[serde(default = "default_commit_log_file_size")]
    pub commit_log_file_size: Bytes,
    /// `maxHashSlotNum` of each index file. Default 500 (RocketMQ: 5,000,000).
    #[serde(default = "default_index_hash_slots")]
    pub index_hash_slots: u32,
    /// `maxIndexNum`: entries per index file (a message takes one for its `UNIQ_KEY` and one
    /// per key). Default 2000 (RocketMQ: 20,000,000).
    #[serde(default = "default_index_entries")]
    pub index_entries: u32,
    /// Entries per ConsumeQueue file. Default 1000 (RocketMQ: 300 000).
    #[serde(default = "default_consume_queue_file_entries")]
    pub consume_queue_file_entries: u64,
    /// `syncFlushTimeout`. Default "5s".
    #[serde(default = "default_sync_flush_timeout")]
    pub sync_flush_timeout: Millis,
    /// `haSlaveFallbehindMax`: a SYNC_MASTER answers SLAVE_NOT_AVAILABLE when its slaves are
    /// further behind than this; classic only. Default "256MiB".
    #[serde(default)]
    pub ha_slave_fallbehind_max: Option<Bytes>,
    /// `haTransferBatchSize`: the most a master pushes to a slave at once; classic only.
    /// Default "32KiB".
    #[serde(default)]
    pub ha_transfer_batch_size: Option<Bytes>,
    /// `slaveTimeout`: how long a SYNC_MASTER waits for a slave before FLUSH_SLAVE_TIMEOUT;
    /// classic only. Default "3s".
    #[serde(default)]
    pub slave_timeout: Option<Millis>,
    /// `haSendHeartbeatInterval`: an idle master's heartbeat to a slave, and an idle slave's
    /// report; classic only. Default "5s".
    #[serde(default)]
    pub ha_send_heartbeat_interval: Option<Millis>,
    /// `haHousekeepingInterval`: a master drops a slave connection silent this long; classic
    /// only. Default "20s".
    #[serde(default)]
    pub ha_housekeeping_interval: Option<Millis>,
    /// `slaveReadEnable`: a master sends consumers that fall far behind to a slave. Default
    /// false.
    #[serde(default)]
    pub slave_read_enable: bool,
    /// Each machine's memory; a consumer is "behind" when what it still has to read exceeds
    /// 40 % of it (`accessMessageInMemoryMaxRatio`). Default "8GiB".
    #[serde(default = "default_memory")]
    pub memory: Bytes,
    /// `waitTimeMillsInSendQueue`: a send queued longer is answered SYSTEM_BUSY
    /// ([TIMEOUT_CLEAN_QUEUE]). Default "200ms".
    #[serde(default)]
    pub wait_time_in_send_queue: Option<Millis>,
    /// `osPageCacheBusyTimeOutMills`: a CommitLog lock held longer makes the broker refuse
    /// sends (SYSTEM_BUSY). Default "1s".
    #[serde(default)]
    pub os_page_cache_busy_timeout: Option<Millis>,
    /// `transactionCheckInterval`: how often the master checks half messages. Default
    /// "60s"; at least 1s.
    #[serde(default = "default_check_interval")]
    pub transaction_check_interval: Millis,
    /// `transactionTimeOut`: a half message younger than this is not checked. Default "6s".
    #[serde(default = "default_transaction_timeout")]
    pub transaction_timeout: Millis,
    /// `transactionCheckMax`: checks before a half message is discarded. Default 15.
    #[serde(default = "default_check_max")]
    pub transaction_check_max: u32,
    /// `fileReservedTime`: how old a CommitLog file must be (by its mtime) for retention to
    /// delete it. Default "72h".
    #[serde(default = "default_file_reserved_time")]
    pub file_reserved_time: Millis,
    /// `deleteWhen`: the hours (UTC) in which expired files are deleted, `;`-separated.
    /// Default "04". The run starts at 22:13:20 UTC.
    #[serde(default = "default_delete_when")]
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` in percent, 10 to 95: fuller than this, expired files go at
    /// any hour (and above 85 %, any file). Default 75.
    #[serde(default = "default_disk_max_used_space_ratio")]
    pub disk_max_used_space_ratio: u64,
    /// `cleanResourceInterval`: how often retention runs. Default "10s".
    #[serde(default = "default_clean_resource_interval")]
    pub clean_resource_interval: Millis,
    /// `cleanFileForciblyEnable`: over 85 % full, files go whatever their age. Default true.
    #[serde(default = "default_clean_file_forcibly")]
    pub clean_file_forcibly: bool,
    /// The size of each machine's disk, which retention's ratios are of. Default: unbounded.
    #[serde(default)]
    pub disk: Option<Bytes>,
}

fn default_file_reserved_time() -> Millis {
    Millis(StoreConfig::default().file_reserved_time_ms)
}

fn default_delete_when() -> String {
    StoreConfig::default().delete_when
}

fn default_disk_max_used_space_ratio() -> u64 {
    StoreConfig::default().disk_max_used_space_percent
}

fn default_clean_file_forcibly() -> bool {
    StoreConfig::default().clean_file_forcibly_enable
}

fn default_clean_resource_interval() -> Millis {
    Millis(StoreConfig::default().clean_resource_interval_ms)
}

fn default_check_interval() -> Millis {
    Millis(TransactionConfig::default().check_interval_ms)
}

fn default_transaction_timeout() -> Millis {
    Millis(TransactionConfig::default().timeout_ms)
}

fn default_check_max() -> u32 {
    TransactionConfig::default().check_max
}

fn default_memory() -> Bytes {
    Bytes(StoreConfig::default().total_memory_bytes)
}

fn default_flush() -> FlushMode {
    FlushMode::Async
}

/// `brokerRole` of a classic group's master when the file names none.
pub const DEFAULT_ROLE: MasterRole = MasterRole::AsyncMaster;

/// Members of a DLedger group when the file names no `peers`.
pub const DEFAULT_PEERS: u32 = 3;

impl BrokerGroupSection {
    /// The master's role of a classic group (DLedger groups name none).
    pub fn role(&self) -> MasterRole {
        (self.replication.role())
            .or(self.role)
            .unwrap_or(DEFAULT_ROLE)
    }

    /// The broker machines the group declares: a master and its slaves, or its DLedger peers.
    pub fn machines(&self) -> u64 {
        match self.replication {
            Replication::Dledger => u64::from(self.peers.unwrap_or(DEFAULT_PEERS)),
            _ => match (self.slaves, self.peers) {
                (Some(slaves), _) => u64::from(slaves) + 1,
                (None, Some(peers)) => u64::from(peers),
                (None, None) => 1,
            },
        }
    }
}

/// A DLedger member's settings with 0.3.1.2's defaults, as the model states them: the
/// defaults of the `dledger_*` keys.
pub fn dledger_defaults() -> DLedgerConfig {
    let peer = Peer {
        id: "n0".to_string(),
        node: model::NodeId(0),
    };
    DLedgerConfig::new("defaults", "n0", vec![peer], Some("n0"))
}

fn default_commit_log_file_size() -> Bytes {
    Bytes(StoreConfig::default().commit_log_file_size)
}

fn default_index_hash_slots() -> u32 {
    StoreConfig::default().index.slots
}

fn default_index_entries() -> u32 {
    StoreConfig::default().index.entries
}

fn default_consume_queue_file_entries() -> u64 {
    StoreConfig::default().consume_queue_entries_per_file
}

fn default_sync_flush_timeout() -> Millis {
    Millis(StoreConfig::default().sync_flush_timeout_ms)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSection {
    pub name: String,
    /// Read and write queues on each broker group that hosts it. Default 4.
    #[serde(default = "default_queues")]
    pub queues: u32,
    /// `readQueueNums`: the queues consumers read (and rebalance). Default `queues`.
    #[serde(default)]
    pub read_queues: Option<u32>,
    /// `writeQueueNums`: the queues producers write. Default `queues`.
    #[serde(default)]
    pub write_queues: Option<u32>,
    /// `perm` (`PermName`): 6 read and write, 4 read only, 2 write only. Default 6.
    #[serde(default)]
    pub perm: Option<u8>,
    /// Broker groups hosting it. Default: all.
    #[serde(default)]
    pub brokers: Option<Vec<String>>,
}

fn default_queues() -> u32 {
    4
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendModeName {
    Sync,
    Async,
    Oneway,
    /// `sendMessageInTransaction`: a half message, the local transaction, END_TRANSACTION.
    Transaction,
}

/// `[producer.transaction]`: how a transactional producer's local transactions turn out.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionSection {
    /// Odds of a local commit, rollback and unknown (UNKNOW, also to every check), out of
    /// their sum. Default 1, 0, 0.
    #[serde(default = "default_one")]
    pub commit: u32,
    #[serde(default)]
    pub rollback: u32,
    #[serde(default)]
    pub unknown: u32,
    /// How long a local transaction takes. Default "10ms..100ms".
    #[serde(default = "default_local_time")]
    pub local_time: MillisRange,
}

impl Default for TransactionSection {
    fn default() -> TransactionSection {
        TransactionSection {
            commit: 1,
            rollback: 0,
            unknown: 0,
            local_time: default_local_time(),
        }
    }
}

fn default_local_time() -> MillisRange {
    MillisRange {
        min: Millis(10),
        max: Millis(100),
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectorName {
    /// The producer's own queue choice (round-robin, avoiding the last failed broker).
    RoundRobin,
    /// `SelectMessageQueueByHash` on the message's sharding key: ordered sends.
    HashKey,
    /// `SelectMessageQueueByRandom`: any queue of the route, each as likely, one attempt.
    Random,
    /// A machine-room selector: a queue of a broker group in the producer's `room`, any of
    /// them as likely; every queue of the route when the room has none. (4.9.8's own
    /// `SelectMessageQueueByMachineRoom.select` returns null: applications write this one.)
    MachineRoom,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerSection {
    /// Producer group; instances are nodes `<group>-0`, `<group>-1`, ...
    pub group: String,
    /// Default 1.
    #[serde(default = "default_one")]
    pub instances: u32,
    pub topic: String,
    /// Default "sync".
    #[serde(default = "default_send")]
    pub send: SendModeName,
    /// Messages each instance sends.
    pub messages: u32,
    /// Each instance's send rate. Default "10/s". A sync producer also waits for each send.
    #[serde(default = "default_rate")]
    pub rate: Rate,
    /// When the instances start sending. Default "1s".
    #[serde(default = "default_start")]
    pub start: Millis,
    /// Distinct sharding keys (`key-0` ...); messages cycle through them. Default: none.
    #[serde(default)]
    pub keys: Option<u32>,
    /// Default "round-robin".
    #[serde(default = "default_selector")]
    pub selector: SelectorName,
    /// The machine room the producer runs in; read by `selector = "machine-room"`.
    #[serde(default)]
    pub room: Option<String>,
    /// Body size. Default "128B".
    #[serde(default = "default_body")]
    pub body: Bytes,
    /// `retryTimesWhenSendFailed` (sync) and `retryTimesWhenSendAsyncFailed`. Default 2.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// `sendMsgTimeout`: the budget of all attempts together. Default "3s".
    #[serde(default = "default_send_timeout")]
    pub timeout: Millis,
    /// `sendLatencyFaultEnable`. Default false.
    #[serde(default)]
    pub latency_fault_tolerance: bool,
    /// `retryAnotherBrokerWhenNotStoreOK`. Default false.
    #[serde(default)]
    pub retry_when_not_store_ok: bool,
    /// How often the application itself sends a message again (same id) when a send fails
    /// or ends with an unknown outcome. Default 0.
    #[serde(default)]
    pub app_retries: u32,
    /// Tags the messages cycle through (message `n` gets tag `n % len`). Default: no tag.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// `delayTimeLevel` of every message (1-18: 1s 5s 10s 30s 1m 2m 3m ... 2h). Default none.
    #[serde(default)]
    pub delay_level: Option<u32>,
    /// With `send = "transaction"`: the local transactions. Default: all commit.
    #[serde(default)]
    pub transaction: Option<TransactionSection>,
}

fn default_one() -> u32 {
    1
}

fn default_send() -> SendModeName {
    SendModeName::Sync
}

fn default_rate() -> Rate {
    Rate {
        count: 10,
        per: Millis(1000),
    }
}

fn default_start() -> Millis {
    Millis(1_000)
}

fn default_selector() -> SelectorName {
    SelectorName::RoundRobin
}

fn default_body() -> Bytes {
    Bytes(128)
}

fn default_retries() -> u32 {
    2
}

fn default_send_timeout() -> Millis {
    Millis(3_000)
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageModelName {
    Clustering,
    Broadcasting,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumerKindName {
    /// `DefaultMQPushConsumer`: a listener is called with what the consumer pulls.
    Push,
    /// `DefaultLitePullConsumer`: the application polls, and offsets are auto-committed.
    LitePull,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListenerName {
    /// `MessageListenerConcurrently`.
    Concurrent,
    /// `MessageListenerOrderly`: queue locks, one thread per queue.
    Orderly,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocateName {
    Averagely,
    ByCircle,
    ConsistentHash,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumeFromName {
    Last,
    First,
    Timestamp,
}

/// Consumers of one group. Several blocks may name the same group (with the same settings):
/// each adds instances, booting at its own `start`, which is how consumers join a group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSection {
    /// Consumer group; instances are nodes `<group>-0`, `<group>-1`, ...
    pub group: String,
    /// Default 1.
    #[serde(default = "default_one")]
    pub instances: u32,
    pub topic: String,
    /// "push" (default) or "lite-pull".
    #[serde(default = "default_consumer_kind")]
    pub kind: ConsumerKindName,
    /// Default "clustering".
    #[serde(default = "default_model")]
    pub model: MessageModelName,
    /// Push consumers: "concurrent" (default) or "orderly".
    #[serde(default)]
    pub listener: Option<ListenerName>,
    /// Default "averagely".
    #[serde(default = "default_allocate")]
    pub allocate: AllocateName,
    /// Where a group without committed offsets starts: "last" (default), "first" or
    /// "timestamp".
    #[serde(default = "default_consume_from")]
    pub consume_from: ConsumeFromName,
    /// With `consume_from = "timestamp"`: the run's time whose wall clock is the
    /// `consumeTimestamp` (default: 30 minutes before the instances start, as 4.9.8).
    #[serde(default)]
    pub consume_timestamp: Option<Millis>,
    /// When these instances boot. Default: with the cluster.
    #[serde(default)]
    pub start: Option<Millis>,
    /// The subscription expression: `*` (default) or tags joined by `||` (`TagA || TagB`).
    /// Blocks of one group may subscribe differently (RocketMQ's inconsistent subscription).
    #[serde(default)]
    pub subscription: Option<String>,
    /// Push consumers: `consumeMessageBatchMaxSize`. Default 1.
    #[serde(default)]
    pub batch: Option<u32>,
    /// Push consumers: `consumeThreadMax`. Default 20.
    #[serde(default)]
    pub threads: Option<u32>,
    /// `maxReconsumeTimes`. Default 16 (concurrent), unlimited (orderly).
    #[serde(default)]
    pub max_reconsume_times: Option<u32>,
    /// How long the listener (or the polling application) takes per batch. Default "1ms..5ms".
    #[serde(default = "default_consume_time")]
    pub consume_time: MillisRange,
    /// Push consumers: the chance a batch fails (RECONSUME_LATER, or SUSPEND for orderly).
    /// Default 0.
    #[serde(default)]
    pub fail: Option<Ratio>,
    /// Each instance crashes in the middle of a batch after this many messages (once).
    #[serde(default)]
    pub crash_after: Option<u32>,
    /// How long a crashed instance stays down. Default "10s".
    #[serde(default)]
    pub restart_after: Option<Millis>,
    /// Every this many messages an instance's listener gets one that takes `stuck_for` (a
    /// slow external call, a lock wait): it holds the queue's committed offset back.
    #[serde(default)]
    pub stuck_every: Option<u32>,
    /// How long a stuck message takes. Default "10m".
    #[serde(default)]
    pub stuck_for: Option<Millis>,
}

fn default_model() -> MessageModelName {
    MessageModelName::Clustering
}

fn default_consumer_kind() -> ConsumerKindName {
    ConsumerKindName::Push
}

fn default_allocate() -> AllocateName {
    AllocateName::Averagely
}

fn default_consume_from() -> ConsumeFromName {
    ConsumeFromName::Last
}

fn default_consume_time() -> MillisRange {
    MillisRange {
        min: Millis(1),
        max: Millis(5),
    }
}

/// A fault kind as a scenario file names it (`kind = "power-off"`): one of the kinds
/// registered in `crate::fault::KINDS`, where each says what it does.
#[derive(Copy, Clone)]
pub struct FaultKind(pub &'static crate::fault::Kind);

impl FaultKind {
    /// The kind's name in scenario files.
    pub fn name(self) -> &'static str {
        self.0.name
    }
}

impl PartialEq for FaultKind {
    fn eq(&self, other: &FaultKind) -> bool {
        self.name() == other.name()
    }
}

impl Eq for FaultKind {}

impl std::fmt::Debug for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> Deserialize<'de> for FaultKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        crate::fault::kind(&name).map(FaultKind).ok_or_else(|| {
            let kinds = crate::fault::KINDS.iter().map(|k| format!("`{}`", k.name));
            let kinds: Vec<String> = kinds.collect();
            let message = format!(
                "unknown variant `{name}`, expected one of {}",
                kinds.join(", ")
            );
            serde::de::Error::custom(message)
        })
    }
}

/// A string or a list of strings.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Names::One(name) => vec![name.clone()],
            Names::Many(names) => names.clone(),
        }
    }
}

/// The phase a fault's `at` counts in.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultPhase {
    /// From the start of the run; the heal ends what is still on.
    #[default]
    Run,
    /// From the heal, while producers finish and consumers catch up: nothing heals after
    /// it, so the fault ends by itself (`for`) or stays.
    Drain,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSection {
    /// When it starts: a time, or a range to draw it from per seed ("20s..40s").
    pub at: MillisRange,
    /// How long it lasts; by default until the heal at the end of the run phase.
    #[serde(default, rename = "for")]
    pub lasts: Option<Millis>,
    /// The phase `at` counts in: `run` (from the start, the default) or `drain` (from the
    /// heal, while the consumers catch up).
    #[serde(default)]
    pub phase: Option<FaultPhase>,
    pub kind: FaultKind,
    /// The node of a node fault; a list means one drawn per seed. `*` ends a prefix pattern.
    #[serde(default)]
    pub node: Option<Names>,
    /// disk-loss, power-off: whether the machine comes back at all. Default true.
    #[serde(default)]
    pub returns: Option<bool>,
    /// partition: the two sides.
    #[serde(default)]
    pub a: Option<Names>,
    #[serde(default)]
    pub b: Option<Names>,
    /// partition: cut only packets from `a` to `b`. Default false.
    #[serde(default)]
    pub one_way: Option<bool>,
    /// drop, delay, bandwidth: the packets' sender and receiver (default: any).
    #[serde(default)]
    pub from: Option<Names>,
    #[serde(default)]
    pub to: Option<Names>,
    /// drop, delay, bandwidth: request codes by RocketMQ name (default: any).
    #[serde(default)]
    pub request: Option<Names>,
    /// drop: the chance each matching packet vanishes. Default 1.
    #[serde(default)]
    pub probability: Option<Ratio>,
    /// delay: extra latency; slow-disk: extra flush time.
    #[serde(default)]
    pub extra: Option<MillisRange>,
    /// bandwidth: the cap.
    #[serde(default)]
    pub rate: Option<Bandwidth>,
    /// update-topic: the topic, its new `readQueueNums`, `writeQueueNums` and `perm` (each
    /// left out keeps the value the file declares), and the broker groups whose masters
    /// the operator sends it to (default: every group hosting the topic).
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub read_queues: Option<u32>,
    #[serde(default)]
    pub write_queues: Option<u32>,
    #[serde(default)]
    pub perm: Option<u8>,
    #[serde(default)]
    pub brokers: Option<Vec<String>>,
    /// clock-jump: how far the node's wall clock steps (`"+72h"`, `"-1h"`).
    #[serde(default)]
    pub by: Option<SignedMillis>,
    /// clock-skew: how far the node's wall clock stands from the others' while it lasts.
    #[serde(default)]
    pub offset: Option<SignedMillis>,
    /// reset-offset, consume-directly: the consumer group.
    #[serde(default)]
    pub group: Option<String>,
    /// reset-offset: the run's time whose offsets the group goes to (`mqadmin
    /// resetOffsetByTime -s`); default a minute before the reset.
    #[serde(default)]
    pub timestamp: Option<Millis>,
    /// reset-offset: whether offsets may move forward too (`-f`). Default true.
    #[serde(default)]
    pub force: Option<bool>,
    /// consume-directly: the producers' key (`key-N`) the operator looks the message up by.
    #[serde(default)]
    pub key: Option<u32>,
}

/// `[swarm]`: each seed enables a random subset of `kinds` and draws its own faults from it
/// (how many, which kind, which target, when, for how long), as VOPR's swarm testing does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmSection {
    /// The atlas: fault kinds a seed may draw (every kind but bandwidth, promote and demote;
    /// `crate::fault::Swarmed` says which).
    pub kinds: Vec<FaultKind>,
    /// Nodes the faults may hit. Default: every broker.
    #[serde(default)]
    pub targets: Option<Names>,
    /// Faults per seed, at least. Default 1.
    #[serde(default)]
    pub min_faults: Option<u32>,
    /// Faults per seed, at most. Default 4.
    #[serde(default)]
    pub max_faults: Option<u32>,
    /// When faults may start. Default: from a tenth to four fifths of the run phase.
    #[serde(default)]
    pub window: Option<MillisRange>,
    /// How long each lasts. Default "1s..20s".
    #[serde(default)]
    pub lasts: Option<MillisRange>,
    /// The request codes a drawn drop or delay matches, one drawn per fault. Default: every
    /// code.
    #[serde(default)]
    pub requests: Option<Names>,
}

/// `[expect]`: what must hold at the end of a run, a condition per key of the expectations'
/// table (`check::expectations::TABLE`), read as a count or a time condition by the key's
/// kind. Anything not set takes the table's default (mostly: observed only).
#[derive(Clone, Debug, Default)]
pub struct ExpectSection {
    /// The conditions set, by the expectation's position in the table.
    set: BTreeMap<usize, Condition>,
}

impl ExpectSection {
    /// The condition the file sets for the expectation at `position` of the table.
    pub fn get(&self, position: usize) -> Option<&Condition> {
        self.set.get(&position)
    }

    /// `other`'s conditions replace these wherever it sets one (a matrix cell's own
    /// expectations over the file's `[expect]`).
    pub fn overlay(&mut self, other: ExpectSection) {
        self.set.extend(other.set);
    }
}

impl<'de> Deserialize<'de> for ExpectSection {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ExpectVisitor)
    }
}

struct ExpectVisitor;

impl<'de> serde::de::Visitor<'de> for ExpectVisitor {
    type Value = ExpectSection;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a table of expectations")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<ExpectSection, A::Error> {
        let mut section = ExpectSection::default();
        while let Some(ExpectKey(at)) = map.next_key()? {
            let condition = match crate::check::expectations::TABLE[at].is_time() {
                true => map.next_value::<TimeCondition>()?.0,
                false => map.next_value::<CountCondition>()?.0,
            };
            section.set.insert(at, condition);
        }
        Ok(section)
    }
}

/// A key of `[expect]`: the position of its row in the expectations' table. An unknown key is
/// refused where it stands, naming the known ones.
struct ExpectKey(usize);

impl<'de> Deserialize<'de> for ExpectKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use crate::check::expectations::{TABLE, position};
        let key = String::deserialize(deserializer)?;
        position(&key).map(ExpectKey).ok_or_else(|| {
            let names: Vec<String> = TABLE.iter().map(|e| format!("`{}`", e.name)).collect();
            let message = format!(
                "unknown field `{key}`, expected one of {}",
                names.join(", ")
            );
            serde::de::Error::custom(message)
        })
    }
}

/// Deliberate defects, one realistic bug each, to prove the checker sees what it breaks. To
/// add one: a field here, its use in the model (through `cluster`), a negative test.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BugsSection {
    /// SYNC_FLUSH answers SEND_OK before the flush completes.
    #[serde(default)]
    pub ack_before_sync_flush: bool,
    /// Recovery keeps records whose body CRC does not match.
    #[serde(default)]
    pub skip_crc_check_on_recover: bool,
    /// A SYNC_MASTER counts data as replicated once it has sent it, before the slave has it.
    #[serde(default)]
    pub ack_before_slave_has_data: bool,
    /// A DLedger leader answers SEND_OK before a quorum holds the entry.
    #[serde(default)]
    pub ack_before_quorum: bool,
    /// DLedger members dispatch past the committed index.
    #[serde(default)]
    pub dispatch_past_committed: bool,
    /// A DLedger member grants a second candidate's vote in a term it already voted in.
    #[serde(default)]
    pub grant_two_votes_per_term: bool,
    /// A DLedger follower answers a TRUNCATE as done without cutting its log.
    #[serde(default)]
    pub skip_follower_truncation: bool,
    /// A DLedger leader's committed index follows its own log, before a quorum holds it.
    #[serde(default)]
    pub commit_before_quorum: bool,
    /// A DLedger follower answers an APPEND as held before it writes the entry.
    #[serde(default)]
    pub follower_ack_before_write: bool,
    /// Consumers commit a batch's offset before the listener runs.
    #[serde(default)]
    pub commit_before_consume: bool,
    /// Consumers hand messages of a dropped process queue to the listener.
    #[serde(default)]
    pub consume_dropped_queue: bool,
    /// After PULL_OFFSET_MOVED consumers go back to offset 0.
    #[serde(default)]
    pub reset_offset_to_zero: bool,
    /// Dispatch (reput) stops at a commitlog file's end instead of going on in the next file.
    #[serde(default)]
    pub reput_stops_at_file_end: bool,
    /// Recovery cuts the commitlog but leaves the ConsumeQueues' entries past the cut.
    #[serde(default)]
    pub keep_consume_queue_on_truncation: bool,
    /// Name servers never drop a broker for silence (no 120 s expiry).
    #[serde(default)]
    pub never_expire_brokers: bool,
    /// END_TRANSACTION with a rollback puts the real message, as a commit would.
    #[serde(default)]
    pub rollback_puts_message: bool,
    /// The transaction check reads no op messages: it asks about resolved halves again.
    #[serde(default)]
    pub check_ignores_op_messages: bool,
    /// The broker stores a delayed message in its topic at once, ignoring its delay level.
    #[serde(default)]
    pub ignore_delay_level: bool,
    /// A half message is stored in its real topic as a plain message: consumers see it early.
    #[serde(default)]
    pub half_in_real_topic: bool,
    /// A failed CONSUMER_SEND_MSG_BACK is taken as done: no client-side retry, no local one.
    #[serde(default)]
    pub drop_failed_send_back: bool,
    /// The offset passes messages whose send-back failed (they wait for a local retry).
    #[serde(default)]
    pub ack_failed_send_back: bool,
    /// Orderly consumers take and consume queues without the broker lock.
    #[serde(default)]
    pub orderly_without_lock: bool,
    /// A rebalance keeps (and consumes) the queues no longer allocated to the consumer.
    #[serde(default)]
    pub keep_unallocated_queues: bool,
    /// Consumers ignore NOTIFY_CONSUMER_IDS_CHANGED and rebalance every 60 s, not 20 s.
    #[serde(default)]
    pub slow_rebalance: bool,
    /// The broker filters by the first tag of a subscription expression only.
    #[serde(default)]
    pub filter_first_tag_only: bool,
    /// A shrink of read queues commits the dropped queues' offsets to their end.
    #[serde(default)]
    pub shrink_counts_consumed: bool,
    /// The broker's pull path ignores the tag hash codes: it hands over filtered messages.
    #[serde(default)]
    pub broker_ignores_tag_hash: bool,
    /// Consumers skip the client-side tag compare: a colliding hash code reaches the listener.
    #[serde(default)]
    pub skip_client_tag_filter: bool,
    /// After PULL_OFFSET_MOVED consumers commit the offset they asked for, not the correction.
    #[serde(default)]
    pub keep_offset_after_moved: bool,
    /// A consumed batch commits one past the last message pulled, past messages still in
    /// the listener.
    #[serde(default)]
    pub commit_past_pending: bool,
    /// BrokerFastFailure answers queued sends SYSTEM_BUSY and stores them all the same.
    #[serde(default)]
    pub store_after_busy: bool,
    /// Brokers answer 0 to every new group, its queue's first message in disk or not.
    #[serde(default)]
    pub zero_for_new_groups: bool,
    /// Consumers ignore RESET_CONSUMER_CLIENT_OFFSET: an operator's reset moves nothing.
    #[serde(default)]
    pub ignore_reset_offset: bool,
    /// Abnormal recovery scans from the newest CommitLog file, ignoring the checkpoint.
    #[serde(default)]
    pub recover_from_newest_file: bool,
    /// The IndexFile puts keys in the wrong slot: lookups by key miss.
    #[serde(default)]
    pub index_wrong_slot: bool,
    /// Retention deletes files in the `deleteWhen` hours whatever their age.
    #[serde(default)]
    pub ignore_file_reserved_time: bool,
}

/// A run's budgets; past either, it ends as liveness-unknown (exit 3) with the reason.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSection {
    /// Simulated time from zero. Default: the run phase, the drain timeout, the read-back
    /// timeout (120 s) and a minute.
    pub simulated_time: Option<Millis>,
    /// Events all nodes handle together. Default: 1,000 per node and simulated second of those
    /// phases, plus 500 per message sent (at most 500,000,000).
    pub events: Option<u64>,
}

//! Broker configuration (`BrokerConfig` and `MessageStoreConfig`), defaults as RocketMQ 4.9.x
//! unless a field says otherwise.

use crate::ids::NodeId;
use crate::protocol::TopicConfig;

/// `brokerRole`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BrokerRole {
    AsyncMaster,
    SyncMaster,
    Slave,
}

impl BrokerRole {
    pub fn is_master(self) -> bool {
        self != BrokerRole::Slave
    }
}

/// `flushDiskType`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FlushDiskType {
    AsyncFlush,
    SyncFlush,
}

/// Deliberate defects, switched on only to prove that the checker sees what they break.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerBugs {
    /// SYNC_FLUSH answers SEND_OK before the flush completes.
    pub ack_before_sync_flush: bool,
    /// Recovery accepts records whose body CRC does not match.
    pub skip_crc_check_on_recover: bool,
    /// SYNC_MASTER counts the slave's ack before the slave has the data.
    pub ack_before_slave_has_data: bool,
    /// Reput stops at a commitlog file's end instead of going on in the next file.
    pub reput_stops_at_file_end: bool,
    /// Recovery that cuts the commitlog leaves the ConsumeQueues as they are (no
    /// `truncateDirtyLogicFiles`): their entries past the cut point at bytes that are gone.
    pub keep_consume_queue_on_truncation: bool,
    /// END_TRANSACTION with ROLLBACK_MESSAGE puts the real message as a commit would.
    pub rollback_puts_message: bool,
    /// The transaction check reads no op messages: it asks about resolved halves again.
    pub check_ignores_op_messages: bool,
    /// A delayed message is stored in its topic at once (no schedule topic).
    pub ignore_delay_level: bool,
    /// A half message is stored in its real topic, as a plain message (no
    /// `parseHalfMessageInner`): consumers see it before, or without, the commit.
    pub half_in_real_topic: bool,
    /// The pull path filters by the first tag of a subscription expression only: of
    /// `TagA || TagB`, TagB's messages are skipped as not matched.
    pub filter_first_tag_only: bool,
    /// A DLedger leader answers SEND_OK once the entry is in its own log, before a quorum
    /// holds it.
    pub ack_before_quorum: bool,
    /// A DLedger member dispatches its whole log, past the committed index: consumers see
    /// entries a new leader may truncate.
    pub dispatch_past_committed: bool,
    /// A shrink of a topic's read queues commits every group's offset of the queues it drops
    /// to their end: their backlog counts as consumed, and is skipped if they come back.
    pub shrink_counts_consumed: bool,
    /// The pull path ignores the ConsumeQueue entries' tag hash codes: it hands over every
    /// message, and only the client's string compare keeps filtered ones from the listener.
    pub broker_ignores_tag_hash: bool,
    /// Retention deletes the oldest CommitLog files in the `deleteWhen` hours whatever their
    /// age, as if the disk were over 85 % full: files go before `fileReservedTime`.
    pub ignore_file_reserved_time: bool,
    /// The IndexFile puts each key in the slot after its hash's: queries walk the wrong chain.
    pub index_wrong_slot: bool,
    /// Abnormal recovery ignores the checkpoint and scans from the newest CommitLog file, as
    /// if every file's first record were old enough.
    pub recover_from_newest_file: bool,
    /// BrokerFastFailure answers a queued send SYSTEM_BUSY and leaves it in the queue: a
    /// thread stores it later, though the producer was told it was not.
    pub store_after_busy: bool,
    /// QUERY_CONSUMER_OFFSET answers 0 for every group it has no offset for, without asking
    /// whether the queue's first message is in disk.
    pub zero_for_new_groups: bool,
}

/// The transaction settings of `BrokerConfig`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionConfig {
    /// `transactionCheckInterval`: how often the check service runs.
    pub check_interval_ms: u64,
    /// `transactionTimeOut`: a half message younger than this is not checked yet.
    pub timeout_ms: u64,
    /// `transactionCheckMax`: checks before a half message is discarded.
    pub check_max: u32,
    /// `rejectTransactionMessage`.
    pub reject_transaction_message: bool,
}

impl Default for TransactionConfig {
    fn default() -> TransactionConfig {
        TransactionConfig {
            check_interval_ms: 60_000,
            timeout_ms: 6_000,
            check_max: 15,
            reject_transaction_message: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct BrokerConfig {
    pub cluster: String,
    pub broker_name: String,
    /// 0 for a master, above 0 for a slave.
    pub broker_id: u64,
    pub role: BrokerRole,
    pub flush_disk_type: FlushDiskType,
    pub name_servers: Vec<NodeId>,
    pub topics: Vec<TopicConfig>,
    /// `registerNameServerPeriod` (30 s; the first periodic one runs 10 s after start).
    pub register_name_server_period_ms: u64,
    /// `registerBrokerTimeoutMills`.
    pub register_broker_timeout_ms: u64,
    pub store: StoreConfig,
    /// `slaveReadEnable`: send consumers that fall far behind to a slave.
    pub slave_read_enable: bool,
    pub transaction: TransactionConfig,
    /// The send thread pool and its fast failure.
    pub send_pool: SendPoolConfig,
    /// `enableDLegerCommitLog` with its member settings (`dLegerGroup`, `dLegerPeers`,
    /// `dLegerSelfId`): the CommitLog is this DLedger member's log, and the member's role
    /// decides the broker's. `None`: the classic CommitLog.
    pub dledger: Option<crate::dledger::config::DLedgerConfig>,
    pub bugs: BrokerBugs,
}

/// `BrokerConfig`'s send thread pool and `BrokerFastFailure` settings; defaults as 4.9.8.
#[derive(Clone, Debug)]
pub struct SendPoolConfig {
    /// `sendMessageThreadPoolNums`: `min(processors, 4)`.
    pub threads: usize,
    /// `sendThreadPoolQueueCapacity`.
    pub queue_capacity: usize,
    /// `brokerFastFailureEnable`.
    pub fast_failure: bool,
    /// `waitTimeMillsInSendQueue`: a request queued longer is answered SYSTEM_BUSY.
    pub wait_time_in_queue_ms: u64,
}

impl Default for SendPoolConfig {
    fn default() -> SendPoolConfig {
        SendPoolConfig {
            threads: 4,
            queue_capacity: 10_000,
            fast_failure: true,
            wait_time_in_queue_ms: 200,
        }
    }
}

/// `MessageStoreConfig` fields the model uses.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `mappedFileSizeCommitLog`: 1 GiB in RocketMQ; small here so that files roll.
    pub commit_log_file_size: u64,
    /// Entries per ConsumeQueue file (`mappedFileSizeConsumeQueue` / 20): 300 000 in RocketMQ.
    pub consume_queue_entries_per_file: u64,
    pub max_message_size: u64,
    /// `flushIntervalCommitLog`.
    pub flush_interval_commit_log_ms: u64,
    /// `flushCommitLogLeastPages` (pages of 4 KiB).
    pub flush_commit_log_least_pages: u64,
    /// `flushCommitLogThoroughInterval`.
    pub flush_commit_log_thorough_interval_ms: u64,
    /// `syncFlushTimeout`.
    pub sync_flush_timeout_ms: u64,
    /// `flushIntervalConsumeQueue`.
    pub flush_interval_consume_queue_ms: u64,
    /// `flushConsumeQueueLeastPages`.
    pub flush_consume_queue_least_pages: u64,
    /// `flushConsumeQueueThoroughInterval`.
    pub flush_consume_queue_thorough_interval_ms: u64,
    /// `transientStorePoolEnable`: writes go to off-heap buffers first.
    pub transient_store_pool_enable: bool,
    /// `commitIntervalCommitLog`.
    pub commit_interval_commit_log_ms: u64,
    /// `checkCRCOnRecover`.
    pub check_crc_on_recover: bool,
    /// `slaveTimeout`: how long SYNC_MASTER waits for the slave.
    pub slave_timeout_ms: u64,
    /// `haSlaveFallbehindMax`.
    pub ha_slave_fallbehind_max: u64,
    /// `haTransferBatchSize`.
    pub ha_transfer_batch_size: u64,
    /// `haSendHeartbeatInterval`.
    pub ha_send_heartbeat_interval_ms: u64,
    /// `haHousekeepingInterval`.
    pub ha_housekeeping_interval_ms: u64,
    /// `flushConsumerOffsetInterval` (a BrokerConfig field in RocketMQ).
    pub flush_consumer_offset_interval_ms: u64,
    /// The machine's memory (`TOTAL_PHYSICAL_MEMORY_SIZE`).
    pub total_memory_bytes: u64,
    /// The machine's `vm.dirty_ratio`, in percent of its memory: with more of the page cache
    /// dirty, the OS makes every writer wait for writeback.
    pub os_dirty_ratio: u64,
    /// `osPageCacheBusyTimeOutMills`: a CommitLog put lock held longer makes the store "busy".
    pub os_page_cache_busy_timeout_ms: u64,
    /// `accessMessageInMemoryMaxRatio`: a pull further behind than this share of memory
    /// reads from disk, and is "slow".
    pub access_message_in_memory_max_ratio: u64,
    /// `fileReservedTime` (hours in RocketMQ): how old a CommitLog file's mtime must be for
    /// retention to delete it.
    pub file_reserved_time_ms: u64,
    /// `deleteWhen`: the hours (UTC here) in which expired files are deleted, `;`-separated.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio`, in percent: fuller than this, expired files go at any hour.
    pub disk_max_used_space_percent: u64,
    /// `cleanResourceInterval`: how often retention runs.
    pub clean_resource_interval_ms: u64,
    /// `cleanFileForciblyEnable`: over 85 % full, files go whatever their age.
    pub clean_file_forcibly_enable: bool,
    /// `messageIndexEnable`: dispatch builds the IndexFile.
    pub message_index_enable: bool,
    /// `maxHashSlotNum` and `maxIndexNum` of each index file (5,000,000 and 20,000,000 in
    /// RocketMQ; scaled down so that files roll).
    pub index: super::store::index::IndexShape,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            commit_log_file_size: 64 * 1024,
            consume_queue_entries_per_file: 1_000,
            max_message_size: 4 * 1024 * 1024,
            flush_interval_commit_log_ms: 500,
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval_ms: 10_000,
            sync_flush_timeout_ms: 5_000,
            flush_interval_consume_queue_ms: 1_000,
            flush_consume_queue_least_pages: 2,
            flush_consume_queue_thorough_interval_ms: 60_000,
            transient_store_pool_enable: false,
            commit_interval_commit_log_ms: 200,
            check_crc_on_recover: true,
            slave_timeout_ms: 3_000,
            ha_slave_fallbehind_max: 256 * 1024 * 1024,
            ha_transfer_batch_size: 32 * 1024,
            ha_send_heartbeat_interval_ms: 5_000,
            ha_housekeeping_interval_ms: 20_000,
            flush_consumer_offset_interval_ms: 5_000,
            total_memory_bytes: 8 * 1024 * 1024 * 1024,
            os_dirty_ratio: 20,
            os_page_cache_busy_timeout_ms: 1_000,
            access_message_in_memory_max_ratio: 40,
            file_reserved_time_ms: 72 * 3_600_000,
            delete_when: "04".to_string(),
            disk_max_used_space_percent: 75,
            clean_resource_interval_ms: 10_000,
            clean_file_forcibly_enable: true,
            message_index_enable: true,
            index: super::store::index::IndexShape {
                slots: 500,
                entries: 2_000,
            },
        }
    }
}

impl BrokerConfig {
    pub fn new(cluster: &str, broker_name: &str, name_servers: Vec<NodeId>) -> BrokerConfig {
        BrokerConfig {
            cluster: cluster.to_string(),
            broker_name: broker_name.to_string(),
            broker_id: 0,
            role: BrokerRole::AsyncMaster,
            flush_disk_type: FlushDiskType::AsyncFlush,
            name_servers,
            topics: Vec::new(),
            register_name_server_period_ms: 30_000,
            register_broker_timeout_ms: 6_000,
            store: StoreConfig::default(),
            slave_read_enable: false,
            transaction: TransactionConfig::default(),
            send_pool: SendPoolConfig::default(),
            dledger: None,
            bugs: BrokerBugs::default(),
        }
    }
}

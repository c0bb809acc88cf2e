//! The message store (`DefaultMessageStore`): CommitLog, ConsumeQueues, checkpoint and abort
//! file on the broker's disk, with the services that flush, commit and dispatch them.
//!
//! Services that are threads in RocketMQ are timer-driven here (`StoreTimer`): the commitlog
//! flush (`FlushRealTimeService`, or `GroupCommitService` under SYNC_FLUSH, run on demand),
//! the transient-pool commit (`CommitRealTimeService`), the ConsumeQueue flush and dispatch
//! (`ReputMessageService`, 1 ms after an append instead of a 1 ms busy loop).

pub mod checkpoint;
pub mod clean;
pub mod commit_log;
pub mod consume_queue;
mod dledger;
mod flush;
mod get;
pub mod index;
pub mod mapped_file_queue;
mod query;
pub mod record;
#[cfg(test)]
mod tests;

pub use commit_log::{AppendError, Appended};
pub use get::{GetResult, GetStatus};

use super::config::{BrokerBugs, FlushDiskType, StoreConfig};
use crate::disk::{Disk, FlushId};
use crate::event::{Event, QueueEntry};
use crate::ids::NodeId;
use crate::node::Context;
use checkpoint::Checkpoint;
use commit_log::CommitLog;
use consume_queue::{ConsumeQueue, Entry, Put};
use record::{DispatchRequest, Scan, StoreRequest};
use std::collections::BTreeMap;

/// Present from start to clean shutdown: finding it at boot means the last stop was a crash.
pub const ABORT_PATH: &str = "store/abort";
const CONSUME_QUEUE_ROOT: &str = "store/consumequeue";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreTimer {
    /// `FlushRealTimeService` (ASYNC_FLUSH), every `flushIntervalCommitLog`.
    FlushCommitLog,
    /// `CommitRealTimeService` (transient store pool), every `commitIntervalCommitLog`.
    CommitCommitLog,
    /// `FlushConsumeQueueService`, every `flushIntervalConsumeQueue`.
    FlushConsumeQueue,
    /// `ReputMessageService`: dispatch what was appended.
    Reput,
    /// `cleanFilesPeriodically`: retention, every `cleanResourceInterval`.
    CleanFiles,
    /// `isSpaceFull`, every 10 s.
    DiskCheck,
}

/// How long after an append dispatch (reput) makes it readable through the ConsumeQueues.
pub const REPUT_DELAY_MS: u64 = 1;

/// What the store needs to know of its broker.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    pub broker_name: String,
    pub store_host: NodeId,
    pub config: StoreConfig,
    pub flush_disk_type: FlushDiskType,
    pub is_slave: bool,
    pub bugs: BrokerBugs,
    /// The DLedger member whose log is the CommitLog (`enableDLegerCommitLog`), if any.
    pub dledger: Option<crate::dledger::config::DLedgerConfig>,
}

/// A queue whose max offset grew during dispatch (for waking held pulls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub topic: String,
    pub queue_id: u32,
    pub max_offset: u64,
}

#[derive(Clone, Debug)]
struct InFlight {
    id: FlushId,
    /// The flushed file's first offset.
    file: u64,
    position: u64,
    /// The log's store timestamp when the flush was issued (`getStoreTimestamp` before
    /// `flush`): what the checkpoint may claim once it completes.
    store_timestamp_ms: u64,
}

pub struct MessageStore {
    settings: StoreSettings,
    pub commit_log: CommitLog,
    /// With `enableDLegerCommitLog`, the member whose log holds the records; the classic
    /// CommitLog then only keeps the queues' next offsets.
    dledger: Option<crate::dledger::server::DLedgerServer>,
    consume_queues: BTreeMap<(String, u32), ConsumeQueue>,
    checkpoint: Checkpoint,
    reput_from: u64,
    reput_scheduled: bool,
    commit_log_flush: Option<InFlight>,
    last_thorough_flush_ms: u64,
    last_cq_thorough_flush_ms: u64,
    consume_queue_flushes: BTreeMap<FlushId, ((String, u32), InFlight)>,
    /// A thorough ConsumeQueue round is in flight; the checkpoint is forced after it.
    checkpoint_after_round: bool,
    /// SYNC_FLUSH: the highest offset some send waits to see flushed.
    group_commit_target: u64,
    /// What dispatch did that the history is not told yet (dispatch has the disk, not the
    /// context): misplaced entries, and a DLedger member's dispatched positions.
    dispatch_reports: Vec<Event>,
    retention: clean::Retention,
    index: index::IndexService,
    /// The machine's wall clock at the current step (index files are named by it).
    wall_ms: u64,
}

impl MessageStore {
    /// Loads and recovers the store, then dispatches what the ConsumeQueues lack
    /// (`DefaultMessageStore.load` and `start`).
    pub fn open(ctx: &mut Context<'_>, settings: StoreSettings) -> Result<MessageStore, String> {
        let config = settings.config.clone();
        let disk = ctx.disk();
        let abnormal = disk.len(ABORT_PATH).is_some();
        let commit_log = CommitLog::load(
            disk,
            config.commit_log_file_size,
            config.transient_store_pool_enable && !settings.is_slave,
            config.max_message_size,
            settings.store_host,
        )?;
        let consume_queues = load_consume_queues(disk, config.consume_queue_entries_per_file)?;
        let checkpoint = Checkpoint::load(disk);
        let index_ms = checkpoint.index_msg_timestamp_ms;
        let index = index::IndexService::load(disk, config.index, abnormal, index_ms);
        let dledger = match settings.dledger.clone() {
            Some(config) => Some(crate::dledger::server::DLedgerServer::open(ctx, config)?),
            None => None,
        };
        let mut store = MessageStore {
            settings,
            commit_log,
            dledger,
            consume_queues,
            checkpoint,
            reput_from: 0,
            reput_scheduled: false,
            commit_log_flush: None,
            last_thorough_flush_ms: 0,
            last_cq_thorough_flush_ms: 0,
            consume_queue_flushes: BTreeMap::new(),
            checkpoint_after_round: false,
            group_commit_target: 0,
            dispatch_reports: Vec::new(),
            retention: clean::Retention::default(),
            index,
            wall_ms: ctx.wall_clock_ms(),
        };
        let recovery = store.recover(ctx.disk(), abnormal);
        let disk = ctx.disk();
        disk.create(ABORT_PATH, 0);
        store.start_dispatch(disk);
        store.report_dispatch(ctx);
        ctx.emit(Event::Recovered {
            broker: store.settings.broker_name.clone(),
            abnormal,
            scanned_from: recovery.scanned_from,
            max_offset: store.max_wrote_offset(),
            truncated_bytes: recovery.truncated_bytes,
        });
        store.start_services(ctx);
        Ok(store)
    }

    /// `recover(lastExitOK)`: the ConsumeQueues, then the CommitLog (from the checkpoint's
    /// file after a crash), whose records past the queues are dispatched again; queues that
    /// reach past the recovered log are cut back. Returns where the CommitLog's scan began and
    /// the bytes cut from the log (none for a DLedger member's).
    fn recover(&mut self, disk: &mut dyn Disk, abnormal: bool) -> commit_log::Recovery {
        let mut max_physic_in_queues = -1i64;
        for cq in self.consume_queues.values_mut() {
            cq.recover(disk);
            max_physic_in_queues = max_physic_in_queues.max(cq.max_physic_offset);
        }
        if self.dledger.is_some() {
            self.recover_dledger(disk, max_physic_in_queues);
            self.recover_topic_queue_table(disk);
            return commit_log::Recovery::default();
        }
        let had_log = !self.commit_log.files.files.is_empty();
        let config = &self.settings.config;
        let check_crc =
            config.check_crc_on_recover && !self.settings.bugs.skip_crc_check_on_recover;
        let entries_per_file = config.consume_queue_entries_per_file;
        let mut redispatched = Vec::new();
        let min_timestamp = match self.settings.bugs.recover_from_newest_file {
            true => u64::MAX,
            false => self.checkpoint.min_timestamp_ms(),
        };
        let recovery = self.commit_log.recover(
            disk,
            abnormal.then_some(min_timestamp),
            check_crc,
            &mut |request| redispatched.push(request.clone()),
        );
        for request in &redispatched {
            self.dispatch(disk, request, entries_per_file);
        }
        if !had_log {
            for cq in self.consume_queues.values_mut() {
                cq.destroy(disk);
            }
        } else if max_physic_in_queues >= recovery.process_offset as i64
            && !self.settings.bugs.keep_consume_queue_on_truncation
        {
            for cq in self.consume_queues.values_mut() {
                cq.truncate_dirty(disk, recovery.process_offset);
            }
        }
        self.recover_topic_queue_table(disk);
        recovery
    }

    /// `start()`: dispatch from the furthest point any ConsumeQueue reaches.
    fn start_dispatch(&mut self, disk: &mut dyn Disk) {
        let min_offset = self.min_physical_offset();
        let furthest = self
            .consume_queues
            .values()
            .map(|cq| cq.max_physic_offset)
            .max()
            .unwrap_or(-1);
        self.reput_from = (furthest.max(0) as u64).max(min_offset);
        self.reput(disk);
        self.recover_topic_queue_table(disk);
    }

    /// `recoverTopicQueueTable`: each queue's next offset is its ConsumeQueue's max, so
    /// offsets cut off by recovery are handed out again.
    pub fn recover_topic_queue_table(&mut self, disk: &dyn Disk) {
        let min_offset = self.min_physical_offset();
        self.commit_log.topic_queue_table.clear();
        for (key, cq) in self.consume_queues.iter_mut() {
            self.commit_log
                .topic_queue_table
                .insert(key.clone(), cq.max_offset());
            cq.correct_min_offset(disk, min_offset);
        }
    }

    /// `DefaultMessageStore.shutdown`: the write buffers go to the page cache and the abort
    /// file goes away, so that the next start recovers normally.
    /// A clean shutdown (`DefaultMessageStore.shutdown`): the write buffers are committed, the
    /// flush services' last round forces every file with unflushed data (FlushRealTimeService
    /// and FlushConsumeQueueService flush once more when stopped), the checkpoint is written,
    /// and the abort file goes.
    pub fn shutdown(&mut self, disk: &mut dyn Disk) {
        while self.commit_log.commit(disk, 0) {}
        let logs = std::iter::once(&self.commit_log.files)
            .chain(self.consume_queues.values().map(|cq| &cq.files));
        for files in logs {
            for file in files.files.iter().filter(|f| f.flushed() < f.wrote()) {
                disk.flush(&file.path);
            }
        }
        if let Some(member) = &mut self.dledger {
            member.shutdown(disk);
        }
        self.checkpoint.flush(disk);
        disk.delete(ABORT_PATH);
    }

    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// The broker's role changed (a DLedger member's): the store reads it as 4.9.8 reads
    /// `getBrokerRole()`.
    pub fn set_slave(&mut self, is_slave: bool) {
        self.settings.is_slave = is_slave;
    }

    /// How far dispatch is behind what readers may see (`dispatchBehindBytes`).
    pub fn dispatch_behind_bytes(&self) -> u64 {
        self.max_physical_offset().saturating_sub(self.reput_from)
    }

    /// Appends a message (`putMessage`); dispatch follows within a millisecond.
    pub fn put(
        &mut self,
        ctx: &mut Context<'_>,
        request: &StoreRequest,
    ) -> Result<Appended, AppendError> {
        let now = ctx.wall_clock_ms();
        self.wall_ms = now;
        if self.retention.disk_full {
            return Err(AppendError::DiskFull);
        }
        if self.dledger.is_some() {
            let appended = self.put_dledger(ctx, request, now)?;
            self.schedule_reput(ctx);
            return Ok(appended);
        }
        let appended = self.commit_log.append(ctx.disk(), request, now)?;
        self.schedule_reput(ctx);
        if self.settings.flush_disk_type == FlushDiskType::SyncFlush {
            self.group_commit_target = self.group_commit_target.max(appended.next_offset());
            self.group_commit(ctx);
        }
        Ok(appended)
    }

    pub fn flushed_where(&self) -> u64 {
        self.commit_log.flushed_where()
    }

    /// One past the last byte readers may see (DLedger's: the committed position).
    pub fn max_physical_offset(&self) -> u64 {
        match &self.dledger {
            Some(member) => member.committed_pos(),
            None => self.commit_log.max_offset(),
        }
    }

    /// One past the last byte appended, readable or not.
    pub fn max_wrote_offset(&self) -> u64 {
        match &self.dledger {
            Some(member) => member.store().data_end(),
            None => self.commit_log.max_wrote_offset(),
        }
    }

    /// Where the log begins.
    pub fn min_physical_offset(&self) -> u64 {
        match &self.dledger {
            Some(member) => member.store().data_begin(),
            None => self.commit_log.min_offset(),
        }
    }

    /// `size` bytes of the log from `offset`, within one file.
    fn read_log(&self, disk: &dyn Disk, offset: u64, size: u64) -> Option<Vec<u8>> {
        match &self.dledger {
            Some(member) => member.store().read_data(disk, offset, size),
            None => self.commit_log.read(disk, offset, size),
        }
    }

    /// The start of the log file after the one holding `offset` (`rollNextFile`).
    fn roll_next_file(&self, offset: u64) -> u64 {
        match &self.dledger {
            Some(member) => {
                mapped_file_queue::next_file_start(offset, member.store().data_file_size())
            }
            None => self.commit_log.roll_next_file(offset),
        }
    }

    /// At most `max` commitlog bytes from `offset`, within one file (`getCommitLogData`).
    pub fn commit_log_data(&self, disk: &dyn Disk, offset: u64, max: u64) -> Option<Vec<u8>> {
        self.commit_log.data_up_to(disk, offset, max)
    }

    /// A slave appends what its master shipped; dispatch follows (`appendToCommitLog`).
    pub fn append_replica(&mut self, ctx: &mut Context<'_>, offset: u64, data: &[u8]) {
        self.commit_log.append_replica(ctx.disk(), offset, data);
        let end = offset + data.len() as u64;
        crate::invariant!(
            self.commit_log.max_wrote_offset() == end,
            "replica-log-ends-after-append",
            "appended {}..{end}, the log ends at {}",
            offset,
            self.commit_log.max_wrote_offset()
        );
        self.schedule_reput(ctx);
    }

    /// The message stored at a commitlog offset (`lookMessageByOffset`).
    pub fn look_message_by_offset(
        &self,
        disk: &dyn Disk,
        offset: u64,
    ) -> Option<record::StoredMessage> {
        record::decode(&self.record_at(disk, offset)?)
    }

    pub fn consume_queue(&self, topic: &str, queue_id: u32) -> Option<&ConsumeQueue> {
        self.consume_queues.get(&(topic.to_string(), queue_id))
    }

    pub fn max_offset_in_queue(&self, topic: &str, queue_id: u32) -> u64 {
        self.consume_queue(topic, queue_id)
            .map_or(0, ConsumeQueue::max_offset)
    }

    /// `getOffsetInQueueByTime`: in the first ConsumeQueue file last written at or after
    /// `timestamp_ms` (else the last), a binary search by the records' store timestamps for
    /// the entry stored at that time, else the nearer of its neighbours; 0 without a queue.
    pub fn offset_in_queue_by_time(
        &self,
        disk: &dyn Disk,
        (topic, queue_id): (&str, u32),
        timestamp_ms: u64,
    ) -> u64 {
        let Some(cq) = self.consume_queue(topic, queue_id) else {
            return 0;
        };
        let files = &cq.files.files;
        let by_time = files
            .iter()
            .find(|f| disk.modified_ms(&f.path).is_some_and(|m| m >= timestamp_ms));
        let Some(file) = by_time.or(files.last()) else {
            return 0;
        };
        let per_entry = consume_queue::ENTRY_BYTES;
        let first = (cq.min_offset() * per_entry).max(file.from) / per_entry;
        let end = (file.from + file.wrote()) / per_entry;
        let stored_at = |offset: u64| {
            let entry = cq.entries(disk, offset, 1)?.first().copied()?;
            let record = self.look_message_by_offset(disk, entry.commit_log_offset)?;
            Some(record.store_timestamp_ms)
        };
        search_by_time(first..end, timestamp_ms, stored_at)
    }

    /// Whether the OS makes a writer wait for writeback: more than `vm.dirty_ratio` of the
    /// machine's memory is dirty in the page cache (`balance_dirty_pages`).
    pub fn writes_throttled(&self, disk: &dyn Disk) -> bool {
        let config = &self.settings.config;
        disk.dirty_bytes() > config.total_memory_bytes / 100 * config.os_dirty_ratio
    }

    /// `checkInDiskByConsumeOffset`: whether the record the queue's entry at `queue_offset`
    /// points to lies further behind the CommitLog's end than `accessMessageInMemoryMaxRatio`
    /// of the machine's memory (no longer taken to be in the page cache); false without such
    /// an entry.
    pub fn check_in_disk_by_consume_offset(
        &self,
        disk: &dyn Disk,
        (topic, queue_id): (&str, u32),
        queue_offset: u64,
    ) -> bool {
        let entry = (self.consume_queue(topic, queue_id))
            .and_then(|cq| cq.entries(disk, queue_offset, 1))
            .and_then(|entries| entries.first().copied());
        let Some(entry) = entry else {
            return false;
        };
        let config = &self.settings.config;
        let memory = config.total_memory_bytes / 100 * config.access_message_in_memory_max_ratio;
        self.max_physical_offset()
            .saturating_sub(entry.commit_log_offset)
            > memory
    }

    pub fn min_offset_in_queue(&self, topic: &str, queue_id: u32) -> u64 {
        self.consume_queue(topic, queue_id)
            .map_or(0, ConsumeQueue::min_offset)
    }

    /// Dispatch (reput) runs within a millisecond, unless it is already due to.
    pub fn schedule_reput(&mut self, ctx: &mut Context<'_>) {
        if !self.reput_scheduled {
            self.reput_scheduled = true;
            ctx.set_timer(REPUT_DELAY_MS, store_timer(StoreTimer::Reput));
        }
    }

    /// Dispatches every readable record past `reput_from` (`ReputMessageService.doReput`).
    fn reput(&mut self, disk: &mut dyn Disk) -> Vec<Arrival> {
        if self.dledger.is_some() {
            return self.reput_dledger(disk);
        }
        let entries_per_file = self.settings.config.consume_queue_entries_per_file;
        let mut arrivals: Vec<Arrival> = Vec::new();
        // A slave's log may start in the middle of the master's ("correct it").
        self.reput_from = self.reput_from.max(self.commit_log.min_offset());
        while self.reput_from < self.commit_log.max_offset() {
            let Some(data) = self.commit_log.data_from(disk, self.reput_from) else {
                break;
            };
            let mut position = 0usize;
            let mut stop = false;
            while position < data.len() {
                match record::scan(&data[position..], false) {
                    Scan::Record(request) => {
                        self.dispatch_and_note(disk, &request, entries_per_file, &mut arrivals);
                        position += request.size as usize;
                        self.reput_from += u64::from(request.size);
                        crate::invariant!(
                            self.reput_from <= self.commit_log.max_offset(),
                            "reput-within-log",
                            "dispatched up to {}, the log ends at {}",
                            self.reput_from,
                            self.commit_log.max_offset()
                        );
                    }
                    Scan::EndOfFile if self.settings.bugs.reput_stops_at_file_end => {
                        stop = true;
                        break;
                    }
                    Scan::EndOfFile => {
                        self.reput_from = self.commit_log.roll_next_file(self.reput_from);
                        break;
                    }
                    Scan::Invalid => {
                        stop = true;
                        break;
                    }
                }
            }
            if stop {
                break;
            }
        }
        arrivals
    }

    /// Dispatches one record and notes how far its queue now reaches.
    fn dispatch_and_note(
        &mut self,
        disk: &mut dyn Disk,
        request: &DispatchRequest,
        entries_per_file: u64,
        arrivals: &mut Vec<Arrival>,
    ) {
        self.dispatch(disk, request, entries_per_file);
        let max_offset = self.max_offset_in_queue(&request.topic, request.queue_id);
        match arrivals
            .iter_mut()
            .find(|a| a.topic == request.topic && a.queue_id == request.queue_id)
        {
            Some(arrival) => arrival.max_offset = max_offset,
            None => arrivals.push(Arrival {
                topic: request.topic.clone(),
                queue_id: request.queue_id,
                max_offset,
            }),
        }
    }

    /// Writes one record's ConsumeQueue entry (`doDispatch`); prepared and rolled-back
    /// records have none.
    fn dispatch(&mut self, disk: &mut dyn Disk, request: &DispatchRequest, entries_per_file: u64) {
        self.build_index(disk, request);
        if !crate::broker::transaction::sys_flag::dispatched(request.sys_flag) {
            return;
        }
        let key = (request.topic.clone(), request.queue_id);
        if !self.consume_queues.contains_key(&key) {
            let cq = ConsumeQueue::load(disk, &request.topic, request.queue_id, entries_per_file)
                .expect("a new consume queue has no files to mismatch");
            self.consume_queues.insert(key.clone(), cq);
        }
        let cq = self.consume_queues.get_mut(&key).expect("inserted");
        // A delayed message's tags code is when it is due (`computeDeliverTimestamp`).
        let tags_code = match request.delay_level {
            Some(level) if request.topic == crate::protocol::route::SCHEDULE_TOPIC => {
                (request.store_timestamp_ms + crate::broker::schedule::delay_ms(level)) as i64
            }
            _ => request.tags_code,
        };
        let entry = Entry {
            commit_log_offset: request.commit_log_offset,
            size: request.size,
            tags_code,
        };
        let put = cq.put(disk, entry, request.queue_offset);
        if let Put::Misplaced { actual, .. } = put {
            crate::probe!(CQ_MISPLACED);
            self.dispatch_reports.push(Event::ConsumeQueueMisplaced {
                broker: self.settings.broker_name.clone(),
                entry: QueueEntry {
                    topic: request.topic.clone(),
                    queue_id: request.queue_id,
                    offset: actual,
                },
                queue_offset: request.queue_offset,
                commit_log_offset: request.commit_log_offset,
            });
        }
        if put != Put::Repeated {
            if self.settings.is_slave {
                self.checkpoint.physic_msg_timestamp_ms = request.store_timestamp_ms;
            }
            self.checkpoint.logics_msg_timestamp_ms = request.store_timestamp_ms;
        }
    }

    /// Tells the history what dispatch did since the last report.
    fn report_dispatch(&mut self, ctx: &mut Context<'_>) {
        for event in std::mem::take(&mut self.dispatch_reports) {
            ctx.emit(event);
        }
    }

    /// A timer of the store is due. Returns the queues that got new messages.
    pub fn on_timer(&mut self, ctx: &mut Context<'_>, timer: StoreTimer) -> Vec<Arrival> {
        self.wall_ms = ctx.wall_clock_ms();
        match timer {
            StoreTimer::Reput => {
                self.reput_scheduled = false;
                let arrivals = self.reput(ctx.disk());
                self.report_dispatch(ctx);
                return arrivals;
            }
            StoreTimer::FlushCommitLog => self.flush_commit_log_tick(ctx),
            StoreTimer::CommitCommitLog => {
                if self.commit_log.commit(ctx.disk(), 0) {
                    self.schedule_reput(ctx);
                }
                let interval = self.settings.config.commit_interval_commit_log_ms;
                ctx.set_timer(interval, store_timer(StoreTimer::CommitCommitLog));
            }
            StoreTimer::FlushConsumeQueue => self.flush_consume_queue_tick(ctx),
            StoreTimer::CleanFiles => self.clean_files(ctx),
            StoreTimer::DiskCheck => self.disk_check(ctx),
        }
        Vec::new()
    }
}

/// Every ConsumeQueue on the disk, by topic and queue id.
fn load_consume_queues(
    disk: &dyn Disk,
    entries_per_file: u64,
) -> Result<BTreeMap<(String, u32), ConsumeQueue>, String> {
    let mut consume_queues = BTreeMap::new();
    for topic in disk.list(CONSUME_QUEUE_ROOT) {
        for queue in disk.list(&format!("{CONSUME_QUEUE_ROOT}/{topic}")) {
            let Ok(queue_id) = queue.parse::<u32>() else {
                continue;
            };
            let cq = ConsumeQueue::load(disk, &topic, queue_id, entries_per_file)?;
            consume_queues.insert((topic.clone(), queue_id), cq);
        }
    }
    Ok(consume_queues)
}

pub fn store_timer(timer: StoreTimer) -> crate::timer::Timer {
    crate::timer::Timer::Broker(super::BrokerTimer::Store(timer))
}

/// The binary search of `getOffsetInQueueByTime` over queue offsets `range`: the offset whose
/// record was stored at `timestamp_ms`, else the nearer of the last one before and the first
/// one after (the later on a tie); a record that cannot be read ends the search at 0.
fn search_by_time(
    range: std::ops::Range<u64>,
    timestamp_ms: u64,
    stored_at: impl Fn(u64) -> Option<u64>,
) -> u64 {
    let (mut low, mut high) = (range.start as i64, range.end as i64 - 1);
    // The nearest entries found below and above the time: (queue offset, store timestamp).
    let mut left: Option<(u64, u64)> = None;
    let mut right: Option<(u64, u64)> = None;
    while high >= low {
        let mid = ((low + high) / 2) as u64;
        let Some(stored) = stored_at(mid) else {
            return 0;
        };
        match stored.cmp(&timestamp_ms) {
            std::cmp::Ordering::Equal => return mid,
            std::cmp::Ordering::Greater => {
                high = mid as i64 - 1;
                right = Some((mid, stored));
            }
            std::cmp::Ordering::Less => {
                low = mid as i64 + 1;
                left = Some((mid, stored));
            }
        }
    }
    match (left, right) {
        (None, Some((offset, _))) | (Some((offset, _)), None) => offset,
        (Some((l, l_at)), Some((r, r_at))) => {
            if timestamp_ms - l_at > r_at - timestamp_ms {
                r
            } else {
                l
            }
        }
        (None, None) => range.start,
    }
}

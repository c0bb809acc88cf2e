//! Reading a queue (`DefaultMessageStore.getMessage`).

use super::MessageStore;
use super::consume_queue::ConsumeQueue;
use crate::disk::Disk;
use crate::filter::SubscriptionData;

/// `GetMessageStatus`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GetStatus {
    Found,
    NoMatchedMessage,
    MessageWasRemoving,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

#[derive(Clone, Debug)]
pub struct GetResult {
    pub status: GetStatus,
    pub next_begin_offset: u64,
    pub min_offset: u64,
    pub max_offset: u64,
    /// Raw records, in queue order.
    pub messages: Vec<Vec<u8>>,
    /// What is left to read past this pull exceeds the share of memory the page cache is
    /// expected to hold: the consumer reads from disk (`isSuggestPullingFromSlave`).
    pub suggest_pulling_from_slave: bool,
}

/// Where a read starts, how much it may take, and what it must match.
struct Read<'a> {
    offset: u64,
    max_messages: u32,
    filter: Option<&'a SubscriptionData>,
}

/// `maxTransferBytesOnMessageInMemory` and `maxTransferCountOnMessageInMemory`: a batch of
/// records still in the page cache.
const IN_MEMORY: BatchLimit = BatchLimit {
    bytes: 256 * 1024,
    count: 32,
};
/// `maxTransferBytesOnMessageInDisk` and `maxTransferCountOnMessageInDisk`: a batch of records
/// further behind the CommitLog's end than `accessMessageInMemoryMaxRatio` of memory.
const IN_DISK: BatchLimit = BatchLimit {
    bytes: 64 * 1024,
    count: 8,
};

/// How much one pull may take (`isTheBatchFull`).
struct BatchLimit {
    bytes: u64,
    count: usize,
}

impl BatchLimit {
    /// Whether a batch of `count` records of `bytes` is full before a record of `next` bytes.
    fn full(&self, count: usize, bytes: u64, next: u64) -> bool {
        count > 0 && (bytes + next > self.bytes || count >= self.count)
    }
}

impl MessageStore {
    /// Up to `max_messages` records of a queue from `offset` that pass the filter (by the
    /// tags code of their ConsumeQueue entries).
    pub fn get_message(
        &self,
        disk: &dyn Disk,
        topic: &str,
        queue_id: u32,
        offset: u64,
        max_messages: u32,
        filter: Option<&SubscriptionData>,
    ) -> GetResult {
        let mut result = GetResult {
            status: GetStatus::NoMatchedLogicQueue,
            next_begin_offset: 0,
            min_offset: 0,
            max_offset: 0,
            messages: Vec::new(),
            suggest_pulling_from_slave: false,
        };
        let Some(cq) = self.consume_queue(topic, queue_id) else {
            return result;
        };
        result.min_offset = cq.min_offset();
        result.max_offset = cq.max_offset();
        let (min, max) = (result.min_offset, result.max_offset);
        // A slave keeps the client's offset where a master corrects it (`offsetCheckInSlave`).
        let correct = |fallback: u64, corrected: u64| {
            if self.settings.is_slave {
                fallback
            } else {
                corrected
            }
        };
        (result.status, result.next_begin_offset) = if max == 0 {
            (GetStatus::NoMessageInQueue, correct(offset, 0))
        } else if offset < min {
            (GetStatus::OffsetTooSmall, correct(offset, min))
        } else if offset == max {
            (GetStatus::OffsetOverflowOne, offset)
        } else if offset > max {
            (GetStatus::OffsetOverflowBadly, correct(offset, max))
        } else {
            let read = Read {
                offset,
                max_messages,
                filter,
            };
            return self.read_entries(disk, cq, read, result);
        };
        result
    }

    fn read_entries(
        &self,
        disk: &dyn Disk,
        cq: &ConsumeQueue,
        read: Read<'_>,
        mut result: GetResult,
    ) -> GetResult {
        let Read {
            offset,
            max_messages,
            filter,
        } = read;
        let scan = (max_messages as usize * 20).max(16_000);
        let Some(entries) = cq.entries(disk, offset, scan) else {
            result.status = GetStatus::OffsetFoundNull;
            result.next_begin_offset = if self.settings.is_slave {
                offset
            } else {
                cq.roll_next_file(offset)
            };
            return result;
        };
        result.status = GetStatus::NoMatchedMessage;
        let mut next_file_start: Option<u64> = None;
        let mut bytes = 0u64;
        let mut processed = 0u64;
        let mut last_pulled = 0u64;
        let config = &self.settings.config;
        let memory = config.total_memory_bytes / 100 * config.access_message_in_memory_max_ratio;
        let max_physical = self.max_physical_offset();
        for entry in entries {
            // `checkInDiskByCommitOffset`: a record that far behind is read from disk.
            let in_disk = max_physical.saturating_sub(entry.commit_log_offset) > memory;
            let limit = if in_disk { &IN_DISK } else { &IN_MEMORY };
            let count = result.messages.len();
            if count >= max_messages as usize || limit.full(count, bytes, u64::from(entry.size)) {
                break;
            }
            if in_disk {
                crate::probe!(PULL_FROM_DISK);
            }
            processed += 1;
            if next_file_start.is_some_and(|start| entry.commit_log_offset < start) {
                continue;
            }
            if filter.is_some_and(|f| !f.matches_tags_code(entry.tags_code)) {
                continue; // NO_MATCHED_MESSAGE while nothing was found
            }
            match self.read_log(disk, entry.commit_log_offset, u64::from(entry.size)) {
                Some(record) => {
                    bytes += record.len() as u64;
                    last_pulled = entry.commit_log_offset;
                    result.messages.push(record);
                    result.status = GetStatus::Found;
                    next_file_start = None;
                }
                None => {
                    if result.messages.is_empty() {
                        result.status = GetStatus::MessageWasRemoving;
                    }
                    next_file_start = Some(self.roll_next_file(entry.commit_log_offset));
                }
            }
        }
        result.next_begin_offset = offset + processed;
        crate::invariant!(
            result.messages.len() <= max_messages as usize,
            "get-batch-within-max",
            "{} messages (at most {max_messages}) over {processed} entries from {offset}",
            result.messages.len()
        );
        let config = &self.settings.config;
        let memory = config.total_memory_bytes / 100 * config.access_message_in_memory_max_ratio;
        let behind = self.max_physical_offset().saturating_sub(last_pulled);
        result.suggest_pulling_from_slave = !result.messages.is_empty() && behind > memory;
        result
    }
}

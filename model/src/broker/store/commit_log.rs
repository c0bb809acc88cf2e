//! The CommitLog (`CommitLog`): every message of every topic, appended in arrival order to one
//! log of fixed-size files.
//!
//! With `transientStorePoolEnable`, appends land in an off-heap write buffer (process memory)
//! and reach the page cache only when the commit service copies them; readers, dispatch and
//! replication see committed bytes only, and a process crash loses the rest.

use super::mapped_file_queue::MappedFileQueue;
use super::record::{self, DispatchRequest, END_FILE_MIN_BLANK_LENGTH, Scan, StoreRequest};
use crate::disk::Disk;
use crate::ids::NodeId;
use std::collections::BTreeMap;

pub const DIR: &str = "store/commitlog";

/// Why an append failed (`AppendMessageStatus`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The record is larger than `maxMessageSize`.
    MessageSizeExceeded,
    /// The DLedger member refused the append (`handleAppend`: not the leader, or too many
    /// appends wait for their quorum).
    NotAppended(crate::dledger::server::Refused),
    /// The store is not writeable: its disk is over 90 % full (`SERVICE_NOT_AVAILABLE`).
    DiskFull,
}

/// Where a record went (`AppendMessageResult`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub physical_offset: u64,
    pub bytes: u64,
    pub queue_offset: u64,
    pub store_timestamp_ms: u64,
    /// The DLedger entry holding the record, whose quorum the answer waits for.
    pub entry: Option<u64>,
}

impl Appended {
    /// The offset just past the record: what a flush or a slave must reach to cover it.
    pub fn next_offset(&self) -> u64 {
        self.physical_offset + self.bytes
    }
}

pub struct CommitLog {
    pub files: MappedFileQueue,
    /// Next queue offset per (topic, queue id) (`topicQueueTable`).
    pub topic_queue_table: BTreeMap<(String, u32), u64>,
    transient: bool,
    /// Transient pool: the uncommitted bytes of each file, from its committed position.
    write_buffers: BTreeMap<u64, Vec<u8>>,
    max_message_size: u64,
    store_host: NodeId,
}

/// How recovery went.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Where the valid log ends.
    pub process_offset: u64,
    /// The first offset of the file the scan began with.
    pub scanned_from: u64,
    /// Bytes after it that had been written before the crash and are now cut off.
    pub truncated_bytes: u64,
}

impl CommitLog {
    pub fn load(
        disk: &dyn Disk,
        file_size: u64,
        transient: bool,
        max_message_size: u64,
        store_host: NodeId,
    ) -> Result<CommitLog, String> {
        Ok(CommitLog {
            files: MappedFileQueue::load(disk, DIR, file_size)?,
            topic_queue_table: BTreeMap::new(),
            transient,
            write_buffers: BTreeMap::new(),
            max_message_size,
            store_host,
        })
    }

    pub fn file_size(&self) -> u64 {
        self.files.file_size
    }

    /// One past the last byte readers may see.
    pub fn max_offset(&self) -> u64 {
        self.files.max_offset(self.transient)
    }

    /// One past the last byte appended, committed or not.
    pub fn max_wrote_offset(&self) -> u64 {
        self.files.max_offset(false)
    }

    pub fn min_offset(&self) -> u64 {
        self.files.min_offset()
    }

    pub fn flushed_where(&self) -> u64 {
        self.files.flushed_where
    }

    /// The start of the file after the one holding `offset` (`rollNextFile`).
    pub fn roll_next_file(&self, offset: u64) -> u64 {
        super::mapped_file_queue::next_file_start(offset, self.file_size())
    }

    /// What a record takes under the put lock: its queue offset (`topicQueueTable`; a
    /// prepared or rolled-back record takes none, as it is never dispatched) and its length,
    /// refused past `maxMessageSize`.
    pub fn reserve(&self, request: &StoreRequest) -> Result<(u64, u64), AppendError> {
        let key = (request.topic.clone(), request.queue_id);
        let queue_offset = match crate::broker::transaction::sys_flag::dispatched(request.sys_flag)
        {
            true => self.topic_queue_table.get(&key).copied().unwrap_or(0),
            false => 0,
        };
        let length = record::record_length(
            request.body.len(),
            request.topic.len(),
            request.properties.len(),
        );
        if length > self.max_message_size {
            return Err(AppendError::MessageSizeExceeded);
        }
        Ok((queue_offset, length))
    }

    /// The record took `queue_offset`: its queue's next offset moves on (if it has one).
    pub fn took(&mut self, request: &StoreRequest, queue_offset: u64) {
        if crate::broker::transaction::sys_flag::dispatched(request.sys_flag) {
            let key = (request.topic.clone(), request.queue_id);
            self.topic_queue_table.insert(key, queue_offset + 1);
        }
    }

    /// Appends one record (`putMessage` under the put lock): rolls to a new file when the
    /// record and the blank filler would not fit.
    pub fn append(
        &mut self,
        disk: &mut dyn Disk,
        request: &StoreRequest,
        store_timestamp_ms: u64,
    ) -> Result<Appended, AppendError> {
        let (queue_offset, length) = self.reserve(request)?;
        let file_size = self.file_size();
        let mut index = self.files.last_or_create(disk, 0);
        let free = file_size - self.files.files[index].wrote();
        if length + END_FILE_MIN_BLANK_LENGTH > free {
            // END_OF_FILE: fill the rest with the blank marker and retry in a new file.
            let blank = record::blank(free);
            self.write(disk, index, &blank[..free.min(8) as usize], free);
            crate::invariant!(
                self.files.files[index].is_full(file_size),
                "commitlog-blank-fills-file",
                "{}: the blank filler left the file at {}",
                self.files.files[index].path,
                self.files.files[index].wrote()
            );
            index = self.files.last_or_create(disk, 0);
        }
        let file = &self.files.files[index];
        let physical_offset = file.from + file.wrote();
        crate::invariant!(
            physical_offset == self.files.max_offset(false),
            "commitlog-append-contiguous",
            "a record at {physical_offset}, but the log ends at {}",
            self.files.max_offset(false)
        );
        let bytes = record::encode(
            request,
            queue_offset,
            physical_offset,
            store_timestamp_ms,
            self.store_host,
        );
        record::check_header(&bytes, physical_offset);
        self.write(disk, index, &bytes, length);
        self.files.files[index].store_timestamp_ms = store_timestamp_ms;
        self.took(request, queue_offset);
        Ok(Appended {
            physical_offset,
            bytes: length,
            queue_offset,
            store_timestamp_ms,
            entry: None,
        })
    }

    /// Writes `bytes` at the file's wrote position and advances it by `advance`.
    fn write(&mut self, disk: &mut dyn Disk, index: usize, bytes: &[u8], advance: u64) {
        let file = &mut self.files.files[index];
        if self.transient {
            let buffer = self.write_buffers.entry(file.from).or_default();
            buffer.extend_from_slice(bytes);
            buffer.resize(buffer.len() + (advance as usize - bytes.len()), 0);
            let buffered = buffer.len() as u64;
            file.append(advance, true);
            crate::invariant!(
                buffered == file.wrote() - file.committed(),
                "write-buffer-holds-uncommitted",
                "{}: {buffered} bytes buffered, {} appended past the committed {}",
                file.path,
                file.wrote() - file.committed(),
                file.committed()
            );
        } else {
            disk.write(&file.path, file.wrote(), bytes);
            file.append(advance, false);
        }
    }

    /// Copies buffered appends to the page cache (`MappedFileQueue.commit`): one file per
    /// call, from `committed_where`. Returns whether anything was committed.
    pub fn commit(&mut self, disk: &mut dyn Disk, least_pages: u64) -> bool {
        if !self.transient {
            return false;
        }
        let committed_where = self.files.committed_where;
        let index = self
            .files
            .find(committed_where)
            .or_else(|| (committed_where == 0 && !self.files.files.is_empty()).then_some(0));
        let Some(index) = index else {
            return false;
        };
        let file_size = self.file_size();
        let file = &mut self.files.files[index];
        let dirty_pages = file.wrote() / 4096 - file.committed() / 4096;
        let able = file.wrote() == file_size && file.committed() < file.wrote()
            || (least_pages > 0 && dirty_pages >= least_pages)
            || (least_pages == 0 && file.wrote() > file.committed());
        let mut committed = false;
        if able {
            if let Some(buffer) = self.write_buffers.remove(&file.from) {
                crate::invariant!(
                    buffer.len() as u64 == file.wrote() - file.committed(),
                    "commit-buffer-fills-gap",
                    "{}: {} bytes buffered for {}..{}",
                    file.path,
                    buffer.len(),
                    file.committed(),
                    file.wrote()
                );
                disk.write(&file.path, file.committed(), &buffer);
            }
            file.commit_all();
            committed = true;
        }
        // A fully committed file moves `committed_where` to the next file's start.
        self.files.committed_where = file.from + file.committed();
        committed
    }

    /// The record bytes at `offset`, if all `size` of them are readable (`getMessage`).
    pub fn read(&self, disk: &dyn Disk, offset: u64, size: u64) -> Option<Vec<u8>> {
        let index = self.files.find(offset)?;
        let file = &self.files.files[index];
        let position = offset - file.from;
        let readable = if self.transient {
            file.committed()
        } else {
            file.wrote()
        };
        (position + size <= readable)
            .then(|| disk.read(&file.path, position, size as usize).into_owned())
    }

    /// The readable bytes from `offset` to the end of its file's readable part (`getData`).
    pub fn data_from(&self, disk: &dyn Disk, offset: u64) -> Option<Vec<u8>> {
        self.data_up_to(disk, offset, u64::MAX)
    }

    /// At most `max` readable bytes from `offset`, within its file.
    pub fn data_up_to(&self, disk: &dyn Disk, offset: u64, max: u64) -> Option<Vec<u8>> {
        let index = self.files.find(offset)?;
        let file = &self.files.files[index];
        let position = offset - file.from;
        let readable = if self.transient {
            file.committed()
        } else {
            file.wrote()
        };
        (position < readable).then(|| {
            let len = (readable - position).min(max);
            disk.read(&file.path, position, len as usize).into_owned()
        })
    }

    /// Appends bytes its master shipped (`appendData`) at `offset`, where this log must end
    /// (an empty log starts a file there). The master never ships across a file's end.
    pub fn append_replica(&mut self, disk: &mut dyn Disk, offset: u64, data: &[u8]) {
        let index = self.files.last_or_create(disk, offset);
        let file = &self.files.files[index];
        crate::invariant!(
            file.from + file.wrote() == offset,
            "replica-append-at-end",
            "{} bytes for offset {offset} would be stored at {}",
            data.len(),
            file.from + file.wrote()
        );
        self.write(disk, index, data, data.len() as u64);
    }

    /// Recovers the log after a restart (`recoverNormally` / `recoverAbnormally`).
    ///
    /// Normal recovery scans from the third-last file; abnormal recovery from the newest file
    /// whose first record is no newer than `checkpoint_min_timestamp_ms`, handing every valid
    /// record to `dispatch`. Both stop at the first invalid record and cut the log there.
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub fn recover(
        &mut self,
        disk: &mut dyn Disk,
        abnormal: Option<u64>,
        check_crc: bool,
        dispatch: &mut dyn FnMut(&DispatchRequest),
    ) -> Recovery {
        let count = self.files.files.len();
        if count == 0 {
            self.files.flushed_where = 0;
            self.files.committed_where = 0;
            return Recovery::default();
        }
        match abnormal {
            None => crate::probe!(RECOVERY_NORMAL),
            Some(_) => crate::probe!(RECOVERY_ABNORMAL),
        }
        let mut index = match abnormal {
            None => count.saturating_sub(3),
            Some(min_timestamp) => (0..count)
                .rev()
                .find(|i| {
                    let first = disk.read(&self.files.files[*i].path, 0, 64);
                    record::store_timestamp(&first).is_some_and(|ts| ts != 0 && ts <= min_timestamp)
                })
                .unwrap_or(0),
        };
        let scanned_from = self.files.files[index].from;
        let mut process_offset;
        loop {
            let file = &self.files.files[index];
            let content = disk
                .read(&file.path, 0, self.files.file_size as usize)
                .into_owned();
            process_offset = file.from;
            let mut position = 0usize;
            let mut next_file = false;
            while position < content.len() {
                match record::scan(&content[position..], check_crc) {
                    Scan::Record(request) => {
                        if abnormal.is_some() {
                            dispatch(&request);
                        }
                        position += request.size as usize;
                    }
                    Scan::EndOfFile => {
                        next_file = true;
                        break;
                    }
                    Scan::Invalid => break,
                }
            }
            process_offset += position as u64;
            if next_file && index + 1 < count {
                index += 1;
                continue;
            }
            break;
        }
        let written_end = self
            .files
            .last()
            .map_or(0, |last| last.from + written_length(disk, &last.path));
        crate::invariant!(
            process_offset <= self.files.max_offset(false),
            "recovery-cut-within-log",
            "recovery stopped at {process_offset}, past the log's end {}",
            self.files.max_offset(false)
        );
        self.files.flushed_where = process_offset;
        self.files.committed_where = process_offset;
        self.files.truncate_dirty_files(disk, process_offset);
        if written_end > process_offset {
            crate::probe!(RECOVERY_TRUNCATED);
        }
        Recovery {
            process_offset,
            scanned_from,
            truncated_bytes: written_end.saturating_sub(process_offset),
        }
    }

    /// Drops every file (`destroy`); for a store whose log is gone.
    pub fn destroy(&mut self, disk: &mut dyn Disk) {
        self.files.destroy(disk);
        self.write_buffers.clear();
    }
}

/// How much of a preallocated file holds anything but its zero fill.
fn written_length(disk: &dyn Disk, path: &str) -> u64 {
    let len = disk.len(path).unwrap_or(0);
    let content = disk.read(path, 0, len as usize);
    content
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |last| last as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::store::record::tests::request;
    use crate::disk::MemDisk;

    const FILE_SIZE: u64 = 4096;

    fn log(disk: &MemDisk, transient: bool) -> CommitLog {
        CommitLog::load(disk, FILE_SIZE, transient, 4 * 1024 * 1024, NodeId(1)).unwrap()
    }

    fn fill(log: &mut CommitLog, disk: &mut MemDisk, count: usize) -> Vec<Appended> {
        (0..count)
            .map(|i| {
                log.append(disk, &request(&[i as u8; 100]), 1_000 + i as u64)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn appends_roll_over_files_with_a_blank_filler() {
        let mut disk = MemDisk::new();
        let mut log = log(&disk, false);
        let appended = fill(&mut log, &mut disk, 40);
        assert!(log.files.files.len() > 1, "no roll");
        for pair in appended.windows(2) {
            assert_eq!(pair[1].queue_offset, pair[0].queue_offset + 1);
        }
        // Every record can be read back where the append said it went.
        for a in &appended {
            let bytes = log.read(&disk, a.physical_offset, a.bytes).unwrap();
            let message = record::decode(&bytes).unwrap();
            assert_eq!(message.commit_log_offset, a.physical_offset);
            assert_eq!(message.queue_offset, a.queue_offset);
        }
        // The first file ends with the blank marker.
        let first_end = appended
            .iter()
            .filter(|a| a.physical_offset < FILE_SIZE)
            .map(Appended::next_offset)
            .max()
            .unwrap();
        let tail = disk.read(&log.files.files[0].path, first_end, 8);
        assert_eq!(record::scan(&tail, true), Scan::EndOfFile);
    }

    #[test]
    fn recovery_finds_every_record_after_a_clean_stop() {
        let mut disk = MemDisk::new();
        let mut first = log(&disk, false);
        let appended = fill(&mut first, &mut disk, 40);
        let end = appended.last().unwrap().next_offset();
        let mut again = log(&disk, false);
        let recovery = again.recover(&mut disk, None, true, &mut |_| {});
        assert_eq!(recovery.process_offset, end);
        assert_eq!(recovery.truncated_bytes, 0);
        assert_eq!(again.max_offset(), end);
    }

    #[test]
    fn abnormal_recovery_dispatches_from_the_checkpointed_file() {
        let mut disk = MemDisk::new();
        let mut first = log(&disk, false);
        let appended = fill(&mut first, &mut disk, 40);
        let mut again = log(&disk, false);
        let mut dispatched = Vec::new();
        // A checkpoint before everything: dispatch starts from the first file.
        again.recover(&mut disk, Some(500), true, &mut |d| {
            dispatched.push(d.queue_offset)
        });
        assert_eq!(dispatched, (0..40).collect::<Vec<u64>>());
        // A recent checkpoint: only the last file's records are dispatched again.
        let mut dispatched = Vec::new();
        let mut third = log(&disk, false);
        third.recover(&mut disk, Some(u64::MAX), true, &mut |d| {
            dispatched.push(d.queue_offset)
        });
        let last_file_from = third.files.files.last().unwrap().from;
        let expected = appended
            .iter()
            .filter(|a| a.physical_offset >= last_file_from)
            .count();
        assert_eq!(dispatched.len(), expected);
    }

    #[test]
    fn the_transient_pool_holds_appends_until_commit() {
        let mut disk = MemDisk::new();
        let mut log = log(&disk, true);
        let appended = fill(&mut log, &mut disk, 3);
        assert_eq!(log.max_offset(), 0, "uncommitted bytes are visible");
        assert!(log.read(&disk, 0, appended[0].bytes).is_none());
        assert!(disk.files.values().all(|data| data.iter().all(|b| *b == 0)));
        assert!(log.commit(&mut disk, 0));
        assert_eq!(log.max_offset(), appended[2].next_offset());
        assert!(log.read(&disk, 0, appended[0].bytes).is_some());
        // A process crash now loses nothing: it is all in the page cache.
        let mut again = CommitLog::load(&disk, FILE_SIZE, true, 4 << 20, NodeId(1)).unwrap();
        let recovery = again.recover(&mut disk, Some(u64::MAX), true, &mut |_| {});
        assert_eq!(recovery.process_offset, appended[2].next_offset());
    }
}

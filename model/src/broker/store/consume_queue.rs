//! A ConsumeQueue (`ConsumeQueue`): the index of one queue of one topic. Entry `n` sits at byte
//! `n * 20` and holds the commitlog offset, size and tags hash of the queue's `n`-th message.
//! It is built by dispatch, after the fact, and flushed on its own schedule, so after a power
//! loss it may be behind or ahead of the commitlog.

use super::mapped_file_queue::MappedFileQueue;
use crate::disk::Disk;

/// `CQ_STORE_UNIT_SIZE`.
pub const ENTRY_BYTES: u64 = 20;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub commit_log_offset: u64,
    pub size: u32,
    pub tags_code: i64,
}

fn encode(entry: Entry) -> [u8; 20] {
    let mut out = [0u8; 20];
    out[..8].copy_from_slice(&(entry.commit_log_offset as i64).to_be_bytes());
    out[8..12].copy_from_slice(&(entry.size as i32).to_be_bytes());
    out[12..].copy_from_slice(&entry.tags_code.to_be_bytes());
    out
}

/// Reads an entry; `None` for an empty slot (`offset < 0 || size <= 0`, a zero fill).
fn decode(bytes: &[u8]) -> Option<Entry> {
    let offset = i64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let size = i32::from_be_bytes(bytes.get(8..12)?.try_into().ok()?);
    let tags_code = i64::from_be_bytes(bytes.get(12..20)?.try_into().ok()?);
    (offset >= 0 && size > 0).then_some(Entry {
        commit_log_offset: offset as u64,
        size: size as u32,
        tags_code,
    })
}

/// How a dispatched entry was taken.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Put {
    Written,
    /// Already there (its commitlog bytes are at or below the queue's max): skipped.
    Repeated,
    /// Written, but not at its queue offset: earlier entries are missing, so this queue's
    /// offsets no longer match its messages' ("[BUG]logic queue order maybe wrong").
    Misplaced {
        expected: u64,
        actual: u64,
    },
}

pub struct ConsumeQueue {
    pub topic: String,
    pub queue_id: u32,
    pub files: MappedFileQueue,
    /// One past the commitlog bytes of the last entry (`maxPhysicOffset`); -1 when empty.
    pub max_physic_offset: i64,
    /// Byte offset of the first live entry (`minLogicOffset`).
    pub min_logic_offset: u64,
}

pub fn dir(topic: &str, queue_id: u32) -> String {
    format!("store/consumequeue/{topic}/{queue_id}")
}

impl ConsumeQueue {
    pub fn load(
        disk: &dyn Disk,
        topic: &str,
        queue_id: u32,
        entries_per_file: u64,
    ) -> Result<ConsumeQueue, String> {
        Ok(ConsumeQueue {
            topic: topic.to_string(),
            queue_id,
            files: MappedFileQueue::load(
                disk,
                &dir(topic, queue_id),
                entries_per_file * ENTRY_BYTES,
            )?,
            max_physic_offset: -1,
            min_logic_offset: 0,
        })
    }

    /// The next queue offset to be written (`getMaxOffsetInQueue`).
    pub fn max_offset(&self) -> u64 {
        self.files.max_offset(false) / ENTRY_BYTES
    }

    /// The first queue offset still held (`getMinOffsetInQueue`).
    pub fn min_offset(&self) -> u64 {
        self.min_logic_offset / ENTRY_BYTES
    }

    /// Scans the last three files for the end of the valid entries (`recover`).
    pub fn recover(&mut self, disk: &mut dyn Disk) {
        let count = self.files.files.len();
        if count == 0 {
            return;
        }
        let file_size = self.files.file_size;
        let mut index = count.saturating_sub(3);
        let mut process_offset;
        loop {
            let file = &self.files.files[index];
            let content = disk.read(&file.path, 0, file_size as usize).into_owned();
            process_offset = file.from;
            let mut position = 0;
            while position < file_size {
                let at = position as usize;
                match decode(&content[at..(at + ENTRY_BYTES as usize).min(content.len())]) {
                    Some(entry) => {
                        self.max_physic_offset =
                            (entry.commit_log_offset + u64::from(entry.size)) as i64;
                        position += ENTRY_BYTES;
                    }
                    None => break,
                }
            }
            process_offset += position;
            if position == file_size && index + 1 < count {
                index += 1;
                continue;
            }
            break;
        }
        self.files.flushed_where = process_offset;
        self.files.committed_where = process_offset;
        self.files.truncate_dirty_files(disk, process_offset);
    }

    /// Writes the entry for queue offset `queue_offset` (`putMessagePositionInfo`).
    pub fn put(&mut self, disk: &mut dyn Disk, entry: Entry, queue_offset: u64) -> Put {
        let end = (entry.commit_log_offset + u64::from(entry.size)) as i64;
        if end <= self.max_physic_offset {
            return Put::Repeated; // Dispatch is monotonic: an entry not past the last is a repeat.
        }
        let expected = queue_offset * ENTRY_BYTES;
        let index = self.files.last_or_create(disk, expected);
        let file_size = self.files.file_size;
        {
            let file = &self.files.files[index];
            if file.first_create_in_queue && queue_offset != 0 && file.wrote() == 0 {
                // A queue that starts mid-file: blank entries fill the front (`fillPreBlank`).
                self.min_logic_offset = expected;
                self.files.flushed_where = expected;
                self.files.committed_where = expected;
                let blank = encode(Entry {
                    commit_log_offset: 0,
                    size: i32::MAX as u32,
                    tags_code: 0,
                });
                let until = expected % file_size;
                let path = file.path.clone();
                let mut position = 0;
                while position < until {
                    disk.write(&path, position, &blank);
                    position += ENTRY_BYTES;
                }
                self.files.files[index].reset_to(until);
            }
        }
        let file = &self.files.files[index];
        let current = file.from + file.wrote();
        let mut outcome = Put::Written;
        if queue_offset != 0 {
            if expected < current {
                return Put::Repeated;
            }
            if expected != current {
                outcome = Put::Misplaced {
                    expected: queue_offset,
                    actual: current / ENTRY_BYTES,
                };
            }
        }
        crate::invariant!(
            end > self.max_physic_offset,
            "consume-queue-physic-offset-increases",
            "an entry ending at {end} after one ending at {}",
            self.max_physic_offset
        );
        self.max_physic_offset = end;
        let path = file.path.clone();
        let position = file.wrote();
        crate::invariant!(
            position.is_multiple_of(ENTRY_BYTES) && position + ENTRY_BYTES <= file_size,
            "consume-queue-entry-aligned",
            "{path}: an entry at byte {position} of a {file_size}-byte file"
        );
        disk.write(&path, position, &encode(entry));
        self.files.files[index].append(ENTRY_BYTES, false);
        outcome
    }

    /// Entries from `queue_offset`, up to `max` of them, within one file (`getIndexBuffer`).
    pub fn entries(&self, disk: &dyn Disk, queue_offset: u64, max: usize) -> Option<Vec<Entry>> {
        let byte = queue_offset * ENTRY_BYTES;
        if byte < self.min_logic_offset {
            return None;
        }
        let index = self.files.find(byte)?;
        let file = &self.files.files[index];
        let position = byte - file.from;
        if position >= file.wrote() {
            return None;
        }
        let len = ((file.wrote() - position) as usize).min(max * ENTRY_BYTES as usize);
        crate::invariant!(
            position.is_multiple_of(ENTRY_BYTES) && (len as u64).is_multiple_of(ENTRY_BYTES),
            "consume-queue-read-aligned",
            "{}: {len} bytes read at byte {position}",
            file.path
        );
        let bytes = disk.read(&file.path, position, len);
        Some(
            bytes
                .chunks_exact(ENTRY_BYTES as usize)
                .map(|chunk| {
                    decode(chunk).unwrap_or(Entry {
                        commit_log_offset: 0,
                        size: 0,
                        tags_code: 0,
                    })
                })
                .collect(),
        )
    }

    /// The first queue offset of the file after the one holding `queue_offset`.
    pub fn roll_next_file(&self, queue_offset: u64) -> u64 {
        let per_file = self.files.file_size / ENTRY_BYTES;
        queue_offset + per_file - queue_offset % per_file
    }

    /// Drops every entry pointing at or past `physical_offset` (`truncateDirtyLogicFiles`).
    pub fn truncate_dirty(&mut self, disk: &mut dyn Disk, physical_offset: u64) {
        self.max_physic_offset = physical_offset as i64;
        let file_size = self.files.file_size;
        while let Some(last) = self.files.files.last() {
            let content = disk.read(&last.path, 0, file_size as usize).into_owned();
            let mut keep = 0;
            let mut delete_file = false;
            let mut position = 0;
            while position < file_size {
                let at = position as usize;
                let entry = decode(&content[at..(at + ENTRY_BYTES as usize).min(content.len())]);
                match entry {
                    Some(entry) if entry.commit_log_offset < physical_offset => {
                        keep = position + ENTRY_BYTES;
                        self.max_physic_offset =
                            (entry.commit_log_offset + u64::from(entry.size)) as i64;
                    }
                    Some(_) if position == 0 => {
                        delete_file = true;
                        break;
                    }
                    _ => break,
                }
                position += ENTRY_BYTES;
            }
            if delete_file {
                self.files.delete_last(disk);
                continue;
            }
            let last = self.files.files.last_mut().expect("checked");
            last.reset_to(keep);
            return;
        }
    }

    /// Retention (`deleteExpiredFile`): the files wholly below the CommitLog's new minimum go,
    /// and the minimum offset moves up to it.
    pub fn delete_expired_files(&mut self, disk: &mut dyn Disk, commit_log_min_offset: u64) {
        (self.files).delete_expired_by_offset(disk, commit_log_min_offset, ENTRY_BYTES);
        self.correct_min_offset(disk, commit_log_min_offset);
    }

    /// Moves the min offset to the first entry still in the commitlog (`correctMinOffset`).
    pub fn correct_min_offset(&mut self, disk: &dyn Disk, commit_log_min_offset: u64) {
        let Some(first) = self.files.files.first() else {
            return;
        };
        let content = disk.read(&first.path, 0, first.wrote() as usize);
        for (i, chunk) in content.chunks_exact(ENTRY_BYTES as usize).enumerate() {
            let offset = i64::from_be_bytes(chunk[..8].try_into().expect("8 bytes"));
            if offset >= commit_log_min_offset as i64 {
                let min = first.from + i as u64 * ENTRY_BYTES;
                crate::invariant!(
                    min >= self.min_logic_offset,
                    "consume-queue-min-moves-forward",
                    "the min offset moved from byte {} back to {min}",
                    self.min_logic_offset
                );
                self.min_logic_offset = min;
                return;
            }
        }
    }

    pub fn destroy(&mut self, disk: &mut dyn Disk) {
        self.files.destroy(disk);
        self.max_physic_offset = -1;
        self.min_logic_offset = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    fn entry(offset: u64) -> Entry {
        Entry {
            commit_log_offset: offset,
            size: 100,
            tags_code: 7,
        }
    }

    fn queue(disk: &MemDisk) -> ConsumeQueue {
        ConsumeQueue::load(disk, "orders", 0, 10).unwrap()
    }

    #[test]
    fn entries_are_written_at_their_queue_offsets_across_files() {
        let mut disk = MemDisk::new();
        let mut cq = queue(&disk);
        for n in 0..25 {
            assert_eq!(cq.put(&mut disk, entry(n * 100), n), Put::Written);
        }
        assert_eq!(cq.max_offset(), 25);
        assert_eq!(cq.files.files.len(), 3);
        let read = cq.entries(&disk, 12, 32).unwrap();
        assert_eq!(read.len(), 8, "reads stop at the end of the file");
        assert_eq!(read[0].commit_log_offset, 1200);
        assert_eq!(cq.roll_next_file(12), 20);
    }

    #[test]
    fn dispatch_is_idempotent_and_notices_gaps() {
        let mut disk = MemDisk::new();
        let mut cq = queue(&disk);
        cq.put(&mut disk, entry(0), 0);
        assert_eq!(cq.put(&mut disk, entry(0), 0), Put::Repeated);
        assert_eq!(
            cq.put(&mut disk, entry(500), 5),
            Put::Misplaced {
                expected: 5,
                actual: 1
            }
        );
        assert_eq!(cq.max_offset(), 2);
    }

    #[test]
    fn recovery_finds_the_end_and_truncation_cuts_entries_past_the_log() {
        let mut disk = MemDisk::new();
        let mut cq = queue(&disk);
        for n in 0..15 {
            cq.put(&mut disk, entry(n * 100), n);
        }
        let mut again = queue(&disk);
        again.recover(&mut disk);
        assert_eq!(again.max_offset(), 15);
        assert_eq!(again.max_physic_offset, 1500);
        again.truncate_dirty(&mut disk, 950);
        assert_eq!(again.max_offset(), 10);
        assert_eq!(again.max_physic_offset, 1000);
        assert_eq!(
            again.files.files.len(),
            1,
            "the emptied second file is deleted"
        );
        // The next dispatch reuses offset 10.
        assert_eq!(again.put(&mut disk, entry(1000), 10), Put::Written);
    }

    #[test]
    fn a_queue_starting_mid_file_is_padded() {
        let mut disk = MemDisk::new();
        let mut cq = queue(&disk);
        assert_eq!(cq.put(&mut disk, entry(0), 13), Put::Written);
        assert_eq!(cq.min_offset(), 13);
        assert_eq!(cq.max_offset(), 14);
        assert!(cq.entries(&disk, 12, 1).is_none());
    }
}

//! The IndexFile (`IndexService`, `IndexFile`): a hash index from `topic#key` to CommitLog
//! offsets, for QUERY_MESSAGE. Each file is a 40-byte header (begin and end store timestamps,
//! begin and end CommitLog offsets, used slots, entries), `slots` 4-byte hash slots holding
//! the newest entry of their bucket, and `entries` 20-byte entries (key hash, CommitLog offset,
//! seconds since the file's begin timestamp, the bucket's previous entry). Entry 0 is never
//! used. Dispatch indexes each record's `UNIQ_KEY` and every key of its `KEYS`; a full file
//! rolls to a new one named by the wall clock (`yyyyMMddHHmmssSSS`), and the full one is
//! flushed, after which the checkpoint's index timestamp moves to its end.
//!
//! RocketMQ's files hold 5,000,000 slots and 20,000,000 entries; the simulator's default is
//! 500 and 2,000, so that files fill and roll (`index_hash_slots`, `index_entries`).
//!
//! After a crash, `load` deletes every file whose end timestamp is past the checkpoint's index
//! timestamp: every file not yet full. Recovery re-dispatches from the CommitLog file the
//! checkpoint's other timestamps choose (`messageIndexSafe` is off), so the keys of records
//! stored between the last full file and that file are gone from the index for good.

use crate::disk::{Disk, FlushId};

pub const DIR: &str = "store/index";
const HEADER_BYTES: u64 = 40;
const SLOT_BYTES: u64 = 4;
const ENTRY_BYTES: u64 = 20;
/// `defaultQueryMaxNum`/`maxMsgsNumBatch`: a query finds at most this many offsets.
pub const MAX_QUERY: usize = 64;

/// The sizes of every index file of a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IndexShape {
    /// `maxHashSlotNum`.
    pub slots: u32,
    /// `maxIndexNum`.
    pub entries: u32,
}

impl IndexShape {
    fn file_bytes(self) -> u64 {
        HEADER_BYTES + u64::from(self.slots) * SLOT_BYTES + u64::from(self.entries) * ENTRY_BYTES
    }
}

/// `IndexHeader`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Header {
    begin_timestamp: u64,
    end_timestamp: u64,
    begin_phy: u64,
    end_phy: u64,
    used_slots: u32,
    /// The next entry's number (starts at 1).
    count: u32,
}

impl Header {
    fn read(bytes: &[u8]) -> Header {
        let long = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let int = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        Header {
            begin_timestamp: long(0),
            end_timestamp: long(8),
            begin_phy: long(16),
            end_phy: long(24),
            used_slots: int(32),
            count: int(36).max(1),
        }
    }

    fn bytes(&self) -> [u8; HEADER_BYTES as usize] {
        let mut out = [0u8; HEADER_BYTES as usize];
        out[0..8].copy_from_slice(&self.begin_timestamp.to_be_bytes());
        out[8..16].copy_from_slice(&self.end_timestamp.to_be_bytes());
        out[16..24].copy_from_slice(&self.begin_phy.to_be_bytes());
        out[24..32].copy_from_slice(&self.end_phy.to_be_bytes());
        out[32..36].copy_from_slice(&self.used_slots.to_be_bytes());
        out[36..40].copy_from_slice(&self.count.to_be_bytes());
        out
    }
}

#[derive(Clone, Debug)]
struct IndexFile {
    path: String,
    header: Header,
}

/// One key to index: `topic#key`, the record's offset and store timestamp.
pub struct Key<'a> {
    pub topic: &'a str,
    pub key: &'a str,
    pub offset: u64,
    pub store_timestamp_ms: u64,
}

/// `IndexService`.
#[derive(Clone, Debug)]
pub struct IndexService {
    shape: IndexShape,
    files: Vec<IndexFile>,
    /// The flush of a full file, and the end timestamp the checkpoint may take once it is done.
    pub flushing: Vec<(FlushId, u64)>,
}

impl IndexService {
    /// `load(lastExitOK)`: every index file, ascending; after a crash the files whose end
    /// timestamp is past the checkpoint's index timestamp are deleted.
    pub fn load(
        disk: &mut dyn Disk,
        shape: IndexShape,
        abnormal: bool,
        checkpoint_index_ms: u64,
    ) -> IndexService {
        let mut files = Vec::new();
        for name in disk.list(DIR) {
            let path = format!("{DIR}/{name}");
            let header = Header::read(&disk.read(&path, 0, HEADER_BYTES as usize));
            if abnormal && header.end_timestamp > checkpoint_index_ms {
                crate::probe!(INDEX_FILE_DROPPED);
                disk.delete(&path);
                continue;
            }
            files.push(IndexFile { path, header });
        }
        IndexService {
            shape,
            files,
            flushing: Vec::new(),
        }
    }

    /// One past the last CommitLog offset indexed (`endPhyOffset` of the last file).
    pub fn end_phy(&self) -> u64 {
        self.files.last().map_or(0, |f| f.header.end_phy)
    }

    /// `putKey`: indexes one key in the last file, rolling to a new one when it is full.
    /// `slot_skew` moves the slot (a defect's switch; 0 in RocketMQ).
    pub fn put_key(&mut self, disk: &mut dyn Disk, key: Key<'_>, wall_ms: u64, slot_skew: u32) {
        let full = |f: &IndexFile| f.header.count >= self.shape.entries;
        if self.files.last().is_none_or(full) {
            self.roll(disk, wall_ms);
        }
        let shape = self.shape;
        let file = self.files.last_mut().expect("rolled");
        let hash = key_hash(key.topic, key.key);
        let slot = (hash % shape.slots + slot_skew) % shape.slots;
        let slot_at = HEADER_BYTES + u64::from(slot) * SLOT_BYTES;
        let slot = read_u32(disk, &file.path, slot_at);
        let header = &mut file.header;
        let prev = if slot == 0 || slot > header.count {
            0
        } else {
            slot
        };
        if header.count <= 1 {
            header.begin_phy = key.offset;
            header.begin_timestamp = key.store_timestamp_ms;
        }
        let diff_s = key
            .store_timestamp_ms
            .saturating_sub(header.begin_timestamp)
            / 1000;
        let mut entry = [0u8; ENTRY_BYTES as usize];
        entry[0..4].copy_from_slice(&hash.to_be_bytes());
        entry[4..12].copy_from_slice(&key.offset.to_be_bytes());
        entry[12..16].copy_from_slice(&(diff_s.min(i32::MAX as u64) as u32).to_be_bytes());
        entry[16..20].copy_from_slice(&prev.to_be_bytes());
        let entry_at = entries_start(shape) + u64::from(header.count) * ENTRY_BYTES;
        disk.write(&file.path, entry_at, &entry);
        disk.write(&file.path, slot_at, &header.count.to_be_bytes());
        if slot == 0 {
            header.used_slots += 1;
        }
        header.count += 1;
        header.end_phy = key.offset;
        header.end_timestamp = key.store_timestamp_ms;
        disk.write(&file.path, 0, &header.bytes());
    }

    /// A new last file, named by the wall clock and starting where the last one ended; the
    /// full one is flushed (`getAndCreateLastIndexFile`).
    fn roll(&mut self, disk: &mut dyn Disk, wall_ms: u64) {
        let mut name_ms = wall_ms;
        let path = loop {
            let path = format!("{DIR}/{}", human_time(name_ms));
            if disk.len(&path).is_none() {
                break path;
            }
            name_ms += 1;
        };
        disk.create(&path, self.shape.file_bytes());
        let mut header = Header {
            count: 1,
            ..Header::default()
        };
        if let Some(last) = self.files.last() {
            header.begin_phy = last.header.end_phy;
            header.end_phy = last.header.end_phy;
            header.begin_timestamp = last.header.end_timestamp;
            header.end_timestamp = last.header.end_timestamp;
            let flush = disk.flush(&last.path);
            self.flushing.push((flush, last.header.end_timestamp));
        }
        disk.write(&path, 0, &header.bytes());
        self.files.push(IndexFile { path, header });
    }

    /// `queryOffset`: the CommitLog offsets of entries whose key hash matches `topic#key`
    /// and whose store time lies in `begin_ms..=end_ms`, newest file first, at most `max`.
    pub fn query(
        &self,
        disk: &dyn Disk,
        (topic, key): (&str, &str),
        max: usize,
        (begin_ms, end_ms): (u64, u64),
    ) -> Vec<u64> {
        let hash = key_hash(topic, key);
        let mut offsets = Vec::new();
        for file in self.files.iter().rev() {
            let h = &file.header;
            let matched = (begin_ms < h.begin_timestamp && end_ms > h.end_timestamp)
                || (h.begin_timestamp..=h.end_timestamp).contains(&begin_ms)
                || (h.begin_timestamp..=h.end_timestamp).contains(&end_ms);
            if matched {
                self.select(disk, file, hash, (begin_ms, end_ms), max, &mut offsets);
            }
            if h.begin_timestamp < begin_ms || offsets.len() >= max {
                break;
            }
        }
        offsets
    }

    /// `selectPhyOffset`: walks the bucket's chain from its slot.
    fn select(
        &self,
        disk: &dyn Disk,
        file: &IndexFile,
        hash: u32,
        (begin_ms, end_ms): (u64, u64),
        max: usize,
        offsets: &mut Vec<u64>,
    ) {
        let h = &file.header;
        let slot_at = HEADER_BYTES + u64::from(hash % self.shape.slots) * SLOT_BYTES;
        let mut next = read_u32(disk, &file.path, slot_at);
        while next >= 1 && next < h.count && offsets.len() < max {
            let at = entries_start(self.shape) + u64::from(next) * ENTRY_BYTES;
            let entry = disk.read(&file.path, at, ENTRY_BYTES as usize);
            let Ok(entry) = <[u8; 20]>::try_from(&*entry) else {
                return;
            };
            let field = |from: usize| u32::from_be_bytes(entry[from..from + 4].try_into().unwrap());
            let offset = u64::from_be_bytes(entry[4..12].try_into().expect("8 bytes"));
            let time = h.begin_timestamp + u64::from(field(12)) * 1000;
            if time < begin_ms {
                return;
            }
            if field(0) == hash && time <= end_ms {
                offsets.push(offset);
            }
            let prev = field(16);
            if prev == next {
                return;
            }
            next = prev;
        }
    }

    /// `deleteExpiredFile(offset)`: every file but the last whose entries all point below the
    /// CommitLog's minimum.
    pub fn delete_expired(&mut self, disk: &mut dyn Disk, min_offset: u64) {
        let candidates = self.files.len().saturating_sub(1);
        let expired = (self.files[..candidates].iter())
            .take_while(|f| f.header.end_phy < min_offset)
            .count();
        for file in self.files.drain(..expired) {
            disk.delete(&file.path);
        }
    }
}

fn entries_start(shape: IndexShape) -> u64 {
    HEADER_BYTES + u64::from(shape.slots) * SLOT_BYTES
}

fn read_u32(disk: &dyn Disk, path: &str, at: u64) -> u32 {
    let bytes = disk.read(path, at, 4);
    <[u8; 4]>::try_from(&*bytes).map_or(0, u32::from_be_bytes)
}

/// `indexKeyHashMethod`: `abs("topic#key".hashCode())`, 0 if still negative.
fn key_hash(topic: &str, key: &str) -> u32 {
    let hash = crate::filter::java_string_hash_of(&[topic, "#", key]);
    u32::try_from(hash.checked_abs().unwrap_or(0)).unwrap_or(0)
}

/// `UtilAll.timeMillisToHumanString`: `yyyyMMddHHmmssSSS` of a UTC wall-clock reading.
pub fn human_time(wall_ms: u64) -> String {
    let (days, ms_of_day) = (wall_ms / 86_400_000, wall_ms % 86_400_000);
    let (y, m, d) = civil_from_days(days as i64);
    let (h, min) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (s, ms) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{y:04}{m:02}{d:02}{h:02}{min:02}{s:02}{ms:03}")
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    const SHAPE: IndexShape = IndexShape {
        slots: 8,
        entries: 4,
    };

    fn key(key: &str, offset: u64, at: u64) -> Key<'_> {
        Key {
            topic: "t",
            key,
            offset,
            store_timestamp_ms: at,
        }
    }

    #[test]
    fn the_run_starts_on_a_tuesday_evening_in_2023() {
        assert_eq!(human_time(1_700_000_000_000), "20231114221320000");
        assert_eq!(human_time(0), "19700101000000000");
    }

    #[test]
    fn keys_are_found_across_files_and_lost_with_an_unfull_file_after_a_crash() {
        let mut disk = MemDisk::new();
        let mut index = IndexService::load(&mut disk, SHAPE, false, 0);
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            let i = i as u64;
            index.put_key(
                &mut disk,
                key(name, i * 100, 1_000 + i * 1_000),
                50_000 + i,
                0,
            );
        }
        // Three entries fill a file (entry 0 is unused): "d" and "e" are in the second.
        assert_eq!(index.files.len(), 2);
        assert_eq!(index.query(&disk, ("t", "a"), 8, (0, u64::MAX)), vec![0]);
        assert_eq!(index.query(&disk, ("t", "e"), 8, (0, u64::MAX)), vec![400]);
        assert!(index.query(&disk, ("t", "z"), 8, (0, u64::MAX)).is_empty());
        // The checkpoint knows the first file's end (the flush of a full file completed).
        let end = index.files[0].header.end_timestamp;
        let reloaded = IndexService::load(&mut disk, SHAPE, true, end);
        assert_eq!(reloaded.files.len(), 1);
        assert_eq!(
            reloaded.query(&disk, ("t", "c"), 8, (0, u64::MAX)),
            vec![200]
        );
        assert!(
            reloaded
                .query(&disk, ("t", "d"), 8, (0, u64::MAX))
                .is_empty()
        );
    }
}

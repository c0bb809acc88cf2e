//! The DLedger log on the simulated disk (`DLedgerMmapFileStore`): entries appended to fixed
//! size data files (a blank fills a file's tail when the next entry does not fit), an index
//! file with one 32-byte unit per entry at `index * 32`, and a checkpoint of the end and
//! committed indexes. A leader appends at `end + 1` in its term; a follower appends what the
//! leader pushed, at the same position, or truncates after the entry both hold. Writes land
//! in the page cache: what reached the media is what the last flush took (every
//! `flushFileInterval`, 10 ms), and no append waits for one. Recovery scans the data files,
//! keeps entries while their position, index and term follow on, cuts the log at the first
//! that does not, and rebuilds the index from what it kept.

use super::entry::{
    BLANK_MAGIC, BODY_OFFSET, Entry, Header, INDEX_UNIT_BYTES, IndexUnit, MAGIC, blank,
};
use crate::broker::store::mapped_file_queue::{MappedFile, MappedFileQueue};
use crate::disk::{Disk, FlushId};

/// `MmapFileList.MIN_BLANK_LEN`: the room a blank needs (its magic and size).
const MIN_BLANK_BYTES: u64 = 8;

/// The checkpoint's file name, under the store's directory.
const CHECKPOINT: &str = "checkpoint";

/// Where a store under `dir` keeps its entry data files: a record a DLedger CommitLog holds
/// lies at its PHYSICALOFFSET there, as in a classic CommitLog's directory.
pub fn data_dir(dir: &str) -> String {
    format!("{dir}/data")
}

/// Why a follower's append was refused (`DLedgerResponseCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendRefused {
    /// The entry does not follow this log's end.
    InconsistentIndex { end: Option<u64> },
    /// It would be stored at another position than the leader's (`DISK_ERROR`).
    InconsistentPos { expected: u64, pos: u64 },
}

/// A change to the log, kept until the member reports it (`DLedgerStore::take_changes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogChange {
    /// An entry was written: its index, term, position, size and the CRC32 of its bytes.
    Stored {
        index: u64,
        term: u64,
        pos: u64,
        size: u32,
        crc: u32,
    },
    /// Every entry from `from` on was dropped.
    Cut { from: u64 },
}

pub struct DLedgerStore {
    dir: String,
    /// What changed since the member last reported.
    changes: Vec<LogChange>,
    data: MappedFileQueue,
    index: MappedFileQueue,
    /// The first index held, and the last with its term (`None`: an empty log, -1 in DLedger).
    begin: u64,
    end: Option<(u64, u64)>,
    committed: Option<u64>,
}

impl DLedgerStore {
    /// Opens (and recovers) the store under `dir`: data files of `data_file_size` bytes and
    /// index files of `index_file_units` units.
    pub fn open(
        disk: &mut dyn Disk,
        dir: &str,
        data_file_size: u64,
        index_file_units: u64,
    ) -> Result<DLedgerStore, String> {
        let data = MappedFileQueue::load(disk, &data_dir(dir), data_file_size)?;
        let index_size = index_file_units * INDEX_UNIT_BYTES;
        let index = MappedFileQueue::load(disk, &format!("{dir}/index"), index_size)?;
        let mut store = DLedgerStore {
            dir: dir.to_string(),
            changes: Vec::new(),
            data,
            index,
            begin: 0,
            end: None,
            committed: None,
        };
        store.recover(disk);
        Ok(store)
    }

    /// The last index and its term (`ledgerEndIndex`, `ledgerEndTerm`).
    pub fn end(&self) -> Option<(u64, u64)> {
        self.end
    }

    pub fn begin_index(&self) -> u64 {
        self.begin
    }

    pub fn committed_index(&self) -> Option<u64> {
        self.committed
    }

    /// Where the next entry goes in the data files (`getMaxWrotePosition`).
    pub fn data_end(&self) -> u64 {
        self.data.max_offset(false)
    }

    /// Where the data files begin.
    pub fn data_begin(&self) -> u64 {
        self.data.min_offset()
    }

    pub fn data_file_size(&self) -> u64 {
        self.data.file_size
    }

    /// `size` bytes of the data files from `offset`, within one file and the written data.
    pub fn read_data(&self, disk: &dyn Disk, offset: u64, size: u64) -> Option<Vec<u8>> {
        let at = self.data.find(offset)?;
        let file = &self.data.files[at];
        let start = offset - file.from;
        if start + size > file.wrote() {
            return None;
        }
        Some(disk.read(&file.path, start, size as usize).into_owned())
    }

    /// A leader's append (`appendAsLeader`): the next index, in `term`.
    pub fn append(&mut self, disk: &mut dyn Disk, term: u64, body: Vec<u8>) -> Entry {
        self.append_hooked(disk, term, body, &mut |_, _| {})
    }

    /// A leader's append whose body learns its position before it is written (`AppendHook`:
    /// RocketMQ writes the record's PHYSICALOFFSET there).
    pub fn append_hooked(
        &mut self,
        disk: &mut dyn Disk,
        term: u64,
        body: Vec<u8>,
        hook: &mut dyn FnMut(u64, &mut Vec<u8>),
    ) -> Entry {
        let index = self.end.map_or(self.begin, |(end, _)| end + 1);
        if let Some((_, end_term)) = self.end {
            crate::invariant!(
                term >= end_term,
                "dledger-leader-term-not-below-log",
                "an append in term {term} after an entry of term {end_term}"
            );
        }
        let mut entry = Entry {
            index,
            term,
            pos: 0,
            body,
        };
        entry.pos = self.roll_for(disk, entry.size());
        let size = entry.size();
        hook(entry.pos, &mut entry.body);
        crate::invariant!(
            entry.size() == size,
            "dledger-append-hook-keeps-size",
            "the hook changed entry {index}'s size from {size} to {}",
            entry.size()
        );
        self.write(disk, &entry);
        entry
    }

    /// A follower's append (`appendAsFollower`) of what the leader pushed: at the end, and at
    /// the leader's position.
    pub fn append_replica(
        &mut self,
        disk: &mut dyn Disk,
        entry: &Entry,
    ) -> Result<(), AppendRefused> {
        let next = self.end.map_or(self.begin, |(end, _)| end + 1);
        if entry.index != next {
            return Err(AppendRefused::InconsistentIndex {
                end: self.end.map(|(end, _)| end),
            });
        }
        let pos = self.roll_for(disk, entry.size());
        if pos != entry.pos {
            return Err(AppendRefused::InconsistentPos {
                expected: entry.pos,
                pos,
            });
        }
        self.write(disk, entry);
        Ok(())
    }

    /// The position the next entry of `size` bytes goes to: the data end, or the start of a
    /// new file once a blank fills the rest of a file it does not fit in.
    fn roll_for(&mut self, disk: &mut dyn Disk, size: u64) -> u64 {
        let file_size = self.data.file_size;
        crate::invariant!(
            size + MIN_BLANK_BYTES <= file_size,
            "dledger-entry-fits-a-file",
            "an entry of {size} bytes for data files of {file_size}"
        );
        let at = self.data.last_or_create(disk, self.data_end());
        let file = &mut self.data.files[at];
        let free = file_size - file.wrote();
        // `MmapFileList.append`: an entry leaves room for a blank's magic and size after it.
        if size + MIN_BLANK_BYTES > free {
            disk.write(&file.path, file.wrote(), &blank(free));
            file.append(free, false);
        }
        self.data_end()
    }

    /// Writes the entry at the data end and its unit at `index * 32` of the index files.
    fn write(&mut self, disk: &mut dyn Disk, entry: &Entry) {
        let bytes = entry.encode();
        let at = self.data.last_or_create(disk, entry.pos);
        let file = &mut self.data.files[at];
        crate::invariant!(
            file.from + file.wrote() == entry.pos,
            "dledger-entry-at-its-pos",
            "entry {} for pos {} written at {}",
            entry.index,
            entry.pos,
            file.from + file.wrote()
        );
        disk.write(&file.path, file.wrote(), &bytes);
        file.append(bytes.len() as u64, false);
        self.write_unit(disk, IndexUnit::of(entry));
        self.end = Some((entry.index, entry.term));
        self.changes.push(LogChange::Stored {
            index: entry.index,
            term: entry.term,
            pos: entry.pos,
            size: bytes.len() as u32,
            crc: crc32fast::hash(&bytes),
        });
    }

    /// The log's changes since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<LogChange> {
        std::mem::take(&mut self.changes)
    }

    fn write_unit(&mut self, disk: &mut dyn Disk, unit: IndexUnit) {
        let offset = unit.index * INDEX_UNIT_BYTES;
        let at = self.index.last_or_create(disk, offset);
        let file = &mut self.index.files[at];
        crate::invariant!(
            file.from + file.wrote() == offset,
            "dledger-index-unit-at-its-index",
            "the unit of index {} written at byte {}",
            unit.index,
            file.from + file.wrote()
        );
        disk.write(&file.path, file.wrote(), &unit.encode());
        file.append(INDEX_UNIT_BYTES, false);
    }

    /// The entry at `index`, read through its index unit (`get`), checked after it is read.
    pub fn get(&self, disk: &dyn Disk, index: u64) -> Option<Entry> {
        let (end, _) = self.end?;
        if index < self.begin || index > end {
            return None;
        }
        let unit = self.unit(disk, index)?;
        let at = self.data.find(unit.pos)?;
        let file = &self.data.files[at];
        let bytes = disk.read(&file.path, unit.pos - file.from, unit.size as usize);
        let entry = Entry::decode(&bytes)?;
        crate::invariant!(
            entry.index == index && entry.pos == unit.pos && entry.term == unit.term,
            "dledger-entry-read-as-indexed",
            "index {index} led to entry {} of term {} at {} (unit: term {} at {})",
            entry.index,
            entry.term,
            entry.pos,
            unit.term,
            unit.pos
        );
        Some(entry)
    }

    /// The entry that starts at data position `pos`, if one of this log does: what a broker
    /// reads a CommitLog record through (its PHYSICALOFFSET is `pos + BODY_OFFSET`).
    pub fn entry_at(&self, disk: &dyn Disk, pos: u64) -> Option<Entry> {
        if pos >= self.data_end() {
            return None;
        }
        let at = self.data.find(pos)?;
        let file = &self.data.files[at];
        let header_bytes = disk.read(&file.path, pos - file.from, BODY_OFFSET as usize);
        let header = Header::read(&header_bytes)?;
        if header.magic != MAGIC || pos + header.size > self.data_end() {
            return None;
        }
        let bytes = disk.read(&file.path, pos - file.from, header.size as usize);
        // An entry that names another position is no entry of this log here (DISK_ERROR).
        Entry::decode(&bytes).filter(|entry| entry.pos == pos)
    }

    fn unit(&self, disk: &dyn Disk, index: u64) -> Option<IndexUnit> {
        let offset = index * INDEX_UNIT_BYTES;
        let at = self.index.find(offset)?;
        let file = &self.index.files[at];
        let bytes = disk.read(&file.path, offset - file.from, INDEX_UNIT_BYTES as usize);
        IndexUnit::decode(&bytes)
    }

    /// A follower keeps the entries up to `index` and drops the rest (`truncate`); the
    /// committed index is never lowered (dledger #316: it can stand past the end).
    pub fn truncate(&mut self, disk: &mut dyn Disk, index: u64) {
        let Some(kept) = self.get(disk, index) else {
            return;
        };
        self.cut(disk, kept.pos + kept.size(), index + 1);
        self.end = Some((kept.index, kept.term));
    }

    /// A follower's `truncate` to the leader's log: drops every entry from `entry.index` on
    /// and stores the leader's `entry` in its place (the entries before it are the leader's,
    /// at the same positions).
    pub fn replace_from(
        &mut self,
        disk: &mut dyn Disk,
        entry: &Entry,
    ) -> Result<(), AppendRefused> {
        let next = self.end.map_or(self.begin, |(end, _)| end + 1);
        if entry.index < self.begin || entry.index > next {
            let end = self.end.map(|(end, _)| end);
            return Err(AppendRefused::InconsistentIndex { end });
        }
        if entry.index < next {
            let before = entry.index.checked_sub(1).filter(|b| *b >= self.begin);
            let kept = before.and_then(|b| self.unit(disk, b));
            self.cut(disk, entry.pos, entry.index);
            self.end = kept.map(|unit| (unit.index, unit.term));
        }
        self.append_replica(disk, entry)
    }

    /// The committed index moved (`updateCommittedIndex`): only forward.
    pub fn update_committed(&mut self, index: u64) {
        if self.committed.is_some_and(|committed| index <= committed) {
            return;
        }
        self.committed = Some(index);
    }

    /// Forces what was written to the data and index files since the last flush, every file
    /// from the one holding the flushed position on (`MmapFileList.flush`, every
    /// `flushFileInterval`); the disk answers each flush later.
    pub fn flush(&mut self, disk: &mut dyn Disk) -> Vec<FlushId> {
        let mut flushes = Vec::new();
        for queue in [&mut self.data, &mut self.index] {
            let end = queue.max_offset(false);
            let from = queue.flushed_where.min(end);
            let size = queue.file_size;
            let written =
                |file: &&MappedFile| from < end && file.from + size > from && file.from < end;
            for file in queue.files.iter().filter(written) {
                flushes.push(disk.flush(&file.path));
            }
            queue.flushed_where = end;
        }
        flushes
    }

    /// Cuts the data files at `pos` and the index files at `index`; what is written there
    /// next is flushed again.
    fn cut(&mut self, disk: &mut dyn Disk, pos: u64, index: u64) {
        self.changes.push(LogChange::Cut { from: index });
        let index_offset = index * INDEX_UNIT_BYTES;
        self.data.truncate_dirty_files(disk, pos);
        self.index.truncate_dirty_files(disk, index_offset);
        self.data.flushed_where = self.data.flushed_where.min(pos);
        self.index.flushed_where = self.index.flushed_where.min(index_offset);
    }

    /// Writes the checkpoint (`endIndex`, `committedIndex`), every `checkPointInterval`.
    pub fn checkpoint(&self, disk: &mut dyn Disk) -> FlushId {
        let path = format!("{}/{CHECKPOINT}", self.dir);
        let number = |index: Option<u64>| index.map_or(-1, |i| i as i64);
        let text = format!(
            "endIndex={}\ncommittedIndex={}\n",
            number(self.end.map(|(end, _)| end)),
            number(self.committed)
        );
        disk.create(&path, 0);
        disk.truncate(&path, 0);
        disk.write(&path, 0, text.as_bytes());
        disk.flush(&path)
    }

    /// The committed index the checkpoint holds, if it is readable.
    fn checkpointed_committed(&self, disk: &dyn Disk) -> Option<u64> {
        let path = format!("{}/{CHECKPOINT}", self.dir);
        let len = disk.len(&path)?;
        let bytes = disk.read(&path, 0, len as usize);
        let text = std::str::from_utf8(&bytes).ok()?;
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("committedIndex="))?;
        line.parse::<i64>().ok().and_then(|i| u64::try_from(i).ok())
    }

    /// `recover`: keeps entries while they follow on (position, index, non-decreasing term),
    /// cuts the data files after the last, rebuilds the index, and takes the committed index
    /// from the checkpoint (never past the end).
    fn recover(&mut self, disk: &mut dyn Disk) {
        let kept = self.scan(disk);
        let cut = kept
            .last()
            .map_or(self.data.min_offset(), |e| e.pos + e.size);
        self.data.truncate_dirty_files(disk, cut);
        self.data.flushed_where = cut;
        self.index.destroy(disk);
        self.begin = kept.first().map_or(0, |e| e.index);
        self.end = None;
        for unit in kept {
            self.write_unit(disk, unit);
            self.end = Some((unit.index, unit.term));
        }
        let end = self.end.map(|(end, _)| end);
        self.committed = self
            .checkpointed_committed(disk)
            .zip(end)
            .map(|(c, e)| c.min(e));
    }

    /// Every entry of the data files that follows on from the one before it.
    fn scan(&self, disk: &dyn Disk) -> Vec<IndexUnit> {
        let mut kept: Vec<IndexUnit> = Vec::new();
        'files: for file in &self.data.files {
            let content = disk.read(&file.path, 0, self.data.file_size as usize);
            let mut position = 0u64;
            while position < self.data.file_size {
                let rest = &content[position as usize..];
                // A blank (at least 8 bytes: its magic and size) ends the file's entries.
                if rest.get(..4) == Some(&BLANK_MAGIC.to_be_bytes()[..]) {
                    continue 'files;
                }
                let Some(header) = Header::read(rest) else {
                    break 'files;
                };
                let follows =
                    |last: &IndexUnit| header.index == last.index + 1 && header.term >= last.term;
                let pos = file.from + position;
                let valid = header.magic == MAGIC
                    && header.pos == pos
                    && kept.last().is_none_or(follows)
                    && Entry::decode(rest).is_some();
                if !valid {
                    break 'files;
                }
                kept.push(IndexUnit {
                    pos,
                    size: header.size,
                    index: header.index,
                    term: header.term,
                });
                position += header.size;
            }
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    /// Data files of 256 bytes (three 68-byte entries and a blank), index files of 4 units.
    fn open(disk: &mut MemDisk) -> DLedgerStore {
        DLedgerStore::open(disk, "dledger", 256, 4).expect("opens")
    }

    fn body(n: u8) -> Vec<u8> {
        vec![n; 20]
    }

    #[test]
    fn appends_roll_files_with_a_blank_and_read_back_through_the_index() {
        let mut disk = MemDisk::new();
        let mut store = open(&mut disk);
        let entries: Vec<Entry> = (0..7)
            .map(|n| store.append(&mut disk, 1, body(n)))
            .collect();
        assert_eq!(store.end(), Some((6, 1)));
        assert_eq!(
            entries[3].pos, 256,
            "the fourth entry starts the second file"
        );
        for entry in &entries {
            assert_eq!(store.get(&disk, entry.index).as_ref(), Some(entry));
        }
        assert_eq!(store.get(&disk, 7), None);
    }

    /// Two 120-byte entries leave 16 bytes of a 256-byte file: the third starts the next
    /// file after a blank shorter than a header, and recovery reads on past it.
    #[test]
    fn recovery_reads_on_past_a_blank_shorter_than_a_header() {
        let mut disk = MemDisk::new();
        let mut store = open(&mut disk);
        let entries: Vec<Entry> = (0..3)
            .map(|n| store.append(&mut disk, 1, vec![n; 72]))
            .collect();
        assert_eq!(entries[2].pos, 256);
        let recovered = open(&mut disk);
        assert_eq!(recovered.end(), Some((2, 1)));
        assert_eq!(recovered.get(&disk, 2).as_ref(), Some(&entries[2]));
    }

    /// An entry that would leave less than a blank's 8 bytes goes to the next file.
    #[test]
    fn an_entry_leaves_room_for_a_blank() {
        let mut disk = MemDisk::new();
        let mut store = open(&mut disk);
        store.append(&mut disk, 1, vec![0; 52]);
        store.append(&mut disk, 1, vec![1; 52]);
        // 56 bytes free: a 52-byte entry would leave 4, less than a blank.
        let small = store.append(&mut disk, 1, vec![2; 4]);
        assert_eq!(small.size(), 52);
        assert_eq!(small.pos, 256);
    }

    #[test]
    fn a_follower_appends_only_what_follows_its_end_at_the_leaders_position() {
        let mut disk = MemDisk::new();
        let mut leader = open(&mut disk);
        let pushed: Vec<Entry> = (0..3)
            .map(|n| leader.append(&mut disk, 2, body(n)))
            .collect();
        let mut follower_disk = MemDisk::new();
        let mut follower = open(&mut follower_disk);
        let skipped = follower.append_replica(&mut follower_disk, &pushed[1]);
        assert_eq!(skipped, Err(AppendRefused::InconsistentIndex { end: None }));
        for entry in &pushed {
            follower
                .append_replica(&mut follower_disk, entry)
                .expect("follows");
        }
        assert_eq!(follower.end(), Some((2, 2)));
        assert_eq!(follower.get(&follower_disk, 2), Some(pushed[2].clone()));
    }

    #[test]
    fn a_flush_forces_every_file_written_since_the_last_one() {
        let mut disk = MemDisk::new();
        let mut store = open(&mut disk);
        for n in 0..3 {
            store.append(&mut disk, 1, body(n));
        }
        assert_eq!(store.flush(&mut disk).len(), 2, "a data and an index file");
        // The fourth entry rolls: a blank ends the first data file, unflushed till now.
        store.append(&mut disk, 1, body(3));
        disk.take_flushes();
        store.flush(&mut disk);
        let flushed: Vec<String> = disk.take_flushes().into_iter().map(|(_, p)| p).collect();
        let data_files = store.data.files.iter().map(|f| f.path.clone());
        let mut expected: Vec<String> = data_files.collect();
        expected.push(store.index.files[0].path.clone());
        assert_eq!(flushed, expected);
        assert!(store.flush(&mut disk).is_empty(), "nothing new");
        // A truncation rewrites below the flushed position: the rewrite is flushed again.
        store.truncate(&mut disk, 0);
        store.append(&mut disk, 2, body(9));
        assert_eq!(store.flush(&mut disk).len(), 2);
    }

    #[test]
    fn truncation_keeps_the_matched_entry_and_never_lowers_the_committed_index() {
        let mut disk = MemDisk::new();
        let mut store = open(&mut disk);
        for n in 0..5 {
            store.append(&mut disk, 1, body(n));
        }
        store.update_committed(4);
        store.truncate(&mut disk, 1);
        assert_eq!(store.end(), Some((1, 1)));
        assert_eq!(store.get(&disk, 2), None);
        assert_eq!(store.committed_index(), Some(4), "dledger #316");
        let next = store.append(&mut disk, 3, body(9));
        assert_eq!((next.index, next.term), (2, 3));
        assert_eq!(store.get(&disk, 2), Some(next));
    }

    #[test]
    fn recovery_cuts_a_torn_tail_and_takes_the_committed_index_from_the_checkpoint() {
        let mut disk = MemDisk::new();
        let mut store = open(&mut disk);
        let entries: Vec<Entry> = (0..5)
            .map(|n| store.append(&mut disk, 1, body(n)))
            .collect();
        store.update_committed(3);
        store.checkpoint(&mut disk);
        // The last entry's page was torn: its header never reached the media. (Its body
        // would pass: DLedger 0.3.1.2 computes no CRC.)
        let torn = &entries[4];
        let path = store.data.files[1].path.clone();
        disk.write(&path, torn.pos - 256, &[0; 8]);
        let recovered = open(&mut disk);
        assert_eq!(recovered.end(), Some((3, 1)));
        assert_eq!(recovered.committed_index(), Some(3));
        assert_eq!(recovered.get(&disk, 3), Some(entries[3].clone()));
        assert_eq!(recovered.get(&disk, 4), None);
    }
}

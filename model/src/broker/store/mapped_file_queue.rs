//! A directory of fixed-size files that together form one log (`MappedFileQueue`): each file is
//! named by the 20-digit offset of its first byte, and has a wrote, a committed and a flushed
//! position. The bytes live on the [`Disk`]; this keeps the positions.

use crate::disk::Disk;

/// `DELETE_FILES_BATCH_MAX`: files one retention pass deletes at most.
pub const DELETE_FILES_BATCH_MAX: usize = 10;

/// The OS page size RocketMQ counts dirty pages in.
pub const OS_PAGE_BYTES: u64 = 4096;

/// One file of the log and its three positions, kept in order by the methods that move them:
/// `flushed <= committed <= wrote <= size` (what reached the media, what reached the page
/// cache, what was appended, possibly to a write buffer first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedFile {
    pub path: String,
    /// Offset of the file's first byte in the log.
    pub from: u64,
    size: u64,
    wrote: u64,
    committed: u64,
    flushed: u64,
    /// Created as the first file of an empty queue (a ConsumeQueue may start mid-file).
    pub first_create_in_queue: bool,
    /// Store timestamp of the last record appended (`MappedFile.storeTimestamp`).
    pub store_timestamp_ms: u64,
}

impl MappedFile {
    /// A file of `size` bytes whose positions are all at `position`.
    fn at(path: String, from: u64, size: u64, position: u64) -> MappedFile {
        let mut file = MappedFile {
            path,
            from,
            size,
            wrote: 0,
            committed: 0,
            flushed: 0,
            first_create_in_queue: false,
            store_timestamp_ms: 0,
        };
        file.reset_to(position);
        file
    }

    /// What was appended (`wrotePosition`).
    pub fn wrote(&self) -> u64 {
        self.wrote
    }

    /// What reached the page cache (`committedPosition`).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// What reached the media (`flushedPosition`).
    pub fn flushed(&self) -> u64 {
        self.flushed
    }

    pub fn is_full(&self, file_size: u64) -> bool {
        self.wrote == file_size
    }

    /// Appends `bytes`: into the page cache, committed with them, or into a write buffer
    /// (`buffered`, the transient store pool) to be committed later.
    pub fn append(&mut self, bytes: u64, buffered: bool) {
        crate::invariant!(
            self.wrote + bytes <= self.size,
            "mapped-file-append-fits",
            "{}: {bytes} bytes at {} of a {}-byte file",
            self.path,
            self.wrote,
            self.size
        );
        self.wrote += bytes;
        if !buffered {
            self.committed = self.wrote;
        }
        self.check();
    }

    /// The write buffer reached the page cache: everything appended is committed.
    pub fn commit_all(&mut self) {
        self.committed = self.wrote;
        self.check();
    }

    /// A flush to `position` completed; a flush never moves the position back.
    pub fn flush_to(&mut self, position: u64) {
        crate::invariant!(
            position <= self.committed,
            "mapped-file-flush-within-committed",
            "{}: flushed to {position}, but only {} reached the page cache",
            self.path,
            self.committed
        );
        self.flushed = self.flushed.max(position);
        self.check();
    }

    /// Recovery or truncation sets every position to `position` (the bytes past it stay).
    pub fn reset_to(&mut self, position: u64) {
        crate::invariant!(
            position <= self.size,
            "mapped-file-reset-within-size",
            "{}: positions set to {position} in a {}-byte file",
            self.path,
            self.size
        );
        (self.wrote, self.committed, self.flushed) = (position, position, position);
    }

    fn check(&self) {
        crate::invariant!(
            self.flushed <= self.committed
                && self.committed <= self.wrote
                && self.wrote <= self.size,
            "mapped-file-positions-ordered",
            "{}: flushed {} committed {} wrote {} size {}",
            self.path,
            self.flushed,
            self.committed,
            self.wrote,
            self.size
        );
    }

    /// `isAbleToFlush`: a full file, or enough dirty pages, or (with 0) anything unflushed.
    pub fn able_to_flush(&self, file_size: u64, read_position: u64, least_pages: u64) -> bool {
        if self.is_full(file_size) {
            return true;
        }
        if least_pages > 0 {
            return read_position / OS_PAGE_BYTES - self.flushed / OS_PAGE_BYTES >= least_pages;
        }
        read_position > self.flushed
    }
}

#[derive(Clone, Debug)]
pub struct MappedFileQueue {
    pub dir: String,
    pub file_size: u64,
    pub files: Vec<MappedFile>,
    pub flushed_where: u64,
    pub committed_where: u64,
}

/// A file's name: its start offset in 20 digits.
/// The start of the file after the one holding `offset`, in files of `file_size` bytes
/// (`rollNextFile`).
pub fn next_file_start(offset: u64, file_size: u64) -> u64 {
    offset + file_size - offset % file_size
}

pub fn file_name(offset: u64) -> String {
    format!("{offset:020}")
}

impl MappedFileQueue {
    pub fn new(dir: &str, file_size: u64) -> MappedFileQueue {
        MappedFileQueue {
            dir: dir.to_string(),
            file_size,
            files: Vec::new(),
            flushed_where: 0,
            committed_where: 0,
        }
    }

    /// Finds the files already on disk (`load`). Each is taken as full until recovery sets
    /// its positions. A file of the wrong size is an error, as in RocketMQ.
    pub fn load(disk: &dyn Disk, dir: &str, file_size: u64) -> Result<MappedFileQueue, String> {
        let mut queue = MappedFileQueue::new(dir, file_size);
        for name in disk.list(dir) {
            let path = format!("{dir}/{name}");
            let Ok(from) = name.parse::<u64>() else {
                continue;
            };
            let len = disk.len(&path).unwrap_or(0);
            if len != file_size {
                return Err(format!(
                    "{path} is {len} bytes, not the configured {file_size}"
                ));
            }
            queue
                .files
                .push(MappedFile::at(path, from, file_size, file_size));
        }
        queue.files.sort_by_key(|file| file.from);
        Ok(queue)
    }

    pub fn last(&self) -> Option<&MappedFile> {
        self.files.last()
    }

    /// The last file, creating one if there is none or the last is full
    /// (`getLastMappedFile(startOffset, true)`). Returns its index.
    pub fn last_or_create(&mut self, disk: &mut dyn Disk, start_offset: u64) -> usize {
        let create_at = match self.files.last() {
            None => Some(start_offset - start_offset % self.file_size),
            Some(last) if last.is_full(self.file_size) => Some(last.from + self.file_size),
            Some(_) => None,
        };
        if let Some(from) = create_at {
            let path = format!("{}/{}", self.dir, file_name(from));
            disk.create(&path, self.file_size);
            if let Some(last) = self.files.last() {
                crate::invariant!(
                    from == last.from + self.file_size,
                    "mapped-files-contiguous",
                    "{}: a file at {from} after the one at {}",
                    self.dir,
                    last.from
                );
            }
            let mut file = MappedFile::at(path, from, self.file_size, 0);
            file.first_create_in_queue = self.files.is_empty();
            self.files.push(file);
        }
        self.files.len() - 1
    }

    /// The index of the file holding `offset` (`findMappedFileByOffset`).
    pub fn find(&self, offset: u64) -> Option<usize> {
        let first = self.files.first()?;
        if offset < first.from {
            return None;
        }
        let index = ((offset - first.from) / self.file_size) as usize;
        let file = self.files.get(index)?;
        crate::invariant!(
            offset < file.from + self.file_size,
            "mapped-file-found-holds-offset",
            "{}: offset {offset} found in the file at {}",
            self.dir,
            file.from
        );
        (file.from <= offset).then_some(index)
    }

    /// The first byte still held (`getMinOffset`).
    pub fn min_offset(&self) -> u64 {
        self.files.first().map_or(0, |file| file.from)
    }

    /// One past the last readable byte: wrote, or committed when `committed_only`.
    pub fn max_offset(&self, committed_only: bool) -> u64 {
        self.files.last().map_or(0, |file| {
            file.from
                + if committed_only {
                    file.committed
                } else {
                    file.wrote
                }
        })
    }

    /// Cuts the log at `offset` (`truncateDirtyFiles`): the file holding it gets its positions
    /// set there (its bytes stay, as in RocketMQ), later files are deleted.
    pub fn truncate_dirty_files(&mut self, disk: &mut dyn Disk, offset: u64) {
        let file_size = self.file_size;
        self.files.retain_mut(|file| {
            if file.from + file_size <= offset {
                return true;
            }
            if offset >= file.from {
                file.reset_to(offset - file.from);
                true
            } else {
                disk.delete(&file.path);
                false
            }
        });
        crate::invariant!(
            self.max_offset(false) <= offset,
            "truncation-leaves-log-at-offset",
            "{}: cut at {offset}, the log still ends at {}",
            self.dir,
            self.max_offset(false)
        );
    }

    /// Deletes the `count` oldest files (retention's `deleteExpiredFile`).
    pub fn delete_first(&mut self, disk: &mut dyn Disk, count: usize) {
        for file in self.files.drain(..count) {
            disk.delete(&file.path);
        }
    }

    /// `deleteExpiredFileByTime`: from the oldest, every file whose mtime is `reserved_ms` old
    /// at `wall_ms` (any file when `at_once`), stopping at the first younger one, never the
    /// last file, at most `DELETE_FILES_BATCH_MAX`. Returns how many went.
    pub fn delete_expired_by_time(
        &mut self,
        disk: &mut dyn Disk,
        reserved_ms: u64,
        wall_ms: u64,
        at_once: bool,
    ) -> usize {
        let candidates = self.files.len().saturating_sub(1);
        let mut expired = 0;
        for file in &self.files[..candidates] {
            let modified = disk.modified_ms(&file.path).unwrap_or(0);
            if !(at_once || wall_ms >= modified.saturating_add(reserved_ms)) {
                break; // "avoid deleting files in the middle"
            }
            expired += 1;
            if expired >= DELETE_FILES_BATCH_MAX {
                break;
            }
        }
        self.delete_first(disk, expired);
        expired
    }

    /// `deleteExpiredFileByOffset`: from the oldest, every file whose last unit of `unit`
    /// bytes points below `offset` (its first 8 bytes), never the last file.
    pub fn delete_expired_by_offset(&mut self, disk: &mut dyn Disk, offset: u64, unit: u64) {
        let candidates = self.files.len().saturating_sub(1);
        let mut expired = 0;
        for file in &self.files[..candidates] {
            let last = disk.read(&file.path, self.file_size - unit, 8);
            let Ok(bytes) = <[u8; 8]>::try_from(&*last) else {
                break;
            };
            if i64::from_be_bytes(bytes) >= offset as i64 {
                break;
            }
            expired += 1;
        }
        self.delete_first(disk, expired);
    }

    /// Deletes the last file (`deleteLastMappedFile`).
    pub fn delete_last(&mut self, disk: &mut dyn Disk) {
        if let Some(file) = self.files.pop() {
            disk.delete(&file.path);
        }
    }

    /// Deletes every file, the newest first.
    pub fn destroy(&mut self, disk: &mut dyn Disk) {
        for file in self.files.drain(..).rev() {
            disk.delete(&file.path);
        }
        self.flushed_where = 0;
        self.committed_where = 0;
    }

    /// What a flush with `least_pages` would write now: the file holding `flushed_where` (by
    /// its first offset: retention may delete older files before the flush completes) and the
    /// position to flush it to, or `None` if it is not worth a flush yet.
    pub fn flush_candidate(&self, least_pages: u64, committed_only: bool) -> Option<(u64, u64)> {
        let index = self
            .find(self.flushed_where)
            .or_else(|| (self.flushed_where == 0 && !self.files.is_empty()).then_some(0))?;
        let file = &self.files[index];
        let read_position = if committed_only {
            file.committed
        } else {
            file.wrote
        };
        file.able_to_flush(self.file_size, read_position, least_pages)
            .then_some((file.from, read_position))
    }

    /// The index of the file whose first offset is `from`, if it is still there.
    fn index_of(&self, from: u64) -> Option<usize> {
        self.find(from).filter(|i| self.files[*i].from == from)
    }

    /// The file whose first offset is `from`, if it is still there.
    pub fn file_at(&self, from: u64) -> Option<&MappedFile> {
        Some(&self.files[self.index_of(from)?])
    }

    /// A flush to `position` of the file whose first offset is `from` completed.
    pub fn flushed(&mut self, from: u64, position: u64) {
        if let Some(file) = self.index_of(from).map(|i| &mut self.files[i]) {
            file.flush_to(position);
            // As in 4.9.8, `flushedWhere` is not moved back by a truncation of the files
            // (`truncateDirtyLogicFiles`): it may stand past the log's end for a while.
            self.flushed_where = self.flushed_where.max(file.from + file.flushed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    #[test]
    fn files_are_named_by_offset_and_created_as_needed() {
        let mut disk = MemDisk::new();
        let mut queue = MappedFileQueue::new("store/commitlog", 1024);
        assert_eq!(queue.last_or_create(&mut disk, 0), 0);
        queue.files[0].append(1024, false);
        assert_eq!(queue.last_or_create(&mut disk, 0), 1);
        assert_eq!(queue.files[1].from, 1024);
        assert_eq!(
            disk.list("store/commitlog"),
            vec![file_name(0), file_name(1024)]
        );
        assert_eq!(queue.find(1500), Some(1));
        assert_eq!(queue.find(2048), None);
        let loaded = MappedFileQueue::load(&disk, "store/commitlog", 1024).unwrap();
        assert_eq!(loaded.files.len(), 2);
        assert!(MappedFileQueue::load(&disk, "store/commitlog", 2048).is_err());
    }

    #[test]
    fn truncation_keeps_bytes_but_moves_positions() {
        let mut disk = MemDisk::new();
        let mut queue = MappedFileQueue::new("log", 1024);
        for _ in 0..3 {
            let index = queue.last_or_create(&mut disk, 0);
            queue.files[index].append(1024, false);
        }
        queue.truncate_dirty_files(&mut disk, 1500);
        assert_eq!(queue.files.len(), 2);
        assert_eq!(queue.files[1].wrote(), 476);
        assert_eq!(queue.max_offset(false), 1500);
        assert_eq!(disk.list("log").len(), 2);
    }

    #[test]
    fn flushing_waits_for_enough_pages_unless_told_otherwise() {
        let mut disk = MemDisk::new();
        let mut queue = MappedFileQueue::new("log", 64 * 1024);
        queue.last_or_create(&mut disk, 0);
        queue.files[0].append(3 * OS_PAGE_BYTES + 10, false);
        assert_eq!(queue.flush_candidate(4, false), None);
        assert_eq!(
            queue.flush_candidate(0, false),
            Some((0, 3 * OS_PAGE_BYTES + 10))
        );
        queue.files[0].append(OS_PAGE_BYTES - 10, false);
        assert_eq!(
            queue.flush_candidate(4, false),
            Some((0, 4 * OS_PAGE_BYTES))
        );
        queue.flushed(0, 4 * OS_PAGE_BYTES);
        assert_eq!(queue.flushed_where, 4 * OS_PAGE_BYTES);
    }
}

#[cfg(test)]
mod invariant_tests {
    use super::*;

    fn violation(step: impl FnOnce(&mut MappedFile)) -> String {
        let (name, _) = crate::invariant::fired(|| {
            let mut file = MappedFile::at("log/0".into(), 0, 1024, 0);
            step(&mut file);
        });
        name
    }

    #[test]
    fn positions_stay_in_order() {
        assert_eq!(
            violation(|f| f.append(2048, false)),
            "mapped-file-append-fits"
        );
        assert_eq!(
            violation(|f| {
                f.append(100, true);
                f.flush_to(100);
            }),
            "mapped-file-flush-within-committed"
        );
        assert_eq!(
            violation(|f| f.reset_to(1025)),
            "mapped-file-reset-within-size"
        );
    }
}

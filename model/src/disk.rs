//! The disk as a broker process sees it: named files it reads and writes synchronously (the
//! page cache, as through `mmap`) and flushes asynchronously (`fsync`/`force`).
//!
//! The harness decides what a flush means and what survives a crash (`sim::disk`); the model
//! only knows that data is durable once the flush it asked for has completed
//! ([`crate::node::Node::on_flushed`]). [`MemDisk`] is a plain in-memory disk for unit tests.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// Names one flush request; its completion is reported with the same id.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlushId(pub u64);

pub trait Disk {
    /// Names of the files and directories directly inside `dir`, sorted, each once.
    fn list(&self, dir: &str) -> Vec<String>;
    /// The file's length, or `None` if it does not exist.
    fn len(&self, path: &str) -> Option<u64>;
    /// Up to `len` bytes from `offset`; shorter at the end of the file, empty past it.
    /// Borrowed where the disk holds the bytes contiguously (a page-cache disk copies a read
    /// that spans pages).
    fn read(&self, path: &str, offset: u64, len: usize) -> Cow<'_, [u8]>;
    /// Writes into the page cache, creating or extending the file (with zeros) as needed.
    fn write(&mut self, path: &str, offset: u64, data: &[u8]);
    /// Creates a zero-filled file of `len` bytes (a preallocated mapped file), or keeps an
    /// existing one.
    fn create(&mut self, path: &str, len: u64);
    /// Cuts the file to `len` bytes.
    fn truncate(&mut self, path: &str, len: u64);
    fn delete(&mut self, path: &str);
    /// When the file was last written or created, by this machine's wall clock in ms (its
    /// mtime: `File.lastModified`), or `None` if it does not exist.
    fn modified_ms(&self, path: &str) -> Option<u64>;
    /// How full the disk is (`getDiskPartitionSpaceUsedPercent`).
    fn usage(&self) -> DiskUsage;
    /// Asks for the file's written data to become durable; completion comes later.
    fn flush(&mut self, path: &str) -> FlushId;
    /// Bytes of the page cache written and not yet on the media (whole pages): what the OS
    /// throttles writers by (`vm.dirty_ratio`).
    fn dirty_bytes(&self) -> u64;
}

/// The bytes the files of a disk take and the disk's size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DiskUsage {
    pub used: u64,
    pub capacity: u64,
}

impl DiskUsage {
    /// Whether more than `percent` % of the disk is used (`physicRatio > ratio`), counted as
    /// RocketMQ counts: a whole percent, rounded up.
    pub fn above_percent(self, percent: u64) -> bool {
        self.used_percent() > percent
    }

    /// The used share in whole percent, rounded up (`Math.ceil(used * 100 / entire)`).
    pub fn used_percent(self) -> u64 {
        if self.capacity == 0 {
            return 100;
        }
        (u128::from(self.used) * 100).div_ceil(u128::from(self.capacity)) as u64
    }
}

/// A disk whose writes are immediately final and whose flushes complete at once (the caller
/// delivers the completion itself). For unit tests of the model.
#[derive(Clone, Debug, Default)]
pub struct MemDisk {
    pub files: BTreeMap<String, Vec<u8>>,
    next_flush: u64,
    /// Flushes asked for and not yet taken by the test.
    pub flushes: Vec<(FlushId, String)>,
    /// The wall clock writes are stamped with; the test moves it.
    pub clock_ms: u64,
    modified: BTreeMap<String, u64>,
    /// The disk's size; `None` is unbounded.
    pub capacity: Option<u64>,
}

impl MemDisk {
    pub fn new() -> MemDisk {
        MemDisk::default()
    }

    /// Takes the flushes requested so far, for the test to complete.
    pub fn take_flushes(&mut self) -> Vec<(FlushId, String)> {
        std::mem::take(&mut self.flushes)
    }
}

/// The direct children of `dir` among sorted file paths: each child name once, sorted.
pub fn children<'a>(paths: impl Iterator<Item = &'a str>, dir: &str) -> Vec<String> {
    let prefix = format!("{dir}/");
    let mut names: Vec<String> = paths
        .filter_map(|path| path.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
        .collect();
    names.dedup();
    names
}

impl Disk for MemDisk {
    fn list(&self, dir: &str) -> Vec<String> {
        children(self.files.keys().map(String::as_str), dir)
    }

    fn len(&self, path: &str) -> Option<u64> {
        self.files.get(path).map(|data| data.len() as u64)
    }

    fn read(&self, path: &str, offset: u64, len: usize) -> Cow<'_, [u8]> {
        let Some(data) = self.files.get(path) else {
            return Cow::Borrowed(&[]);
        };
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(len).min(data.len());
        Cow::Borrowed(&data[start..end])
    }

    fn write(&mut self, path: &str, offset: u64, bytes: &[u8]) {
        let data = self.files.entry(path.to_string()).or_default();
        let end = offset as usize + bytes.len();
        if data.len() < end {
            data.resize(end, 0);
        }
        data[offset as usize..end].copy_from_slice(bytes);
        self.modified.insert(path.to_string(), self.clock_ms);
    }

    fn create(&mut self, path: &str, len: u64) {
        self.files
            .entry(path.to_string())
            .or_insert_with(|| vec![0; len as usize]);
        self.modified
            .entry(path.to_string())
            .or_insert(self.clock_ms);
    }

    fn truncate(&mut self, path: &str, len: u64) {
        if let Some(data) = self.files.get_mut(path) {
            data.truncate(len as usize);
        }
    }

    fn delete(&mut self, path: &str) {
        self.files.remove(path);
        self.modified.remove(path);
    }

    fn modified_ms(&self, path: &str) -> Option<u64> {
        self.modified.get(path).copied()
    }

    fn usage(&self) -> DiskUsage {
        DiskUsage {
            used: self.files.values().map(|data| data.len() as u64).sum(),
            capacity: self.capacity.unwrap_or(u64::MAX),
        }
    }

    /// Writes are final at once: nothing is ever dirty.
    fn dirty_bytes(&self) -> u64 {
        0
    }

    fn flush(&mut self, path: &str) -> FlushId {
        self.next_flush += 1;
        let id = FlushId(self.next_flush);
        self.flushes.push((id, path.to_string()));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_clamped_and_listing_is_per_directory() {
        let mut disk = MemDisk::new();
        disk.write("store/commitlog/00000000000000000000", 2, b"abc");
        disk.create("store/checkpoint", 8);
        assert_eq!(
            &*disk.read("store/commitlog/00000000000000000000", 0, 10),
            b"\0\0abc"
        );
        assert_eq!(
            &*disk.read("store/commitlog/00000000000000000000", 9, 10),
            b""
        );
        assert_eq!(disk.list("store/commitlog"), vec!["00000000000000000000"]);
        assert_eq!(disk.list("store"), vec!["checkpoint", "commitlog"]);
        assert_eq!(disk.len("store/checkpoint"), Some(8));
    }
}

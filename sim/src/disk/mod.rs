//! The simulated disk: a madsim plugin holding one disk per machine, keyed by the machine's
//! node address.
//!
//! Writes land in the page cache and mark pages dirty; a flush writes the file's dirty pages
//! to the media after a latency drawn from the `disk` stream and is reported back to the node
//! when complete. What a failure does:
//! - the OS flusher: every 5 s, pages dirty for 30 s or more are written back
//!   (`dirty_writeback_centisecs`, `dirty_expire_centisecs`), fsync or not;
//! - process crash (kill): nothing here, the page cache belongs to the OS and survives;
//! - power loss: flushes in progress write back a prefix of their pages, the next page may be
//!   torn at a sector boundary, and every other dirty page is lost;
//! - OS crash: the controller, still powered, completes the flushes in progress; every other
//!   dirty page is lost (no torn page);
//! - disk loss: the machine comes back with an empty disk;
//! - slow disk: flushes issued during the window take a long, fixed extra time;
//! - bit rot: one byte of a file changes on the media (a latent sector error).
//!
//! File length changes (create, extend, truncate, delete) are durable at once, as a journaling
//! file system makes its metadata; the data in a file is not.

mod file;

pub use file::{File, PAGE_BYTES, SECTOR_BYTES};

use crate::rng::Stream;
use model::disk::{Disk, DiskUsage, FlushId};
use model::{NodeId, Time};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Disk settings of a run.
#[derive(Clone, Debug)]
pub struct DiskConfig {
    pub flush_latency_min_ms: u64,
    pub flush_latency_max_ms: u64,
    /// How old a dirty page must be for the OS flusher to write it back.
    pub writeback_expire_ms: u64,
    /// Each machine's disk size; a machine not named has an unbounded disk.
    pub capacities: BTreeMap<NodeId, u64>,
}

/// How often the OS flusher runs.
pub const WRITEBACK_INTERVAL_MS: u64 = 5_000;

impl Default for DiskConfig {
    fn default() -> DiskConfig {
        DiskConfig {
            flush_latency_min_ms: 1,
            flush_latency_max_ms: 8,
            writeback_expire_ms: 30_000,
            capacities: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug)]
struct InFlight {
    path: String,
    /// The pages dirty when the flush was issued, ascending.
    pages: Vec<usize>,
    completes_at: Time,
}

/// One machine's disk.
#[derive(Clone, Debug, Default)]
pub struct DiskState {
    files: BTreeMap<String, File>,
    /// The files' dirty pages and lengths, summed: kept as the files change, since the store
    /// asks for them at every put (`vm.dirty_ratio`) and every cleanup.
    dirty_pages: usize,
    used: u64,
    in_flight: Vec<InFlight>,
    next_flush: u64,
    /// Extra flush latency while a slow-disk fault is on.
    slow_extra_ms: u64,
}

impl DiskState {
    /// Applies `change` to the file at `path`, if there is one, keeping the sums.
    fn change<R>(&mut self, path: &str, change: impl FnOnce(&mut File) -> R) -> Option<R> {
        let file = self.files.get_mut(path)?;
        Some(tracked(
            (&mut self.dirty_pages, &mut self.used),
            file,
            change,
        ))
    }

    /// Applies `change` to every file, keeping the sums.
    fn change_all(&mut self, mut change: impl FnMut(&mut File)) {
        for file in self.files.values_mut() {
            tracked((&mut self.dirty_pages, &mut self.used), file, &mut change);
        }
    }

    /// Completes every flush due by `now`.
    pub fn settle(&mut self, now: Time) {
        let (due, pending): (Vec<InFlight>, Vec<InFlight>) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|flush| flush.completes_at <= now);
        self.in_flight = pending;
        for flush in due {
            self.change(&flush.path, |file| {
                for page in flush.pages {
                    file.write_back(page);
                }
            });
        }
    }

    /// Starts a flush of `path`; returns its id and when it completes.
    pub fn flush(&mut self, path: &str, now: Time, latency_ms: u64) -> (FlushId, Time) {
        self.next_flush += 1;
        let id = FlushId(self.next_flush);
        let completes_at = now.plus_ms(latency_ms + self.slow_extra_ms);
        let pages = self
            .files
            .get(path)
            .map(File::dirty_pages)
            .unwrap_or_default();
        self.in_flight.push(InFlight {
            path: path.to_string(),
            pages,
            completes_at,
        });
        (id, completes_at)
    }

    /// The OS flusher's pass at `now`: pages dirty since `now - expire_ms` reach the media.
    pub fn writeback(&mut self, now: Time, expire_ms: u64) {
        self.settle(now);
        if now.as_ms() < expire_ms {
            return;
        }
        let before = Time::from_ms(now.as_ms() - expire_ms);
        if self.dirty_pages > 0 {
            self.change_all(|file| file.write_back_older_than(before));
        }
    }

    /// The machine lost power at `now`.
    pub fn power_loss(&mut self, now: Time, stream: &mut Stream) {
        self.settle(now);
        for flush in std::mem::take(&mut self.in_flight) {
            self.change(&flush.path, |file| {
                let written = stream.below(flush.pages.len() as u64 + 1) as usize;
                for page in &flush.pages[..written] {
                    file.write_back(*page);
                }
                if let Some(torn) = flush.pages.get(written) {
                    let sectors = stream.below((PAGE_BYTES / SECTOR_BYTES) as u64) as usize;
                    file.write_back_torn(*torn, sectors);
                }
            });
        }
        self.change_all(File::drop_cache);
    }

    /// The machine's OS crashed at `now`: the flushes in progress complete (the controller has
    /// the pages and its power), every other dirty page is lost.
    pub fn os_crash(&mut self, now: Time) {
        self.settle(now);
        for flush in std::mem::take(&mut self.in_flight) {
            self.change(&flush.path, |file| {
                for page in flush.pages {
                    file.write_back(page);
                }
            });
        }
        self.change_all(File::drop_cache);
    }

    /// One byte of the newest file in `dir` rots (on the media and in the cache), somewhere in
    /// its written part. Returns the file and the byte's position.
    pub fn rot(&mut self, dir: &str, stream: &mut Stream) -> Option<(String, u64)> {
        let prefix = format!("{dir}/");
        let (path, file) = self
            .files
            .iter_mut()
            .rfind(|(path, _)| path.starts_with(&prefix))?;
        let written = file.written_end();
        if written == 0 {
            return None;
        }
        let position = stream.below(written as u64) as usize;
        file.rot(position);
        Some((path.clone(), position as u64))
    }

    /// The machine's disk is gone: it comes back empty.
    pub fn wipe(&mut self) {
        *self = DiskState::default();
    }

    pub fn set_slow(&mut self, extra_ms: u64) {
        self.slow_extra_ms = extra_ms;
    }

    pub fn file(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    /// The file of `dir` holding byte `offset` of a log whose files are named by the offset
    /// of their first byte, zero-padded (the commitlog): the file and that first offset.
    pub fn log_file(&self, dir: &str, offset: u64) -> Option<(u64, &File)> {
        let prefix = format!("{dir}/");
        let last = format!("{prefix}{offset:020}");
        let (path, file) = self.files.range(prefix.clone()..=last).next_back()?;
        let base = path.strip_prefix(&prefix)?.parse::<u64>().ok()?;
        (offset < base + file.len() as u64).then_some((base, file))
    }

    pub fn dirty_pages(&self) -> usize {
        self.dirty_pages
    }

    /// The files directly inside `dir`, by path, in name order.
    pub fn files_in<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a File)> + 'a {
        let prefix = format!("{dir}/");
        let from = prefix.clone();
        (self.files.range(from..))
            .take_while(move |(path, _)| path.starts_with(&prefix))
            .map(|(path, file)| (path.as_str(), file))
    }

    /// The bytes the files take.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Creates the file at `path` as `make` builds it, if there is none.
    fn create(&mut self, path: &str, make: impl FnOnce() -> File) {
        if !self.files.contains_key(path) {
            let file = make();
            self.dirty_pages += file.dirty_page_count();
            self.used += file.len() as u64;
            self.files.insert(path.to_string(), file);
        }
    }

    fn remove(&mut self, path: &str) -> Option<File> {
        let file = self.files.remove(path)?;
        self.dirty_pages -= file.dirty_page_count();
        self.used -= file.len() as u64;
        Some(file)
    }
}

/// Applies `change` to `file` and moves a machine's sums (dirty pages, bytes used) by what it
/// changed.
fn tracked<R>(
    (dirty_pages, used): (&mut usize, &mut u64),
    file: &mut File,
    change: impl FnOnce(&mut File) -> R,
) -> R {
    let (pages, len) = (file.dirty_page_count(), file.len() as u64);
    let result = change(file);
    *dirty_pages = *dirty_pages + file.dirty_page_count() - pages;
    *used = *used + file.len() as u64 - len;
    result
}

/// A file a node deleted, with what the disk knew of it then: the harness's record of a
/// deletion (`SimEvent::FileDeleted`), which retention is judged by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted {
    pub path: String,
    pub len: u64,
    /// Its mtime.
    pub modified_ms: u64,
    /// The machine's wall clock at the deletion.
    pub wall_ms: u64,
    /// How full the disk was before the step's first deletion.
    pub usage: DiskUsage,
    /// No file of its directory had a lower name: the oldest of a log.
    pub oldest: bool,
    /// Files of its directory that remain after it.
    pub remaining: u32,
}

/// Every machine's disk and the disk stream.
pub struct Disks {
    machines: BTreeMap<NodeId, DiskState>,
    pub stream: Stream,
    pub config: DiskConfig,
}

impl Disks {
    pub fn machine(&mut self, node: NodeId) -> &mut DiskState {
        self.machines.entry(node).or_default()
    }

    /// A machine's disk as it is at `now` (its due flushes completed).
    pub fn settled(&mut self, node: NodeId, now: Time) -> &DiskState {
        let state = self.machines.entry(node).or_default();
        state.settle(now);
        state
    }

    /// The OS flusher's pass on every machine.
    pub fn writeback(&mut self, now: Time) {
        let expire_ms = self.config.writeback_expire_ms;
        for machine in self.machines.values_mut() {
            machine.writeback(now, expire_ms);
        }
    }

    /// The machine of `node` lost power at `now`.
    pub fn power_loss(&mut self, node: NodeId, now: Time) {
        let state = self.machines.entry(node).or_default();
        state.power_loss(now, &mut self.stream);
    }

    /// The OS of `node`'s machine crashed at `now`.
    pub fn os_crash(&mut self, node: NodeId, now: Time) {
        self.machines.entry(node).or_default().os_crash(now);
    }

    /// A byte of the newest file in `dir` on `node` rots.
    pub fn rot(&mut self, node: NodeId, dir: &str) -> Option<(String, u64)> {
        let state = self.machines.entry(node).or_default();
        state.rot(dir, &mut self.stream)
    }

    /// A node's disk as the model uses it, during one step at `now`, when the machine's wall
    /// clock shows `wall_ms` (files' mtimes are stamped with it).
    pub fn handle(&mut self, node: NodeId, now: Time, wall_ms: u64) -> NodeDisk<'_> {
        let state = self.machines.entry(node).or_default();
        state.settle(now);
        let capacity = self.config.capacities.get(&node).copied();
        NodeDisk {
            state,
            stream: &mut self.stream,
            config: &self.config,
            now,
            wall_ms,
            capacity: capacity.unwrap_or(u64::MAX),
            flushes: Vec::new(),
            deleted: Vec::new(),
        }
    }
}

/// The madsim plugin.
pub struct DiskSim {
    disks: Mutex<Disks>,
}

impl DiskSim {
    pub fn lock(&self) -> MutexGuard<'_, Disks> {
        self.disks.lock().expect("disk lock poisoned")
    }

    /// Seeds the disk stream and settings; called once when a run starts.
    pub fn configure(&self, stream: Stream, config: DiskConfig) {
        let mut disks = self.lock();
        disks.stream = stream;
        disks.config = config;
        disks.machines.clear();
    }
}

impl madsim::plugin::Simulator for DiskSim {
    fn new(
        _rand: &madsim::rand::GlobalRng,
        _time: &madsim::time::TimeHandle,
        _config: &madsim::Config,
    ) -> DiskSim {
        DiskSim {
            disks: Mutex::new(Disks {
                machines: BTreeMap::new(),
                stream: Stream::new(0, "disk"),
                config: DiskConfig::default(),
            }),
        }
    }

    /// A killed process leaves its machine's disk and page cache as they are.
    fn reset_node(&self, _id: madsim::task::NodeId) {}
}

/// One node's disk during one step; implements the model's [`Disk`].
pub struct NodeDisk<'a> {
    state: &'a mut DiskState,
    stream: &'a mut Stream,
    config: &'a DiskConfig,
    now: Time,
    /// The machine's wall clock during the step.
    wall_ms: u64,
    capacity: u64,
    /// Flushes started during this step, with their completion times.
    pub flushes: Vec<(FlushId, Time)>,
    /// Files deleted during this step.
    pub deleted: Vec<Deleted>,
}

impl NodeDisk<'_> {
    fn usage_now(&self) -> DiskUsage {
        DiskUsage {
            used: self.state.used(),
            capacity: self.capacity,
        }
    }
}

impl Disk for NodeDisk<'_> {
    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        let paths = self
            .state
            .files
            .range(prefix.clone()..)
            .map(|(path, _)| path.as_str())
            .take_while(|path| path.starts_with(&prefix));
        model::disk::children(paths, dir)
    }

    fn len(&self, path: &str) -> Option<u64> {
        self.state.files.get(path).map(|f| f.len() as u64)
    }

    fn read(&self, path: &str, offset: u64, len: usize) -> Cow<'_, [u8]> {
        let Some(file) = self.state.files.get(path) else {
            return Cow::Borrowed(&[]);
        };
        file.read(offset as usize, len)
    }

    fn write(&mut self, path: &str, offset: u64, data: &[u8]) {
        let (now, wall_ms) = (self.now, self.wall_ms);
        self.state.create(path, File::default);
        self.state.change(path, |file| {
            file.write(offset as usize, data, now);
            file.modified_ms = wall_ms;
        });
    }

    fn create(&mut self, path: &str, len: u64) {
        let wall_ms = self.wall_ms;
        self.state.create(path, || {
            let mut file = File::zeroed(len as usize);
            file.modified_ms = wall_ms;
            file
        });
    }

    fn truncate(&mut self, path: &str, len: u64) {
        let wall_ms = self.wall_ms;
        self.state.change(path, |file| {
            if (len as usize) < file.len() {
                file.resize(len as usize);
                file.modified_ms = wall_ms;
            }
        });
    }

    fn delete(&mut self, path: &str) {
        let usage = match self.deleted.first() {
            Some(first) => first.usage,
            None => self.usage_now(),
        };
        let Some(file) = self.state.remove(path) else {
            return;
        };
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let prefix = format!("{dir}/");
        let siblings = (self.state.files.range(prefix.clone()..))
            .take_while(|(other, _)| other.starts_with(&prefix))
            .filter(|(other, _)| !other[prefix.len()..].contains('/'));
        let (mut older, mut remaining) = (false, 0u32);
        for (other, _) in siblings {
            older |= other.as_str() < path;
            remaining += 1;
        }
        self.deleted.push(Deleted {
            path: path.to_string(),
            len: file.len() as u64,
            modified_ms: file.modified_ms,
            wall_ms: self.wall_ms,
            usage,
            oldest: !older,
            remaining,
        });
    }

    fn modified_ms(&self, path: &str) -> Option<u64> {
        self.state.files.get(path).map(|file| file.modified_ms)
    }

    fn usage(&self) -> DiskUsage {
        self.usage_now()
    }

    fn dirty_bytes(&self) -> u64 {
        (self.state.dirty_pages() * file::PAGE_BYTES) as u64
    }

    fn flush(&mut self, path: &str) -> FlushId {
        let latency = self.stream.between(
            self.config.flush_latency_min_ms,
            self.config.flush_latency_max_ms,
        );
        let (id, at) = self.state.flush(path, self.now, latency);
        self.flushes.push((id, at));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "store/commitlog/00000000000000000000";

    fn disks() -> Disks {
        Disks {
            machines: BTreeMap::new(),
            stream: Stream::new(3, "disk"),
            config: DiskConfig {
                flush_latency_min_ms: 5,
                flush_latency_max_ms: 5,
                writeback_expire_ms: 30_000,
                capacities: BTreeMap::new(),
            },
        }
    }

    fn node() -> NodeId {
        NodeId(1)
    }

    fn write_and_flush(disks: &mut Disks, bytes: &[u8], at: u64) -> Time {
        let mut disk = disks.handle(node(), Time::from_ms(at), 0);
        disk.create(LOG, 16 * 1024);
        disk.write(LOG, 0, bytes);
        disk.flush(LOG);
        disk.flushes[0].1
    }

    #[test]
    fn a_flush_completes_after_its_latency() {
        let mut disks = disks();
        let done = write_and_flush(&mut disks, &[7; 100], 10);
        assert_eq!(done, Time::from_ms(15));
        let machine = disks.machine(node());
        machine.settle(Time::from_ms(14));
        assert_eq!(machine.file(LOG).unwrap().durable()[0], 0);
        machine.settle(Time::from_ms(15));
        assert_eq!(machine.file(LOG).unwrap().durable()[..100], [7; 100]);
        assert_eq!(machine.dirty_pages(), 0);
    }

    #[test]
    fn the_sums_follow_every_change_of_the_files() {
        let mut disks = disks();
        let sums = |disks: &mut Disks| {
            let machine = disks.machine(node());
            let pages = machine.files.values().map(File::dirty_page_count).sum();
            let used: u64 = machine.files.values().map(|f| f.len() as u64).sum();
            assert_eq!((machine.dirty_pages(), machine.used()), (pages, used));
            (pages, used)
        };
        write_and_flush(&mut disks, &[7; 5000], 10);
        let mut disk = disks.handle(node(), Time::from_ms(11), 0);
        disk.write("store/other", 0, &[1; 9000]);
        disk.truncate(LOG, 4096);
        assert_eq!(sums(&mut disks), (4, 4096 + 9000));
        disks.machine(node()).settle(Time::from_ms(15));
        assert_eq!(sums(&mut disks), (3, 4096 + 9000));
        disks
            .handle(node(), Time::from_ms(16), 0)
            .delete("store/other");
        assert_eq!(sums(&mut disks), (0, 4096));
        disks
            .handle(node(), Time::from_ms(17), 0)
            .write(LOG, 0, &[2; 10]);
        disks.power_loss(node(), Time::from_ms(18));
        assert_eq!(sums(&mut disks), (0, 4096));
    }

    #[test]
    fn a_process_crash_keeps_the_page_cache() {
        let mut disks = disks();
        disks
            .handle(node(), Time::ZERO, 0)
            .write(LOG, 0, b"unflushed");
        // A kill touches nothing on the machine: the next process reads what the last wrote.
        let disk = disks.handle(node(), Time::from_ms(100), 0);
        assert_eq!(&*disk.read(LOG, 0, 9), b"unflushed");
    }

    #[test]
    fn an_os_crash_completes_the_flush_in_flight_and_loses_the_rest() {
        let mut disks = disks();
        write_and_flush(&mut disks, &[7; 5000], 10);
        disks
            .handle(node(), Time::from_ms(12), 0)
            .write(LOG, 8192, b"after the flush");
        // The flush completes at 15 ms; the OS dies at 12 ms with it in the controller's hands.
        disks.os_crash(node(), Time::from_ms(12));
        let file = disks.machine(node()).file(LOG).unwrap();
        assert_eq!(file.cached()[..5000], [7; 5000], "the flushed pages, whole");
        assert_eq!(
            file.cached()[8192..8207],
            [0; 15],
            "the unflushed page is gone"
        );
        assert_eq!(disks.machine(node()).dirty_pages(), 0);
    }

    #[test]
    fn the_os_writes_back_old_dirty_pages_without_a_flush() {
        let mut disks = disks();
        disks
            .handle(node(), Time::from_ms(1_000), 0)
            .write(LOG, 0, b"old");
        disks
            .handle(node(), Time::from_ms(20_000), 0)
            .write(LOG, 8192, b"new");
        disks.writeback(Time::from_ms(31_000));
        let machine = disks.machine(node());
        machine.power_loss(Time::from_ms(31_000), &mut Stream::new(1, "t"));
        let cached = machine.file(LOG).unwrap().cached();
        assert_eq!(&cached[..3], b"old");
        assert_eq!(&cached[8192..8195], &[0, 0, 0]);
    }

    #[test]
    fn power_loss_drops_dirty_pages() {
        let mut disks = disks();
        let done = write_and_flush(&mut disks, &[1; 5000], 0);
        disks.handle(node(), done, 0).write(LOG, 5000, &[2; 5000]);
        let machine = disks.machine(node());
        machine.power_loss(done, &mut Stream::new(1, "t"));
        let file = machine.file(LOG).unwrap();
        let cached = file.cached();
        assert_eq!(cached[..5000], [1; 5000]);
        assert!(
            cached[5000..].iter().all(|b| *b == 0),
            "unflushed data survived"
        );
        assert_eq!(cached, file.durable());
    }

    #[test]
    fn power_loss_during_a_flush_can_tear_a_page() {
        // Over many seeds, power lost mid-flush leaves every outcome from "nothing written" to
        // "all but a torn last page", always a prefix of the flushed pages.
        let mut torn = 0;
        for seed in 0..200 {
            let mut disks = disks();
            write_and_flush(&mut disks, &[9; 3 * PAGE_BYTES], 0);
            let machine = disks.machine(node());
            machine.power_loss(Time::from_ms(1), &mut Stream::new(seed, "t"));
            let durable = machine.file(LOG).unwrap().durable();
            let written = durable.iter().take_while(|b| **b == 9).count();
            assert!(durable[written..].iter().all(|b| *b == 0), "not a prefix");
            assert_eq!(written % SECTOR_BYTES, 0);
            if written % PAGE_BYTES != 0 {
                torn += 1;
            }
        }
        assert!(torn > 50, "only {torn} of 200 power losses tore a page");
    }

    #[test]
    fn disk_loss_leaves_nothing() {
        let mut disks = disks();
        let done = write_and_flush(&mut disks, b"durable", 0);
        let machine = disks.machine(node());
        machine.settle(done);
        machine.wipe();
        assert!(
            disks
                .handle(node(), done, 0)
                .list("store/commitlog")
                .is_empty()
        );
    }

    #[test]
    fn a_slow_disk_delays_flushes() {
        let mut disks = disks();
        disks.machine(node()).set_slow(6_000);
        let done = write_and_flush(&mut disks, b"x", 0);
        assert_eq!(done, Time::from_ms(6_005));
        disks.machine(node()).set_slow(0);
        let later = write_and_flush(&mut disks, b"y", 7_000);
        assert_eq!(later, Time::from_ms(7_005));
    }

    #[test]
    fn bit_rot_changes_one_written_byte_of_the_newest_file() {
        let mut disks = disks();
        let mut disk = disks.handle(node(), Time::ZERO, 0);
        disk.create("store/commitlog/00000000000000000000", 64);
        disk.create("store/commitlog/00000000000000000064", 64);
        disk.write("store/commitlog/00000000000000000064", 0, &[7; 10]);
        let (path, position) = disks.rot(node(), "store/commitlog").unwrap();
        assert_eq!(path, "store/commitlog/00000000000000000064");
        assert!(position < 10);
        // Unflushed: the media held a zero there, the cache a 7; both changed.
        let file = disks.machine(node()).file(&path).unwrap();
        assert_eq!(file.durable()[position as usize], 0xFF);
        assert_eq!(file.cached()[position as usize], 7 ^ 0xFF);
    }

    #[test]
    fn listing_is_per_directory() {
        let mut disks = disks();
        let mut disk = disks.handle(node(), Time::ZERO, 0);
        disk.create("store/commitlog/00000000000000000000", 10);
        disk.create("store/commitlog/00000000000000065536", 10);
        disk.create("store/consumequeue/orders/0/00000000000000000000", 10);
        disk.create("store/checkpoint", 10);
        assert_eq!(disk.list("store/commitlog").len(), 2);
        assert_eq!(
            disk.list("store"),
            vec!["checkpoint", "commitlog", "consumequeue"]
        );
        assert_eq!(disk.list("store/consumequeue/orders"), vec!["0"]);
    }
}

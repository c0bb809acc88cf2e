//! One file on a simulated disk: what the process sees (the page cache) and what is on the
//! media (durable), with the dirty pages between them and when each became dirty.

use model::Time;
use std::collections::BTreeMap;

/// The OS page size: the unit of dirtiness and of writeback.
pub const PAGE_BYTES: usize = 4096;
/// The unit a torn page tears at.
pub const SECTOR_BYTES: usize = 512;

#[derive(Clone, Debug, Default)]
pub struct File {
    /// The content as the process reads it.
    pub cached: Vec<u8>,
    /// The content on the media. Always as long as `cached`: size changes are durable at once.
    pub durable: Vec<u8>,
    /// Pages whose cached content may differ from the durable one, with when they became
    /// dirty (the OS writes back pages dirty for long enough).
    dirty: BTreeMap<usize, Time>,
}

impl File {
    pub fn zeroed(len: usize) -> File {
        File {
            cached: vec![0; len],
            durable: vec![0; len],
            dirty: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.cached.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cached.is_empty()
    }

    pub fn write(&mut self, offset: usize, bytes: &[u8], now: Time) {
        let end = offset + bytes.len();
        if self.cached.len() < end {
            self.resize(end);
        }
        self.cached[offset..end].copy_from_slice(bytes);
        if !bytes.is_empty() {
            for page in offset / PAGE_BYTES..=(end - 1) / PAGE_BYTES {
                self.dirty.entry(page).or_insert(now);
            }
        }
    }

    pub fn resize(&mut self, len: usize) {
        self.cached.resize(len, 0);
        self.durable.resize(len, 0);
        let pages = len.div_ceil(PAGE_BYTES);
        self.dirty.retain(|page, _| *page < pages);
    }

    /// The dirty pages, ascending.
    pub fn dirty_pages(&self) -> Vec<usize> {
        self.dirty.keys().copied().collect()
    }

    pub fn dirty_page_count(&self) -> usize {
        self.dirty.len()
    }

    /// Writes back every page dirty since `before` or earlier (the OS flusher).
    pub fn write_back_older_than(&mut self, before: Time) {
        let old: Vec<usize> = self
            .dirty
            .iter()
            .filter(|(_, since)| **since <= before)
            .map(|(page, _)| *page)
            .collect();
        for page in old {
            self.write_back(page);
        }
    }

    /// Writes a page's cached content to the media in full.
    pub fn write_back(&mut self, page: usize) {
        let (start, end) = self.page_range(page);
        if start < end {
            self.durable[start..end].copy_from_slice(&self.cached[start..end]);
        }
        self.dirty.remove(&page);
    }

    /// Writes only the first `sectors` sectors of a page to the media (a torn write).
    pub fn write_back_torn(&mut self, page: usize, sectors: usize) {
        let (start, end) = self.page_range(page);
        let torn_end = (start + sectors * SECTOR_BYTES).min(end);
        if start < torn_end {
            self.durable[start..torn_end].copy_from_slice(&self.cached[start..torn_end]);
        }
    }

    /// Forgets everything not written back: the page cache is gone.
    pub fn drop_cache(&mut self) {
        for page in self.dirty_pages() {
            let (start, end) = self.page_range(page);
            self.cached[start..end].copy_from_slice(&self.durable[start..end]);
        }
        self.dirty.clear();
    }

    fn page_range(&self, page: usize) -> (usize, usize) {
        let start = (page * PAGE_BYTES).min(self.cached.len());
        let end = ((page + 1) * PAGE_BYTES).min(self.cached.len());
        (start, end)
    }
}

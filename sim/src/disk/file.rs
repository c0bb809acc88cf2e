//! One file on a simulated disk: what the process sees (the page cache) and what is on the
//! media (durable), with the dirty pages between them.

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
    /// One bit per page whose cached content may differ from the durable one.
    dirty: Vec<u64>,
}

impl File {
    pub fn zeroed(len: usize) -> File {
        File {
            cached: vec![0; len],
            durable: vec![0; len],
            dirty: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.cached.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cached.is_empty()
    }

    pub fn write(&mut self, offset: usize, bytes: &[u8]) {
        let end = offset + bytes.len();
        if self.cached.len() < end {
            self.resize(end);
        }
        self.cached[offset..end].copy_from_slice(bytes);
        if !bytes.is_empty() {
            for page in offset / PAGE_BYTES..=(end - 1) / PAGE_BYTES {
                self.mark_dirty(page);
            }
        }
    }

    pub fn resize(&mut self, len: usize) {
        self.cached.resize(len, 0);
        self.durable.resize(len, 0);
        let pages = len.div_ceil(PAGE_BYTES);
        for page in pages..self.dirty.len() * 64 {
            self.clear_dirty(page);
        }
    }

    /// The dirty pages, ascending.
    pub fn dirty_pages(&self) -> Vec<usize> {
        let mut pages = Vec::new();
        for (word_index, word) in self.dirty.iter().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let bit = bits.trailing_zeros() as usize;
                pages.push(word_index * 64 + bit);
                bits &= bits - 1;
            }
        }
        pages
    }

    pub fn dirty_page_count(&self) -> usize {
        self.dirty.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Writes a page's cached content to the media in full.
    pub fn write_back(&mut self, page: usize) {
        let (start, end) = self.page_range(page);
        if start < end {
            self.durable[start..end].copy_from_slice(&self.cached[start..end]);
        }
        self.clear_dirty(page);
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

    fn mark_dirty(&mut self, page: usize) {
        let word = page / 64;
        if self.dirty.len() <= word {
            self.dirty.resize(word + 1, 0);
        }
        self.dirty[word] |= 1 << (page % 64);
    }

    fn clear_dirty(&mut self, page: usize) {
        if let Some(word) = self.dirty.get_mut(page / 64) {
            *word &= !(1 << (page % 64));
        }
    }
}

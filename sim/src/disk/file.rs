//! One file on a simulated disk: what the process sees (the page cache) and what is on the
//! media (durable), with the dirty pages between them and when each became dirty.
//!
//! Pages are stored sparsely: the media holds each page that is not all zeros once, and the
//! page cache is the media except for the dirty pages, which keep their cached content beside
//! it. A clean page is therefore shared by both views, and a preallocated file costs nothing
//! until it is written. Bytes of a last page past the file's end are always zero, in both
//! views.

use model::Time;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The OS page size: the unit of dirtiness and of writeback.
pub const PAGE_BYTES: usize = 4096;
/// The unit a torn page tears at.
pub const SECTOR_BYTES: usize = 512;

type Page = [u8; PAGE_BYTES];

/// What the media holds where nothing was ever written back.
static ZERO_PAGE: Page = [0; PAGE_BYTES];

fn zero_page() -> Box<Page> {
    Box::new([0; PAGE_BYTES])
}

/// A page whose cached content may differ from the durable one.
#[derive(Clone, Debug)]
struct Dirty {
    cached: Box<Page>,
    /// When it became dirty (the OS writes back pages dirty for long enough).
    since: Time,
}

#[derive(Clone, Debug, Default)]
pub struct File {
    /// The length of both views: size changes are durable at once.
    len: usize,
    /// The content on the media, one slot per page; `None` is a page of zeros.
    durable: Vec<Option<Box<Page>>>,
    /// The pages whose cached content may differ from the durable one.
    dirty: BTreeMap<usize, Dirty>,
    /// Its mtime: the machine's wall clock when it was last written or created (metadata,
    /// durable at once).
    pub modified_ms: u64,
}

impl File {
    pub fn zeroed(len: usize) -> File {
        let mut file = File::default();
        file.resize(len);
        file
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A page as the process sees it.
    fn cached_page(&self, page: usize) -> &Page {
        match self.dirty.get(&page) {
            Some(dirty) => &dirty.cached,
            None => self.durable_page(page),
        }
    }

    fn durable_page(&self, page: usize) -> &Page {
        self.durable[page].as_deref().unwrap_or(&ZERO_PAGE)
    }

    /// Up to `len` bytes of the cached content from `offset`, clamped to the file; borrowed
    /// when they lie within one page.
    pub fn read(&self, offset: usize, len: usize) -> Cow<'_, [u8]> {
        let start = offset.min(self.len);
        let end = start.saturating_add(len).min(self.len);
        if start == end {
            return Cow::Borrowed(&[]);
        }
        let (first, last) = (start / PAGE_BYTES, (end - 1) / PAGE_BYTES);
        if first == last {
            let base = first * PAGE_BYTES;
            return Cow::Borrowed(&self.cached_page(first)[start - base..end - base]);
        }
        let mut bytes = Vec::with_capacity(end - start);
        for page in first..=last {
            let base = page * PAGE_BYTES;
            let from = start.max(base) - base;
            let to = end.min(base + PAGE_BYTES) - base;
            bytes.extend_from_slice(&self.cached_page(page)[from..to]);
        }
        Cow::Owned(bytes)
    }

    /// The whole cached content.
    pub fn cached(&self) -> Vec<u8> {
        self.read(0, self.len).into_owned()
    }

    /// The whole content on the media.
    pub fn durable(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.len);
        for page in 0..self.durable.len() {
            bytes.extend_from_slice(self.durable_page(page));
        }
        bytes.truncate(self.len);
        bytes
    }

    pub fn write(&mut self, offset: usize, bytes: &[u8], now: Time) {
        let end = offset + bytes.len();
        if self.len < end {
            self.resize(end);
        }
        let mut at = offset;
        while at < end {
            let page = at / PAGE_BYTES;
            let base = page * PAGE_BYTES;
            let to = end.min(base + PAGE_BYTES);
            let cached = self.dirty_page(page, now);
            cached[at - base..to - base].copy_from_slice(&bytes[at - offset..to - offset]);
            at = to;
        }
    }

    /// The cached copy of a page, made dirty at `now` unless it already was.
    fn dirty_page(&mut self, page: usize, now: Time) -> &mut Page {
        if !self.dirty.contains_key(&page) {
            let cached = match &self.durable[page] {
                Some(durable) => durable.clone(),
                None => zero_page(),
            };
            self.dirty.insert(page, Dirty { cached, since: now });
        }
        &mut self.dirty.get_mut(&page).expect("a dirty page").cached
    }

    pub fn resize(&mut self, len: usize) {
        let pages = len.div_ceil(PAGE_BYTES);
        if len < self.len {
            self.durable.truncate(pages);
            self.dirty.split_off(&pages);
            let tail = len % PAGE_BYTES;
            if tail != 0 {
                let last = pages - 1;
                if let Some(durable) = &mut self.durable[last] {
                    durable[tail..].fill(0);
                }
                if let Some(dirty) = self.dirty.get_mut(&last) {
                    dirty.cached[tail..].fill(0);
                }
            }
        } else {
            self.durable.resize_with(pages, || None);
        }
        self.len = len;
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
            .filter(|(_, dirty)| dirty.since <= before)
            .map(|(page, _)| *page)
            .collect();
        for page in old {
            self.write_back(page);
        }
    }

    /// Writes a page's cached content to the media in full.
    pub fn write_back(&mut self, page: usize) {
        if let Some(dirty) = self.dirty.remove(&page) {
            self.durable[page] = Some(dirty.cached);
        }
    }

    /// Writes only the first `sectors` sectors of a page to the media (a torn write).
    pub fn write_back_torn(&mut self, page: usize, sectors: usize) {
        let torn_end = sectors * SECTOR_BYTES;
        if torn_end == 0 || page >= self.durable.len() {
            return;
        }
        let Some(dirty) = self.dirty.get(&page) else {
            return;
        };
        let durable = self.durable[page].get_or_insert_with(zero_page);
        durable[..torn_end].copy_from_slice(&dirty.cached[..torn_end]);
    }

    /// Forgets everything not written back: the page cache is gone.
    pub fn drop_cache(&mut self) {
        self.dirty.clear();
    }

    /// The position one past the last non-zero byte of the cached content (0 if none).
    pub fn written_end(&self) -> usize {
        (0..self.durable.len())
            .rev()
            .find_map(|page| {
                let last = self.cached_page(page).iter().rposition(|b| *b != 0)?;
                Some(page * PAGE_BYTES + last + 1)
            })
            .unwrap_or(0)
    }

    /// How many of the `len` bytes from `offset` the media holds as the page cache does: the
    /// prefix of that range (within the file) that a power loss now would keep.
    pub fn media_holds(&self, offset: usize, len: usize) -> usize {
        let start = offset.min(self.len);
        let end = offset.saturating_add(len).min(self.len);
        let mut at = start;
        while at < end {
            let page = at / PAGE_BYTES;
            let base = page * PAGE_BYTES;
            let to = end.min(base + PAGE_BYTES);
            if let Some(dirty) = self.dirty.get(&page) {
                let cached = &dirty.cached[at - base..to - base];
                let durable = &self.durable_page(page)[at - base..to - base];
                if let Some(differs) = cached.iter().zip(durable).position(|(c, d)| c != d) {
                    return at + differs - start;
                }
            }
            at = to;
        }
        end - start
    }

    /// Flips every bit of one byte, on the media and in the cache (bit rot).
    pub fn rot(&mut self, position: usize) {
        assert!(position < self.len, "rot past the end of the file");
        let (page, at) = (position / PAGE_BYTES, position % PAGE_BYTES);
        self.durable[page].get_or_insert_with(zero_page)[at] ^= 0xFF;
        if let Some(dirty) = self.dirty.get_mut(&page) {
            dirty.cached[at] ^= 0xFF;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Time {
        Time::from_ms(ms)
    }

    #[test]
    fn a_preallocated_file_stores_nothing_and_a_clean_page_is_stored_once() {
        let mut file = File::zeroed(16 * PAGE_BYTES);
        assert_eq!(file.durable.iter().flatten().count(), 0);
        file.write(PAGE_BYTES - 2, b"abcd", at(1));
        assert_eq!(file.dirty_pages(), vec![0, 1]);
        file.write_back(0);
        file.write_back(1);
        assert_eq!(file.durable.iter().flatten().count(), 2);
        assert_eq!(file.dirty_page_count(), 0);
        assert_eq!(&*file.read(PAGE_BYTES - 2, 4), b"abcd");
    }

    #[test]
    fn a_read_across_pages_is_the_cached_content() {
        let mut file = File::zeroed(3 * PAGE_BYTES);
        let bytes: Vec<u8> = (0..2 * PAGE_BYTES + 10).map(|i| i as u8 | 1).collect();
        file.write(5, &bytes, at(1));
        file.write_back(1);
        assert_eq!(&*file.read(5, bytes.len()), &bytes[..]);
        assert_eq!(file.read(3 * PAGE_BYTES - 1, 10).len(), 1);
        assert!(file.read(3 * PAGE_BYTES, 10).is_empty());
    }

    #[test]
    fn truncation_zeroes_both_views_past_the_end() {
        let mut file = File::zeroed(0);
        file.write(0, &[7; 100], at(1));
        file.write_back(0);
        file.write(50, &[8; 10], at(2));
        file.resize(40);
        file.resize(200);
        assert!(file.cached()[40..].iter().all(|b| *b == 0));
        assert!(file.durable()[40..].iter().all(|b| *b == 0));
        assert_eq!(file.cached()[..40], [7; 40]);
        assert_eq!(file.written_end(), 40);
    }

    #[test]
    fn the_media_holds_what_was_written_back_and_equal_bytes_of_dirty_pages() {
        let mut file = File::zeroed(3 * PAGE_BYTES);
        file.write(0, &[1; 100], at(1));
        file.write_back(0);
        assert_eq!(file.media_holds(0, 100), 100);
        // The page is dirty again, but its first 100 bytes are already on the media.
        file.write(100, &[2; PAGE_BYTES], at(2));
        assert_eq!(file.media_holds(0, 100), 100);
        assert_eq!(file.media_holds(50, 200), 50);
        assert_eq!(file.media_holds(PAGE_BYTES + 10, 10), 0);
        assert_eq!(
            file.media_holds(3 * PAGE_BYTES - 5, 10),
            5,
            "clean, up to the end"
        );
        file.write_back(1);
        assert_eq!(file.media_holds(PAGE_BYTES + 10, 10), 10);
    }

    #[test]
    fn a_torn_write_back_keeps_the_page_dirty() {
        let mut file = File::zeroed(PAGE_BYTES);
        file.write(0, &[5; PAGE_BYTES], at(1));
        file.write_back_torn(0, 2);
        assert_eq!(file.dirty_page_count(), 1);
        file.drop_cache();
        let cached = file.cached();
        assert_eq!(cached[..2 * SECTOR_BYTES], [5; 2 * SECTOR_BYTES]);
        assert!(cached[2 * SECTOR_BYTES..].iter().all(|b| *b == 0));
    }
}

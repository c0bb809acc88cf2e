//! The DLedger entry (`DLedgerEntry`, `DLedgerEntryCoder`): a 48-byte header (magic, size,
//! index, term, pos, channel, chain CRC, body CRC, body length) and the body, which for a
//! broker is one CommitLog record. The CRCs are never computed in 0.3.1.2: they stay 0. The
//! index file holds a 32-byte unit per entry (magic, pos, size, index, term), at `index * 32`.

/// `DLedgerEntry.CURRENT_MAGIC`.
pub const MAGIC: i32 = 1;
/// The magic of the blank that fills a data file's tail (`MmapFileList.BLANK_MAGIC_CODE`).
pub const BLANK_MAGIC: i32 = -1;
/// `DLedgerEntry.BODY_OFFSET`: where the body starts (the header and the body's length).
pub const BODY_OFFSET: u64 = 48;
/// `INDEX_UNIT_SIZE`.
pub const INDEX_UNIT_BYTES: u64 = 32;

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub index: u64,
    pub term: u64,
    /// Where the entry starts in the data files.
    pub pos: u64,
    pub body: Vec<u8>,
}

impl Entry {
    /// Its size on disk.
    pub fn size(&self) -> u64 {
        BODY_OFFSET + self.body.len() as u64
    }

    pub fn encode(&self) -> Vec<u8> {
        let size = self.size();
        let mut out = Vec::with_capacity(size as usize);
        out.extend_from_slice(&MAGIC.to_be_bytes());
        out.extend_from_slice(&(size as i32).to_be_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.term.to_be_bytes());
        out.extend_from_slice(&self.pos.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes()); // channel
        out.extend_from_slice(&0i32.to_be_bytes()); // chain CRC, never computed
        out.extend_from_slice(&0i32.to_be_bytes()); // body CRC, never computed
        out.extend_from_slice(&(self.body.len() as i32).to_be_bytes());
        out.extend_from_slice(&self.body);
        crate::invariant!(
            out.len() as u64 == size,
            "dledger-entry-encoded-length",
            "entry {} encoded in {} bytes, {size} computed",
            self.index,
            out.len()
        );
        out
    }

    /// The entry `bytes` start with, if they hold a whole one with a sane header.
    pub fn decode(bytes: &[u8]) -> Option<Entry> {
        let header = Header::read(bytes)?;
        if header.magic != MAGIC || header.size < BODY_OFFSET {
            return None;
        }
        let body_len = i32::from_be_bytes(bytes.get(44..48)?.try_into().ok()?);
        if BODY_OFFSET + u64::try_from(body_len).ok()? != header.size {
            return None;
        }
        let body = bytes
            .get(BODY_OFFSET as usize..header.size as usize)?
            .to_vec();
        Some(Entry {
            index: header.index,
            term: header.term,
            pos: header.pos,
            body,
        })
    }
}

/// The fixed fields at the start of an entry, or of a blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub magic: i32,
    pub size: u64,
    pub index: u64,
    pub term: u64,
    pub pos: u64,
}

impl Header {
    pub fn read(bytes: &[u8]) -> Option<Header> {
        let i32_at = |at: usize| Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
        let u64_at = |at: usize| Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        Some(Header {
            magic: i32_at(0)?,
            size: u64::try_from(i32_at(4)?).ok()?,
            index: u64_at(8)?,
            term: u64_at(16)?,
            pos: u64_at(24)?,
        })
    }
}

/// The blank that fills the `remaining` bytes of a data file's tail: its magic and size.
pub fn blank(remaining: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    out.extend_from_slice(&BLANK_MAGIC.to_be_bytes());
    out.extend_from_slice(&(remaining as i32).to_be_bytes());
    out.truncate(remaining.min(8) as usize);
    out
}

/// One unit of the index file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexUnit {
    pub pos: u64,
    pub size: u64,
    pub index: u64,
    pub term: u64,
}

impl IndexUnit {
    pub fn of(entry: &Entry) -> IndexUnit {
        IndexUnit {
            pos: entry.pos,
            size: entry.size(),
            index: entry.index,
            term: entry.term,
        }
    }

    pub fn encode(&self) -> [u8; INDEX_UNIT_BYTES as usize] {
        let mut out = [0u8; INDEX_UNIT_BYTES as usize];
        out[0..4].copy_from_slice(&MAGIC.to_be_bytes());
        out[4..12].copy_from_slice(&self.pos.to_be_bytes());
        out[12..16].copy_from_slice(&(self.size as i32).to_be_bytes());
        out[16..24].copy_from_slice(&self.index.to_be_bytes());
        out[24..32].copy_from_slice(&self.term.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<IndexUnit> {
        let magic = i32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?);
        if magic != MAGIC {
            return None;
        }
        let size = i32::from_be_bytes(bytes.get(12..16)?.try_into().ok()?);
        Some(IndexUnit {
            pos: u64::from_be_bytes(bytes.get(4..12)?.try_into().ok()?),
            size: u64::try_from(size).ok()?,
            index: u64::from_be_bytes(bytes.get(16..24)?.try_into().ok()?),
            term: u64::from_be_bytes(bytes.get(24..32)?.try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_and_its_index_unit_round_trip() {
        let entry = Entry {
            index: 7,
            term: 3,
            pos: 4096,
            body: b"a commitlog record".to_vec(),
        };
        let bytes = entry.encode();
        assert_eq!(bytes.len() as u64, BODY_OFFSET + 18);
        assert_eq!(Entry::decode(&bytes), Some(entry.clone()));
        assert_eq!(
            Entry::decode(&bytes[..bytes.len() - 1]),
            None,
            "a torn entry"
        );
        let unit = IndexUnit::of(&entry);
        assert_eq!(IndexUnit::decode(&unit.encode()), Some(unit));
        assert_eq!(
            Header::read(&blank(100)).map(|h| h.magic),
            None,
            "a blank is 8 bytes"
        );
        assert_eq!(&blank(100)[..4], &BLANK_MAGIC.to_be_bytes());
    }
}

//! CommitLog records in RocketMQ 4.9.x's layout (`CommitLog.DefaultAppendMessageCallback`,
//! `checkMessageAndReturnSize`, `MessageDecoder`), big-endian as Java's `ByteBuffer`:
//!
//! ```text
//! TOTALSIZE 4 | MAGICCODE 4 | BODYCRC 4 | QUEUEID 4 | FLAG 4 | QUEUEOFFSET 8 | PHYSICALOFFSET 8
//! SYSFLAG 4 | BORNTIMESTAMP 8 | BORNHOST 8 | STORETIMESTAMP 8 | STOREHOST 8 | RECONSUMETIMES 4
//! PREPARED_TRANSACTION_OFFSET 8 | BODYLEN 4 + BODY | TOPICLEN 1 + TOPIC | PROPLEN 2 + PROPERTIES
//! ```
//!
//! A file's unused tail starts with an 8-byte blank filler `{remaining, BLANK_MAGIC}`.

use crate::ids::NodeId;
use crate::message::{decode_properties, property};
use std::collections::BTreeMap;

pub const MESSAGE_MAGIC_CODE: i32 = -626_843_481; // 0xDAA320A7
pub const BLANK_MAGIC_CODE: i32 = -875_286_124; // 0xCBD43194
/// The least room a file must keep for the blank filler (`END_FILE_MIN_BLANK_LENGTH`).
pub const END_FILE_MIN_BLANK_LENGTH: u64 = 8;

/// Byte offsets of the fields, for tests and for recovery's timestamp probe.
pub mod field {
    pub const TOTAL_SIZE: usize = 0;
    pub const MAGIC: usize = 4;
    pub const BODY_CRC: usize = 8;
    pub const QUEUE_ID: usize = 12;
    pub const FLAG: usize = 16;
    pub const QUEUE_OFFSET: usize = 20;
    pub const PHYSICAL_OFFSET: usize = 28;
    pub const SYS_FLAG: usize = 36;
    pub const BORN_TIMESTAMP: usize = 40;
    pub const BORN_HOST: usize = 48;
    pub const STORE_TIMESTAMP: usize = 56;
    pub const STORE_HOST: usize = 64;
    pub const RECONSUME_TIMES: usize = 72;
    pub const PREPARED_TRANSACTION_OFFSET: usize = 76;
    pub const BODY_LENGTH: usize = 84;
    pub const BODY: usize = 88;
}

/// A message as the broker stores it (`MessageExtBrokerInner`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreRequest {
    pub topic: String,
    pub queue_id: u32,
    pub flag: i32,
    pub sys_flag: i32,
    pub body: Vec<u8>,
    pub properties: String,
    pub born_timestamp_ms: u64,
    pub born_host: NodeId,
    pub reconsume_times: u32,
}

/// `calMsgLength` for IPv4 hosts.
pub fn record_length(body_len: usize, topic_len: usize, properties_len: usize) -> u64 {
    (field::BODY + body_len + 1 + topic_len + 2 + properties_len) as u64
}

/// An IPv4 address and port standing for a node (`10.0.x.y:10911`).
fn host_bytes(node: NodeId) -> [u8; 8] {
    let [hi, lo] = node.0.to_be_bytes();
    let port = 10911u32.to_be_bytes();
    [10, 0, hi, lo, port[0], port[1], port[2], port[3]]
}

fn host_from(bytes: &[u8]) -> NodeId {
    NodeId(u16::from_be_bytes([bytes[2], bytes[3]]))
}

/// Encodes one record. `queue_offset` and `physical_offset` are assigned by the caller under
/// the put lock.
pub fn encode(
    request: &StoreRequest,
    queue_offset: u64,
    physical_offset: u64,
    store_timestamp_ms: u64,
    store_host: NodeId,
) -> Vec<u8> {
    let topic = request.topic.as_bytes();
    let properties = request.properties.as_bytes();
    let length = record_length(request.body.len(), topic.len(), properties.len());
    let mut out = Vec::with_capacity(length as usize);
    out.extend_from_slice(&(length as i32).to_be_bytes());
    out.extend_from_slice(&MESSAGE_MAGIC_CODE.to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&request.body).to_be_bytes());
    out.extend_from_slice(&request.queue_id.to_be_bytes());
    out.extend_from_slice(&request.flag.to_be_bytes());
    out.extend_from_slice(&queue_offset.to_be_bytes());
    out.extend_from_slice(&physical_offset.to_be_bytes());
    out.extend_from_slice(&request.sys_flag.to_be_bytes());
    out.extend_from_slice(&request.born_timestamp_ms.to_be_bytes());
    out.extend_from_slice(&host_bytes(request.born_host));
    out.extend_from_slice(&store_timestamp_ms.to_be_bytes());
    out.extend_from_slice(&host_bytes(store_host));
    out.extend_from_slice(&request.reconsume_times.to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&(request.body.len() as u32).to_be_bytes());
    out.extend_from_slice(&request.body);
    out.push(topic.len() as u8);
    out.extend_from_slice(topic);
    out.extend_from_slice(&(properties.len() as u16).to_be_bytes());
    out.extend_from_slice(properties);
    crate::invariant!(
        out.len() as u64 == length,
        "record-encoded-length",
        "a record of {} bytes, {length} computed",
        out.len()
    );
    out
}

/// Checks a record's header before it is written: the length and magic code it carries and
/// the commitlog offset it claims (TigerBeetle's check of data before it is written).
pub fn check_header(bytes: &[u8], physical_offset: u64) {
    let field = |at: usize, len: usize| &bytes[at..at + len];
    let length = i32::from_be_bytes(field(field::TOTAL_SIZE, 4).try_into().expect("4 bytes"));
    let magic = i32::from_be_bytes(field(field::MAGIC, 4).try_into().expect("4 bytes"));
    let claimed = u64::from_be_bytes(
        field(field::PHYSICAL_OFFSET, 8)
            .try_into()
            .expect("8 bytes"),
    );
    crate::invariant!(
        length as usize == bytes.len() && magic == MESSAGE_MAGIC_CODE && claimed == physical_offset,
        "record-header-before-write",
        "length {length} of {} bytes, magic {magic:#x}, offset {claimed} at {physical_offset}",
        bytes.len()
    );
}

/// The blank filler written at the end of a file: `{remaining, BLANK_MAGIC_CODE}`.
pub fn blank(remaining: u64) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(remaining as i32).to_be_bytes());
    out[4..].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
    out
}

/// What dispatch needs of a record (`DispatchRequest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchRequest {
    pub topic: String,
    pub queue_id: u32,
    pub commit_log_offset: u64,
    pub size: u32,
    pub tags_code: i64,
    pub store_timestamp_ms: u64,
    pub queue_offset: u64,
    pub uniq_key: Option<String>,
    /// `KEYS`: the application's keys, separated by spaces.
    pub keys: Option<String>,
    /// The delay level of a message waiting in the schedule topic.
    pub delay_level: Option<u32>,
    /// `MessageSysFlag` (its transaction bits decide whether the record is dispatched).
    pub sys_flag: i32,
}

/// What a scan finds at a position (`checkMessageAndReturnSize`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scan {
    /// A whole, valid record.
    Record(DispatchRequest),
    /// The blank filler: the rest of the file is unused.
    EndOfFile,
    /// Not a valid record: zeros, a torn tail, a bad magic code, a CRC mismatch or a length
    /// that does not add up. Scanning stops here.
    Invalid,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let slice = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(slice)
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
}

/// Checks the record at the start of `bytes` (which may run past it). `check_crc` verifies
/// the body CRC, as recovery does with `checkCRCOnRecover`.
pub fn scan(bytes: &[u8], check_crc: bool) -> Scan {
    scan_inner(bytes, check_crc).unwrap_or(Scan::Invalid)
}

fn scan_inner(bytes: &[u8], check_crc: bool) -> Option<Scan> {
    let mut r = Reader { bytes, at: 0 };
    let total_size = r.i32()?;
    match r.i32()? {
        MESSAGE_MAGIC_CODE => {}
        BLANK_MAGIC_CODE => return Some(Scan::EndOfFile),
        _ => return Some(Scan::Invalid),
    }
    let body_crc = r.u32()?;
    let queue_id = r.u32()?;
    let _flag = r.i32()?;
    let queue_offset = r.u64()?;
    let physical_offset = r.u64()?;
    let sys_flag = r.i32()?;
    let _born_timestamp = r.u64()?;
    r.take(8)?;
    let store_timestamp_ms = r.u64()?;
    r.take(8)?;
    let _reconsume_times = r.u32()?;
    let _prepared = r.u64()?;
    let body_len = r.u32()? as usize;
    let body = r.take(body_len)?;
    if check_crc && crc32fast::hash(body) != body_crc {
        return Some(Scan::Invalid);
    }
    let topic_len = r.u8()? as usize;
    let topic = std::str::from_utf8(r.take(topic_len)?).ok()?.to_string();
    let properties_len = r.u16()? as usize;
    let properties = std::str::from_utf8(r.take(properties_len)?).ok()?;
    if i64::from(total_size) != record_length(body_len, topic_len, properties_len) as i64 {
        return Some(Scan::Invalid);
    }
    let properties = decode_properties(properties);
    let tags_code = crate::filter::tags_code(properties.get(property::TAGS).map(String::as_str));
    Some(Scan::Record(DispatchRequest {
        topic,
        queue_id,
        commit_log_offset: physical_offset,
        size: total_size as u32,
        tags_code,
        store_timestamp_ms,
        queue_offset,
        uniq_key: properties.get(property::UNIQ_KEY).cloned(),
        keys: properties.get(property::KEYS).cloned(),
        sys_flag,
        delay_level: properties
            .get(property::DELAY_TIME_LEVEL)
            .and_then(|l| l.parse().ok()),
    }))
}

/// The store timestamp of a record starting at `bytes`, if it starts with a message
/// (`isMappedFileMatchedRecover`).
pub fn store_timestamp(bytes: &[u8]) -> Option<u64> {
    let magic = i32::from_be_bytes(bytes.get(field::MAGIC..field::MAGIC + 4)?.try_into().ok()?);
    if magic != MESSAGE_MAGIC_CODE {
        return None;
    }
    let at = field::STORE_TIMESTAMP;
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// A decoded record as a consumer sees it (`MessageExt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    pub topic: String,
    pub queue_id: u32,
    pub flag: i32,
    pub queue_offset: u64,
    pub commit_log_offset: u64,
    pub born_timestamp_ms: u64,
    pub born_host: NodeId,
    pub store_timestamp_ms: u64,
    pub store_host: NodeId,
    pub reconsume_times: u32,
    pub body_crc: u32,
    pub body: Vec<u8>,
    pub properties: BTreeMap<String, String>,
}

impl StoredMessage {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    pub fn tags(&self) -> Option<&str> {
        self.property(property::TAGS)
    }

    pub fn message_id(&self) -> Option<crate::ids::MessageId> {
        crate::ids::MessageId::from_uniq_key(self.property(property::UNIQ_KEY)?)
    }
}

/// Decodes a whole record (`MessageDecoder.decode`); `None` if it is not one.
pub fn decode(bytes: &[u8]) -> Option<StoredMessage> {
    let mut r = Reader { bytes, at: 0 };
    let total_size = r.i32()?;
    if r.i32()? != MESSAGE_MAGIC_CODE {
        return None;
    }
    let body_crc = r.u32()?;
    let queue_id = r.u32()?;
    let flag = r.i32()?;
    let queue_offset = r.u64()?;
    let commit_log_offset = r.u64()?;
    let _sys_flag = r.i32()?;
    let born_timestamp_ms = r.u64()?;
    let born_host = host_from(r.take(8)?);
    let store_timestamp_ms = r.u64()?;
    let store_host = host_from(r.take(8)?);
    let reconsume_times = r.u32()?;
    let _prepared = r.u64()?;
    let body_len = r.u32()? as usize;
    let body = r.take(body_len)?.to_vec();
    let topic_len = r.u8()? as usize;
    let topic = std::str::from_utf8(r.take(topic_len)?).ok()?.to_string();
    let properties_len = r.u16()? as usize;
    let properties = decode_properties(std::str::from_utf8(r.take(properties_len)?).ok()?);
    if r.at as i64 != i64::from(total_size) {
        return None;
    }
    Some(StoredMessage {
        topic,
        queue_id,
        flag,
        queue_offset,
        commit_log_offset,
        born_timestamp_ms,
        born_host,
        store_timestamp_ms,
        store_host,
        reconsume_times,
        body_crc,
        body,
        properties,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::message::{Message, property};

    pub(crate) fn request(body: &[u8]) -> StoreRequest {
        let mut message = Message::new("orders", body.to_vec());
        message.set_property(property::KEYS, "key-1");
        message.set_property(property::TAGS, "TagA");
        StoreRequest {
            topic: message.topic.clone(),
            queue_id: 3,
            flag: 0,
            sys_flag: 0,
            body: message.body.clone(),
            properties: message.encode_properties(),
            born_timestamp_ms: 1_700_000_000_123,
            born_host: NodeId(7),
            reconsume_times: 0,
        }
    }

    #[test]
    fn a_record_round_trips() {
        let req = request(b"hello world");
        let bytes = encode(&req, 42, 4096, 1_700_000_000_200, NodeId(2));
        assert_eq!(
            bytes.len() as u64,
            record_length(11, 6, req.properties.len())
        );
        let Scan::Record(dispatch) = scan(&bytes, true) else {
            panic!("not a record")
        };
        assert_eq!(dispatch.queue_offset, 42);
        assert_eq!(dispatch.commit_log_offset, 4096);
        assert_eq!(dispatch.size as usize, bytes.len());
        assert_eq!(dispatch.tags_code, crate::filter::tags_code(Some("TagA")));
        let message = decode(&bytes).unwrap();
        assert_eq!(message.body, b"hello world");
        assert_eq!(message.born_host, NodeId(7));
        assert_eq!(message.store_host, NodeId(2));
        assert_eq!(message.property(property::KEYS), Some("key-1"));
        assert_eq!(store_timestamp(&bytes), Some(1_700_000_000_200));
    }

    #[test]
    fn a_flipped_body_byte_fails_the_crc_check() {
        let mut bytes = encode(&request(b"hello world"), 0, 0, 1, NodeId(0));
        bytes[field::BODY] ^= 0x01;
        assert_eq!(scan(&bytes, true), Scan::Invalid);
        assert!(matches!(scan(&bytes, false), Scan::Record(_)));
    }

    /// A record torn anywhere up to its property bytes fails the scan. Torn inside the
    /// property bytes it passes: RocketMQ checks the body CRC and that the lengths add up, and
    /// nothing covers the properties. Recovery then keeps a record with corrupt properties.
    #[test]
    fn truncation_is_caught_up_to_the_properties() {
        let req = request(b"hello world");
        let bytes = encode(&req, 0, 0, 1, NodeId(0));
        let properties_start = bytes.len() - req.properties.len();
        for cut in 0..bytes.len() {
            let mut torn = bytes[..cut].to_vec();
            torn.resize(bytes.len() + 16, 0);
            let scanned = scan(&torn, true);
            if cut < properties_start {
                assert_eq!(scanned, Scan::Invalid, "cut at {cut}");
            } else {
                let Scan::Record(dispatch) = scanned else {
                    panic!("cut at {cut} inside the properties should pass the scan")
                };
                assert_eq!(dispatch.size as usize, bytes.len());
            }
        }
    }

    #[test]
    fn the_blank_filler_ends_a_file() {
        assert_eq!(scan(&blank(100), true), Scan::EndOfFile);
        assert_eq!(scan(&[0; 16], true), Scan::Invalid);
    }
}

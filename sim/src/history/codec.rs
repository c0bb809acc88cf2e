//! The history's compact encoding: each entry as a few bytes, decoded back on demand.
//!
//! Integers are LEB128 varints, an entry's time is the difference from the one before, enums
//! are one tag byte, and every string is interned: it is stored once in the history's table
//! and each occurrence is its varint index there. Decoding an encoded entry gives back the
//! entry that was encoded, field for field (`tests` checks every kind of event).

use super::{Entry, Phase, Recorded, ReplicaHeld, SimEvent, Stop};
use model::event::{
    Event, ListenedMessage, QueueEntry, RemovalReason, RouteBroker, SendMode, SendStatus,
    TransactionState,
};
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// Every string the history holds, once each.
#[derive(Clone, Debug, Default)]
pub struct Strings {
    index: BTreeMap<String, u32>,
    table: Vec<String>,
}

impl Strings {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.index.get(text) {
            return *id;
        }
        let id = u32::try_from(self.table.len()).expect("fewer than 2^32 distinct strings");
        self.table.push(text.to_string());
        self.index.insert(text.to_string(), id);
        id
    }
}

/// Appends encoded values to a buffer.
pub struct Writer<'a> {
    pub bytes: &'a mut Vec<u8>,
    pub strings: &'a mut Strings,
}

impl Writer<'_> {
    fn byte(&mut self, byte: u8) {
        self.bytes.push(byte);
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }
}

/// Reads encoded values from a buffer, front to back.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub strings: &'a Strings,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.bytes.split_first().expect("a complete entry");
        self.bytes = rest;
        *first
    }

    fn varint(&mut self) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let byte = self.byte();
            value |= u64::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                return value;
            }
            shift += 7;
        }
    }
}

/// A value of the history that encodes itself.
pub trait Field: Sized {
    fn put(&self, w: &mut Writer<'_>);
    fn take(r: &mut Reader<'_>) -> Self;
}

macro_rules! varint_field {
    ($($ty:ty),*) => {$(
        impl Field for $ty {
            fn put(&self, w: &mut Writer<'_>) {
                w.varint(*self as u64);
            }
            fn take(r: &mut Reader<'_>) -> Self {
                <$ty>::try_from(r.varint()).expect("a value that was encoded")
            }
        }
    )*};
}

varint_field!(u16, u32, u64, usize);

/// Signed: zigzag, so that small magnitudes of either sign stay short.
impl Field for i64 {
    fn put(&self, w: &mut Writer<'_>) {
        w.varint(((*self << 1) ^ (*self >> 63)) as u64);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let n = r.varint();
        ((n >> 1) as i64) ^ -((n & 1) as i64)
    }
}

impl Field for bool {
    fn put(&self, w: &mut Writer<'_>) {
        w.byte(u8::from(*self));
    }
    fn take(r: &mut Reader<'_>) -> Self {
        r.byte() != 0
    }
}

impl Field for String {
    fn put(&self, w: &mut Writer<'_>) {
        let id = w.strings.intern(self);
        w.varint(u64::from(id));
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let id = r.varint() as usize;
        r.strings.table[id].clone()
    }
}

impl<T: Field> Field for Option<T> {
    fn put(&self, w: &mut Writer<'_>) {
        match self {
            None => w.byte(0),
            Some(value) => {
                w.byte(1);
                value.put(w);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Self {
        (r.byte() != 0).then(|| T::take(r))
    }
}

impl<T: Field> Field for Vec<T> {
    fn put(&self, w: &mut Writer<'_>) {
        self.len().put(w);
        for item in self {
            item.put(w);
        }
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let len = usize::take(r);
        (0..len).map(|_| T::take(r)).collect()
    }
}

impl<A: Field, B: Field> Field for (A, B) {
    fn put(&self, w: &mut Writer<'_>) {
        self.0.put(w);
        self.1.put(w);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let a = A::take(r);
        (a, B::take(r))
    }
}

impl Field for Time {
    fn put(&self, w: &mut Writer<'_>) {
        w.varint(self.as_ms());
    }
    fn take(r: &mut Reader<'_>) -> Self {
        Time::from_ms(r.varint())
    }
}

impl Field for NodeId {
    fn put(&self, w: &mut Writer<'_>) {
        self.0.put(w);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        NodeId(u16::take(r))
    }
}

/// Structs: their fields in order.
macro_rules! struct_field {
    ($ty:ident { $($field:ident),* }) => {
        impl Field for $ty {
            fn put(&self, w: &mut Writer<'_>) {
                let $ty { $($field),* } = self;
                $( $field.put(w); )*
            }
            fn take(r: &mut Reader<'_>) -> Self {
                $ty { $( $field: Field::take(r) ),* }
            }
        }
    };
}

struct_field!(MessageId { producer, seq });
struct_field!(QueueEntry {
    topic,
    queue_id,
    offset
});
struct_field!(RouteBroker { name, ids });
struct_field!(ReplicaHeld {
    node,
    upto,
    diverged
});
struct_field!(ListenedMessage {
    id,
    topic,
    queue_id,
    queue_offset,
    store_host,
    reconsume_times
});

/// Enums: a tag byte, then the variant's fields in order. Every variant is listed, and each
/// with all its fields, or the match does not compile.
macro_rules! enum_field {
    ($ty:ident { $( $variant:ident { $($field:ident),* } = $tag:literal ),* $(,)? }) => {
        impl Field for $ty {
            fn put(&self, w: &mut Writer<'_>) {
                match self {
                    $( $ty::$variant { $($field),* } => {
                        w.byte($tag);
                        $( $field.put(w); )*
                    } )*
                }
            }
            fn take(r: &mut Reader<'_>) -> Self {
                match r.byte() {
                    $( $tag => $ty::$variant { $( $field: Field::take(r) ),* }, )*
                    tag => panic!("no {} has the tag {tag}", stringify!($ty)),
                }
            }
        }
    };
}

enum_field!(SendMode { Sync {} = 0, Async {} = 1, Oneway {} = 2, Transaction {} = 3 });
enum_field!(TransactionState { Commit {} = 0, Rollback {} = 1, Unknown {} = 2 });
enum_field!(SendStatus {
    SendOk {} = 0,
    FlushDiskTimeout {} = 1,
    FlushSlaveTimeout {} = 2,
    SlaveNotAvailable {} = 3,
});
enum_field!(RemovalReason { ChannelClosed {} = 0, Expired {} = 1 });
enum_field!(Phase { Run {} = 0, Heal {} = 1, Drain {} = 2, ReadBack {} = 3, Done {} = 4 });
enum_field!(Stop { Kill {} = 0, PowerOff {} = 1, DiskLoss {} = 2, Shutdown {} = 3, OsCrash {} = 4 });
enum_field!(SimEvent {
    Phase { phase } = 0,
    Stopped { how } = 1,
    Started {} = 2,
    Paused {} = 3,
    Resumed {} = 4,
    FaultOn { fault, description } = 5,
    FaultOff { fault } = 6,
    Skipped { action, reason } = 7,
    Corrupted { file, position } = 8,
    Held { offset, end, media, replicas } = 9,
    RoleSwitched {} = 10,
    FileDeleted { file, len, modified_ms, wall_ms, used, capacity, oldest, remaining } = 11,
    ClockStepped { by_ms, offset_ms } = 12,
    RecoveryInputs { physic_ms, logics_ms, files } = 13,
});
enum_field!(Event {
    BrokerRegistered { broker, broker_id, addr } = 0,
    BrokerRemoved { broker, broker_id, addr, reason, last_update } = 1,
    RouteChanged { topic, name_server, brokers } = 2,
    SendInvoke { id, topic, key, tags, mode, body_crc } = 3,
    SendAttemptFailed { id, attempt, broker, error } = 4,
    SendOk { id, status, broker, store_host, queue_id, queue_offset, commit_log_offset, size,
        attempts } = 5,
    SendFail { id, error, attempts } = 6,
    SendInfo { id, error, attempts } = 7,
    WorkloadFinished { messages } = 8,
    Flushed { broker, offset } = 9,
    Replicated { broker, slave, offset, master_offset } = 10,
    ReplicaStarted { broker, offset } = 11,
    ReplicaMismatch { broker, master, master_offset, slave_offset } = 12,
    ReplicaOverclaimed { broker, slave, reported, master_offset } = 13,
    Recovered { broker, abnormal, scanned_from, max_offset, truncated_bytes } = 14,
    ConsumeQueueMisplaced { broker, entry, queue_offset, commit_log_offset } = 15,
    Delivered { group, consumer, id, topic, broker, queue_topic, queue_id, queue_offset,
        reconsume_times, body_crc, consumed, took_ms } = 16,
    Allocated { group, consumer, topic, mine, consumers, queues } = 17,
    QueueAssigned { group, consumer, broker, topic, queue_id, offset } = 18,
    QueueDropped { group, consumer, broker, topic, queue_id, reason } = 19,
    PullReplica { group, consumer, broker, topic, queue_id, slave } = 20,
    OffsetMoved { group, consumer, broker, topic, queue_id, from, to } = 21,
    ConsumerLag { group, behind } = 22,
    ConsumersCaughtUp {} = 23,
    ConsumerProgress { group, broker, topic, queue_id, consumer_offset, broker_offset } = 24,
    ListenerCall { messages, duration_ms, success, crashed } = 25,
    ReadBack { broker, replica, entry, topic, queue_id, queue_offset, commit_log_offset, id, key,
        size, body_crc } = 26,
    ReadBackNoRecord { broker, replica, topic, queue_id, from, to } = 27,
    ReadBackFailed { broker, replica, topic, queue_id, error } = 28,
    ReadBackDone { queues } = 29,
    TransactionDecided { id, state } = 30,
    TransactionEndSent { id, state, from_check, to } = 31,
    TransactionEnded { broker, id, requested, state, from_check, half_offset, put, size,
        refused } = 32,
    SentBack { broker, group, id, put, size } = 35,
    TransactionChecked { broker, id, times, half_offset, producer } = 33,
    TransactionDiscarded { broker, id, times } = 34,
    DLedgerVoteGranted { group, voter, term, candidate } = 36,
    DLedgerLeader { group, member, term } = 37,
    DLedgerStored { group, member, index, term, pos, size, crc } = 38,
    DLedgerCut { group, member, from, recovery } = 39,
    DLedgerCommitted { group, member, index, pos } = 40,
    DLedgerDispatched { group, member, from, to } = 41,
    ReadQueues { topic, broker, read_queue_nums, readable } = 42,
    TopicUpdated { broker, topic, read_queue_nums, write_queue_nums, perm } = 43,
    ClientDroppedTag { group, consumer, broker, topic, queue_id, queue_offset, tag } = 44,
    IndexLookup { broker, replica, id, found } = 45,
    KeysQueried { asked, broker, replica, topic, key, found, capped } = 46,
    OffsetsReset { asked, broker, group, topic, timestamp_ms, offsets } = 47,
    ConsumedDirectly { asked, broker, group, client, id, consumed } = 48,
    DirectConsumeAsked { group, client, id } = 49,
});

/// The tag of a model event; a harness event's tag follows it.
const MODEL: u8 = 0;
const SIM: u8 = 1;

/// Encodes `entry`, recorded after an entry at `previous`.
pub fn put_entry(entry: &Entry, previous: Time, w: &mut Writer<'_>) {
    let delta = entry.at.as_ms() as i64 - previous.as_ms() as i64;
    w.varint(((delta << 1) ^ (delta >> 63)) as u64);
    entry.node.put(w);
    match &entry.event {
        Recorded::Model(event) => {
            w.byte(MODEL);
            event.put(w);
        }
        Recorded::Sim(event) => {
            w.byte(SIM);
            event.put(w);
        }
    }
}

/// Decodes the entry recorded after an entry at `previous`.
pub fn take_entry(previous: Time, r: &mut Reader<'_>) -> Entry {
    let zigzag = r.varint();
    let delta = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
    let at = Time::from_ms((previous.as_ms() as i64 + delta) as u64);
    let node = <Option<NodeId> as Field>::take(r);
    let event = match r.byte() {
        MODEL => Recorded::Model(Event::take(r)),
        SIM => Recorded::Sim(SimEvent::take(r)),
        tag => panic!("no recorded event has the tag {tag}"),
    };
    Entry { at, node, event }
}

#[cfg(test)]
mod tests {
    use super::super::{Digest, History};
    use super::*;

    fn id(seq: u32) -> MessageId {
        MessageId { producer: 3, seq }
    }

    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    fn events() -> Vec<Recorded> {
        let entry = QueueEntry {
            topic: "orders".into(),
            queue_id: 2,
            offset: u64::MAX,
        };
        vec![
            Recorded::Model(Event::SendInvoke {
                id: id(0),
                topic: "orders".into(),
                key: Some("key-7".into()),
                tags: Some("TagA".into()),
                mode: SendMode::Oneway,
                body_crc: u32::MAX,
            }),
            Recorded::Model(Event::RouteChanged {
                topic: "orders".into(),
                name_server: NodeId(1),
                brokers: vec![RouteBroker {
                    name: "broker-a".into(),
                    ids: vec![0, 1],
                }],
            }),
            Recorded::Model(Event::BrokerRemoved {
                broker: "broker-a".into(),
                broker_id: 1,
                addr: NodeId(u16::MAX),
                reason: RemovalReason::Expired,
                last_update: Time::from_ms(12),
            }),
            Recorded::Model(Event::Allocated {
                group: "g".into(),
                consumer: "c-0".into(),
                topic: "orders".into(),
                mine: vec![("broker-b".into(), 3)],
                consumers: 2,
                queues: 8,
            }),
            Recorded::Model(Event::ListenerCall {
                messages: vec![ListenedMessage {
                    id: None,
                    topic: "%RETRY%g".into(),
                    queue_id: 0,
                    queue_offset: 9,
                    store_host: NodeId(4),
                    reconsume_times: 1,
                }],
                duration_ms: 0,
                success: false,
                crashed: true,
            }),
            Recorded::Model(Event::ReadBack {
                broker: "broker-a".into(),
                replica: NodeId(2),
                entry,
                topic: "orders".into(),
                queue_id: 2,
                queue_offset: 5,
                commit_log_offset: 1 << 40,
                id: None,
                key: None,
                size: 190,
                body_crc: 0,
            }),
            Recorded::Model(Event::ConsumersCaughtUp),
            Recorded::Model(Event::ReadQueues {
                topic: "orders".into(),
                broker: "broker-b".into(),
                read_queue_nums: 4,
                readable: false,
            }),
            Recorded::Model(Event::ClientDroppedTag {
                group: "billing".into(),
                consumer: "billing-1".into(),
                broker: "broker-a".into(),
                topic: "orders".into(),
                queue_id: 3,
                queue_offset: 17,
                tag: Some("BB".into()),
            }),
            Recorded::Model(Event::TopicUpdated {
                broker: "broker-b".into(),
                topic: "orders".into(),
                read_queue_nums: 4,
                write_queue_nums: 8,
                perm: 6,
            }),
            Recorded::Model(Event::DLedgerVoteGranted {
                group: "broker-a".into(),
                voter: "n1".into(),
                term: u64::MAX,
                candidate: "n2".into(),
            }),
            Recorded::Model(Event::DLedgerLeader {
                group: "broker-a".into(),
                member: "n2".into(),
                term: 7,
            }),
            Recorded::Sim(SimEvent::Phase {
                phase: Phase::ReadBack,
            }),
            Recorded::Sim(SimEvent::Stopped {
                how: Stop::PowerOff,
            }),
            Recorded::Sim(SimEvent::FaultOn {
                fault: 7,
                description: "drop SEND_MESSAGE responses".into(),
            }),
        ]
    }

    #[test]
    fn entries_decode_as_recorded() {
        let mut history = History::default();
        let mut recorded = Vec::new();
        // Times go back as well as forward, and enough entries fill several chunks.
        for i in 0..60_000u64 {
            for (k, event) in events().into_iter().enumerate() {
                let at = Time::from_ms(1_000 * i + [5, 0, 9][k % 3]);
                let node = (k % 4 != 0).then_some(NodeId(k as u16));
                let entry = Entry { at, node, event };
                history.record(&mut Digest::default(), entry.clone());
                recorded.push(entry);
            }
        }
        assert!(history.chunks.len() > 1, "one chunk only");
        assert_eq!(history.len(), recorded.len());
        assert_eq!(history.end(), recorded.last().unwrap().at);
        assert!(history.entries().eq(recorded.into_iter()));
    }
}

//! What producers invoked and were answered: one `Record` per message, indexed densely by
//! producer and sequence number, and the times the send figures are measured from.

use model::event::{Event, SendStatus};
use model::{MessageId, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::rc::Rc;

/// A name that many facts share (a topic, a broker group, a key): stored once, and held
/// through a thin pointer, so that each record naming it pays 8 bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::check) struct Name(Rc<Box<str>>);

thread_local! {
    /// The empty name every fresh record starts with, shared.
    static EMPTY: Name = Name(Rc::new(Box::from("")));
}

impl Default for Name {
    fn default() -> Name {
        EMPTY.with(Name::clone)
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    /// A name outside the shared set (for a fact made up once, not per message).
    fn from(name: &str) -> Name {
        Name(Rc::new(Box::from(name)))
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// Each distinct name once.
#[derive(Default)]
pub(in crate::check) struct Names {
    set: BTreeSet<Name>,
}

impl Names {
    pub fn get(&mut self, name: &str) -> Name {
        if let Some(known) = self.set.get(name) {
            return known.clone();
        }
        let name = Name::from(name);
        self.set.insert(name.clone());
        name
    }
}

/// An acknowledged send: what the broker answered, and when.
#[derive(Clone, Debug)]
pub(in crate::check) struct Ack {
    pub at: Time,
    /// How long before `at` the send that was acknowledged began (see `sent_at`).
    pub latency_ms: u32,
    pub status: SendStatus,
    pub broker: Name,
    pub queue_id: u32,
    pub queue_offset: u64,
    pub commit_log_offset: u64,
    pub store_host: NodeId,
    pub size: u32,
}

impl Ack {
    /// When the send that was acknowledged began: the earliest the broker could store it.
    pub fn sent_at(&self) -> Time {
        Time::from_ms(self.at.as_ms() - u64::from(self.latency_ms))
    }

    /// A record a broker put itself (a commit, a send-back) at `at`: where it stands, for the
    /// durability model, as if it had been acknowledged then.
    pub fn put_by_broker(at: Time, broker: Name, node: NodeId, (offset, size): (u64, u32)) -> Ack {
        Ack {
            at,
            latency_ms: 0,
            status: SendStatus::SendOk,
            broker,
            queue_id: 0,
            queue_offset: 0,
            commit_log_offset: offset,
            store_host: node,
            size,
        }
    }
}

/// A stored copy of a message, as the read-back found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::check) struct Copy {
    pub broker: Name,
    pub topic: Name,
    pub queue_id: u32,
    pub queue_offset: u64,
    pub commit_log_offset: u64,
    pub body_crc: u32,
}

impl Copy {
    /// The queue it is stored in: (broker, topic, queue id).
    pub fn queue(&self) -> super::Queue {
        (
            self.broker.to_string(),
            self.topic.to_string(),
            self.queue_id,
        )
    }
}

/// The copies of a message read back: most messages have exactly one, kept inline.
#[derive(Clone, Debug, Default)]
pub(in crate::check) enum Copies {
    #[default]
    None,
    One(Copy),
    Many(Vec<Copy>),
}

impl Copies {
    pub fn push(&mut self, copy: Copy) {
        *self = match std::mem::take(self) {
            Copies::None => Copies::One(copy),
            Copies::One(first) => Copies::Many(vec![first, copy]),
            Copies::Many(mut copies) => {
                copies.push(copy);
                Copies::Many(copies)
            }
        };
    }
}

impl Deref for Copies {
    type Target = [Copy];

    fn deref(&self) -> &[Copy] {
        match self {
            Copies::None => &[],
            Copies::One(copy) => std::slice::from_ref(copy),
            Copies::Many(copies) => copies,
        }
    }
}

/// Everything known about one message. What few messages have is kept apart (`Rare`), so
/// that a message sent once and acknowledged stays small.
#[derive(Clone, Debug, Default)]
pub(in crate::check) struct Record {
    pub topic: Name,
    pub key: Option<Name>,
    /// CRC32 of the body the producer sent.
    pub body_crc: u32,
    /// When it was first sent (meaningful once `invokes` counts a send).
    first_sent: Time,
    pub invokes: u32,
    pub outcomes: u32,
    /// Its tag, as an index into `SendFacts::tags` from 1 (0: no tag).
    tag: u16,
    /// Sent as a half message: judged by the transaction checker, not as a plain message.
    pub transactional: bool,
    pub ok: Option<Ack>,
    /// Copies in the queues of the message's own topic.
    pub copies: Copies,
    rare: Option<Box<Rare>>,
}

// The records are the index's largest table: one per message.
const _: () = assert!(size_of::<Record>() <= 144, "a record grew past 144 bytes");

/// The facts of a message that a plain send does not produce.
#[derive(Clone, Debug, Default)]
struct Rare {
    weak: Option<Ack>,
    infos: u32,
    /// Send operations that ended in failure (`SendFail`).
    fails: u32,
    /// Failed attempts, all of them, and of them the ones a broker answered SYSTEM_BUSY
    /// (4.9.8 answers it only for a request it never processes).
    failed_attempts: u32,
    refused: u32,
    /// Failed attempts, for the story: (time, broker, error).
    attempts: Vec<(Time, String, String)>,
    last_error: Option<(Time, String)>,
    /// Copies parked in dead-letter topics: (group, copy).
    dead_letters: Vec<(String, Copy)>,
}

impl Record {
    /// When the application first sent it.
    pub fn first_invoke(&self) -> Option<Time> {
        (self.invokes > 0).then_some(self.first_sent)
    }

    /// The acknowledgement the broker gave, the strongest first.
    pub fn ack(&self) -> Option<&Ack> {
        self.ok.as_ref().or(self.weak())
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// An acknowledgement weaker than SEND_OK (a flush or slave timeout).
    pub fn weak(&self) -> Option<&Ack> {
        self.rare.as_ref()?.weak.as_ref()
    }

    /// Outcomes that left it unknown whether the message was stored.
    pub fn infos(&self) -> u32 {
        self.rare.as_ref().map_or(0, |rare| rare.infos)
    }

    /// Attempts a broker answered SYSTEM_BUSY.
    pub fn refused(&self) -> u32 {
        self.rare.as_ref().map_or(0, |rare| rare.refused)
    }

    /// Copies no attempt accounts for, if a broker refused an attempt with SYSTEM_BUSY: each
    /// answer that stored it and each other failed attempt (its outcome may be unknown) stands
    /// for at most one copy, a refused attempt for none.
    pub fn stored_beyond_attempts(&self) -> Option<u32> {
        let rare = self.rare.as_ref().filter(|rare| rare.refused > 0)?;
        let answered_stored = self.outcomes - rare.fails - rare.infos;
        let may_have_stored = answered_stored + rare.failed_attempts - rare.refused;
        let copies = self.copies.len() as u32;
        (copies > may_have_stored).then(|| copies - may_have_stored)
    }

    /// Failed attempts (the first eight): (time, broker, error).
    pub fn attempts(&self) -> &[(Time, String, String)] {
        self.rare.as_ref().map_or(&[], |rare| &rare.attempts)
    }

    /// The last failed or unknown outcome: (time, error).
    pub fn last_error(&self) -> Option<&(Time, String)> {
        self.rare.as_ref()?.last_error.as_ref()
    }

    /// Copies parked in dead-letter topics: (group, copy).
    pub fn dead_letters(&self) -> &[(String, Copy)] {
        self.rare.as_ref().map_or(&[], |rare| &rare.dead_letters)
    }

    pub fn add_dead_letter(&mut self, group: &str, copy: Copy) {
        self.rare_mut().dead_letters.push((group.to_string(), copy));
    }
}

/// The producers' side of the history.
#[derive(Default)]
pub(in crate::check) struct SendFacts {
    /// Every message sent, by producer and sequence number.
    pub records: Vec<Vec<Record>>,
    /// Send operations (an application resend is another operation).
    pub sends: u64,
    pub weak_acks: u64,
    /// Invoke-to-answer latencies of acknowledged sends, in milliseconds; sorted once the
    /// history is folded (`finish`), so that percentiles read it without a copy.
    pub latencies: Vec<u32>,
    /// When each SEND_OK came back.
    ok_times: Vec<u32>,
    pub first_invoke: Option<Time>,
    pub last_outcome: Time,
    /// Every fault as it began: a rule taking effect, or a broker process or machine going
    /// down (the names of its kind and target).
    pub fault_starts: Vec<(Time, String)>,
    retry_sends: RetrySends,
    /// Messages sent and not answered yet, with when the open send began.
    open: BTreeMap<MessageId, Time>,
    /// The names the records share (also those of the copies read back).
    pub names: Names,
    /// The distinct tags of the messages, in the order first sent.
    tags: Vec<Name>,
}

impl SendFacts {
    /// Room for every message each producer of `scenario` sends, reserved at once: the
    /// records, latencies and SEND_OK times are the index's largest tables, and growing them
    /// by doubling would leave up to half of each unused.
    pub fn new(scenario: &crate::scenario::Scenario) -> SendFacts {
        let records: Vec<Vec<Record>> = (scenario.producers.iter())
            .map(|p| Vec::with_capacity(p.messages as usize))
            .collect();
        let messages = records.iter().map(Vec::capacity).sum();
        SendFacts {
            records,
            latencies: Vec::with_capacity(messages),
            ok_times: Vec::with_capacity(messages),
            ..SendFacts::default()
        }
    }

    /// When each SEND_OK came back, in order.
    pub fn ok_times(&self) -> impl ExactSizeIterator<Item = Time> + '_ {
        self.ok_times.iter().map(|ms| Time::from_ms(u64::from(*ms)))
    }

    /// When the first SEND_OK at or after `at` came back.
    pub fn next_ok(&self, at: Time) -> Option<Time> {
        let next = self
            .ok_times
            .partition_point(|ok| u64::from(*ok) < at.as_ms());
        self.ok_times
            .get(next)
            .map(|ms| Time::from_ms(u64::from(*ms)))
    }

    /// Sorts what the figures read in order, once the history is folded.
    pub fn finish(&mut self) {
        self.latencies.sort_unstable();
    }

    /// The message's tag, if it was sent with one.
    pub fn tag(&self, record: &Record) -> Option<&str> {
        let index = usize::from(record.tag).checked_sub(1)?;
        Some(&self.tags[index])
    }

    /// The index of `tag` in the table, from 1.
    fn tag_index(&mut self, tag: &str) -> u16 {
        let known = self.tags.iter().position(|t| **t == *tag);
        let index = known.unwrap_or_else(|| {
            self.tags.push(self.names.get(tag));
            self.tags.len() - 1
        });
        u16::try_from(index + 1).expect("fewer than 65536 distinct tags (the scenario limits them)")
    }

    /// The message's record, if it was ever sent.
    pub fn record(&self, id: MessageId) -> Option<&Record> {
        self.records
            .get(id.producer as usize)?
            .get(id.seq as usize)
            .filter(|r| r.invokes > 0)
    }

    /// Every message sent, with its id.
    pub fn messages(&self) -> impl Iterator<Item = (MessageId, &Record)> {
        self.records
            .iter()
            .enumerate()
            .flat_map(|(producer, list)| {
                list.iter()
                    .enumerate()
                    .filter(|(_, r)| r.invokes > 0)
                    .map(move |(seq, r)| {
                        let id = MessageId {
                            producer: producer as u32,
                            seq: seq as u32,
                        };
                        (id, r)
                    })
            })
    }

    /// When consumers sent a retry copy of `id` themselves, and which.
    pub fn consumer_retry_sends(&self, id: MessageId) -> &[(Time, NodeId)] {
        self.retry_sends.sent.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn record_mut(&mut self, id: MessageId) -> &mut Record {
        super::dense_entry(&mut self.records, id)
    }

    /// A fault's start, from the harness's record of it.
    pub fn observe_sim(&mut self, at: Time, node: Option<&str>, event: &crate::history::SimEvent) {
        use crate::history::SimEvent;
        match (event, node) {
            (SimEvent::FaultOn { description, .. }, _) => {
                self.fault_starts.push((at, description.clone()));
            }
            (SimEvent::Stopped { how }, Some(node)) => {
                self.fault_starts
                    .push((at, format!("{} {node}", how.name())));
            }
            _ => {}
        }
    }

    pub fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        if self.retry_sends.is_retry_send(at, node, event) {
            // A consumer's own send of a retry copy (CONSUMER_SEND_MSG_BACK failed): the same
            // id on another topic; the consumer checks judge it from deliveries.
            return;
        }
        match event {
            Event::SendInvoke { .. } => self.invoked(at, event),
            Event::SendAttemptFailed {
                id, broker, error, ..
            } => {
                let r = self.record_mut(*id);
                let rare = r.rare_mut();
                rare.failed_attempts += 1;
                rare.refused += u32::from(error.contains("SYSTEM_BUSY"));
                if rare.attempts.len() < 8 {
                    rare.attempts.push((at, broker.clone(), error.clone()));
                }
            }
            Event::SendOk { .. } => self.acked(at, event),
            Event::SendFail { id, error, .. } | Event::SendInfo { id, error, .. } => {
                self.last_outcome = at;
                self.open.remove(id);
                let r = self.record_mut(*id);
                r.outcomes += 1;
                let rare = r.rare_mut();
                rare.last_error = Some((at, error.clone()));
                if matches!(event, Event::SendInfo { .. }) {
                    rare.infos += 1;
                } else {
                    rare.fails += 1;
                }
            }
            _ => {}
        }
    }

    /// A producer's SEND_INVOKE: the message's identity, and its send open from `at`.
    fn invoked(&mut self, at: Time, event: &Event) {
        let Event::SendInvoke {
            id,
            body_crc,
            topic,
            key,
            tags,
            mode,
        } = event
        else {
            return;
        };
        self.sends += 1;
        self.first_invoke.get_or_insert(at);
        let topic = self.names.get(topic);
        let key = key.as_deref().map(|key| self.names.get(key));
        let tag = tags.as_deref().map_or(0, |tag| self.tag_index(tag));
        let r = self.record_mut(*id);
        r.body_crc = *body_crc;
        r.topic = topic;
        r.key = key;
        r.tag = tag;
        if r.invokes == 0 {
            r.first_sent = at;
        }
        r.invokes += 1;
        r.transactional |= *mode == model::event::SendMode::Transaction;
        self.open.insert(*id, at);
    }

    /// A producer's SEND_OK (or weaker status): the message's acknowledgement, which closes
    /// its send.
    fn acked(&mut self, at: Time, event: &Event) {
        let Event::SendOk {
            id,
            status,
            broker,
            queue_id,
            queue_offset,
            commit_log_offset,
            store_host,
            size,
            ..
        } = event
        else {
            return;
        };
        self.last_outcome = at;
        let broker = self.names.get(broker);
        let r = super::dense_entry(&mut self.records, *id);
        r.outcomes += 1;
        let sent_at = self.open.remove(id).unwrap_or(at);
        let latency_ms = u32::try_from(at.ms_since(sent_at)).unwrap_or(u32::MAX);
        let ack = Ack {
            at,
            latency_ms,
            status: *status,
            broker,
            queue_id: *queue_id,
            queue_offset: *queue_offset,
            commit_log_offset: *commit_log_offset,
            store_host: *store_host,
            size: *size,
        };
        if *status == SendStatus::SendOk {
            r.ok.get_or_insert(ack);
            // Simulated runs last less than 49 days (the scenario's limits).
            self.ok_times
                .push(u32::try_from(at.as_ms()).unwrap_or(u32::MAX));
        } else {
            r.rare_mut().weak.get_or_insert(ack);
            self.weak_acks += 1;
        }
        self.latencies.push(latency_ms);
    }
}

/// Sends of `%RETRY%` copies by consumers themselves, open by (sender, id): a message is
/// indexed by (id, topic), and these share the id of the message they retry.
#[derive(Default)]
struct RetrySends {
    open: BTreeSet<(NodeId, MessageId)>,
    /// Per message: when and by whom.
    sent: BTreeMap<MessageId, Vec<(Time, NodeId)>>,
}

impl RetrySends {
    /// Whether `event` belongs to a consumer's send of a retry copy (and notes its opening and
    /// its end).
    fn is_retry_send(&mut self, at: Time, node: Option<NodeId>, event: &Event) -> bool {
        let Some(node) = node else { return false };
        match event {
            Event::SendInvoke { id, topic, .. } if topic.starts_with("%RETRY%") => {
                self.open.insert((node, *id));
                self.sent.entry(*id).or_default().push((at, node));
                true
            }
            Event::SendAttemptFailed { id, .. } => self.open.contains(&(node, *id)),
            Event::SendOk { id, .. } | Event::SendFail { id, .. } | Event::SendInfo { id, .. } => {
                self.open.remove(&(node, *id))
            }
            _ => false,
        }
    }
}

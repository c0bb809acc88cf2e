//! Every message's life story, folded from the history: sent, stored, flushed, replicated,
//! delivered, read back, and what the checker said about it.
//!
//! `sim explain` prints one story as text and the HTML report embeds the same steps, so the
//! two never disagree. The fold keeps per message only what the history said about it, and
//! per broker node what the checker's index keeps of it (`check::BrokerFacts`: its flushes,
//! its slaves' reports, its power and disk losses), fed by the same fold; a story is assembled
//! from both when asked for, so it tells when bytes became durable or copied as the checker
//! sees it.

mod dledger;

use crate::check::{Anomaly, BrokerFacts};
use crate::history::{Entry, History, Recorded, Stop};
use crate::runtime::PacketRecord;
use crate::scenario::Scenario;
use model::event::{Event, SendStatus};
use model::protocol::RequestCode;
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// What a step of a story is, for colouring and the diagram's path.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    Send,
    Attempt,
    Store,
    Ack,
    Flush,
    Replicate,
    /// A DLedger entry held by a quorum and committed, or dispatched to a ConsumeQueue.
    Commit,
    Lost,
    Deliver,
    ReadBack,
    /// A transactional message's decision, END_TRANSACTION, check or discard.
    Transaction,
    Anomaly,
}

/// One fact of a message's life: when, on which node, and what happened.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    pub at_ms: u64,
    /// The node it happened on (`None`: the checker's verdict).
    pub node: Option<u16>,
    pub kind: StepKind,
    pub text: String,
    /// Where the fact it tells came in the history, to order steps of one millisecond.
    #[serde(skip)]
    order: u64,
}

/// The outcome a producer was told.
#[derive(Clone, Debug)]
enum Answer {
    Ok {
        status: SendStatus,
        store_host: NodeId,
        queue: String,
        end: u64,
        start: u64,
    },
    Fail(String),
    Info(String),
}

#[derive(Clone, Debug, Default)]
struct Life {
    /// Every send of it: the application may send it again (same id) after a failure.
    invokes: Vec<Fact<String>>,
    attempts: Vec<Fact<String>>,
    answers: Vec<Fact<(u32, Answer)>>,
    deliveries: Vec<Fact<String>>,
    transaction: Vec<Fact<String>>,
    read_backs: Vec<Fact<String>>,
}

impl<T> Fact<T> {
    fn new(at: Time, node: NodeId, order: u64, what: T) -> Fact<T> {
        Fact {
            at,
            node,
            order,
            what,
        }
    }
}

/// Something the history said about a message: when, where, its place in the history, what.
#[derive(Clone, Debug)]
struct Fact<T> {
    at: Time,
    node: NodeId,
    order: u64,
    what: T,
}

/// Every message's facts, and the broker facts their stories need.
pub struct Lives {
    names: Vec<String>,
    table: Vec<Vec<Life>>,
    brokers: BrokerFacts,
    /// What DLedger members wrote, committed and dispatched.
    entries: dledger::EntryLog,
    /// SEND_MESSAGE responses by (receiver, arrival): when the broker answered.
    answers_sent: BTreeMap<(u16, u64), u64>,
    anomalies: BTreeMap<String, Vec<Anomaly>>,
    /// Entries folded so far: each fact's place in the history.
    folded: u64,
}

impl Lives {
    /// Folds the history (and the packets, when kept: they date the store step).
    pub fn build(
        scenario: &Scenario,
        history: &History,
        packets: Option<&[PacketRecord]>,
        anomalies: &[Anomaly],
    ) -> Lives {
        let mut lives = Lives {
            names: scenario.nodes.iter().map(|n| n.name.clone()).collect(),
            table: Vec::new(),
            brokers: BrokerFacts::new(scenario),
            entries: dledger::EntryLog::new(scenario),
            answers_sent: answers_sent(packets.unwrap_or(&[])),
            anomalies: BTreeMap::new(),
            folded: 0,
        };
        for anomaly in anomalies {
            if let Some(id) = &anomaly.message {
                let list = lives.anomalies.entry(id.clone()).or_default();
                list.push(anomaly.clone());
            }
        }
        for entry in history.entries() {
            lives.observe(&entry);
        }
        lives
    }

    fn name(&self, node: NodeId) -> &str {
        self.names.get(node.index()).map_or("?", String::as_str)
    }

    /// The life of a message a producer sent; `None` for any other id (a read-back of rotted
    /// properties may carry any id, and must not grow the table).
    fn known(&mut self, id: MessageId) -> Option<&mut Life> {
        let life = self
            .table
            .get_mut(id.producer as usize)?
            .get_mut(id.seq as usize)?;
        (!life.invokes.is_empty()).then_some(life)
    }

    fn life(&mut self, id: MessageId) -> &mut Life {
        let producer = id.producer as usize;
        if self.table.len() <= producer {
            self.table.resize_with(producer + 1, Vec::new);
        }
        let seq = id.seq as usize;
        if self.table[producer].len() <= seq {
            self.table[producer].resize_with(seq + 1, Life::default);
        }
        &mut self.table[producer][seq]
    }

    fn observe(&mut self, entry: &Entry) {
        self.folded += 1;
        let (at, node) = (entry.at, entry.node.unwrap_or_default());
        match &entry.event {
            Recorded::Sim(event) => self.brokers.observe_sim(at, entry.node, event),
            Recorded::Model(event) => {
                self.brokers.observe(at, entry.node, event);
                self.entries.observe(at, entry.node, event);
                self.observe_model(at, node, event);
            }
        }
    }

    fn observe_model(&mut self, at: Time, node: NodeId, event: &Event) {
        let order = self.folded;
        match event {
            Event::SendInvoke { id, topic, .. } => {
                self.life(*id)
                    .invokes
                    .push(Fact::new(at, node, order, topic.clone()));
            }
            Event::SendAttemptFailed {
                id,
                attempt,
                broker,
                error,
            } => {
                let text = format!("attempt {attempt} to {broker} failed: {error}");
                if let Some(life) = self.known(*id) {
                    life.attempts.push(Fact::new(at, node, order, text));
                }
            }
            Event::SendOk { id, .. } | Event::SendFail { id, .. } | Event::SendInfo { id, .. } => {
                if let Some(answer) = answer_of(event) {
                    let fact = Fact::new(at, node, order, answer);
                    if let Some(life) = self.known(*id) {
                        life.answers.push(fact);
                    }
                }
            }
            Event::Delivered {
                id: Some(id),
                took_ms,
                ..
            } => {
                // Recorded when the listener returns: the story tells when it was handed over.
                let handed = Time::from_ms(at.as_ms().saturating_sub(*took_ms));
                let text = delivered_text(event);
                if let Some(life) = self.known(*id) {
                    life.deliveries.push(Fact::new(handed, node, order, text));
                }
            }
            Event::ReadBack {
                id: Some(id),
                replica,
                entry,
                ..
            } => {
                let text = format!(
                    "read back from {} ({} queue {} offset {})",
                    self.name(*replica),
                    entry.topic,
                    entry.queue_id,
                    entry.offset
                );
                if let Some(life) = self.known(*id) {
                    life.read_backs.push(Fact::new(at, *replica, order, text));
                }
            }
            _ => {
                if let Some((id, text)) = self.transaction_text(event)
                    && let Some(life) = self.known(id)
                {
                    life.transaction.push(Fact::new(at, node, order, text));
                }
            }
        }
    }

    /// What a transaction event says of its message.
    fn transaction_text(&self, event: &Event) -> Option<(MessageId, String)> {
        Some(match event {
            Event::TransactionDecided { id, state } => (
                *id,
                format!(
                    "the application decides {} and writes it to its database",
                    state.name()
                ),
            ),
            Event::TransactionEndSent {
                id,
                state,
                from_check,
                to,
            } => {
                let to = to.map_or("nowhere (no master known)".to_string(), |n| {
                    self.name(n).to_string()
                });
                let why = if *from_check {
                    "answering a check"
                } else {
                    "after its local transaction"
                };
                (
                    *id,
                    format!("END_TRANSACTION {} sent to {to} {why}", state.name()),
                )
            }
            Event::TransactionEnded {
                broker,
                id: Some(id),
                state,
                put,
                refused,
                ..
            } => {
                let did = match (put, refused) {
                    (Some(at), _) => format!("puts the real message at commitlog {at}"),
                    (None, Some(why)) => format!("does nothing: {why}"),
                    (None, None) => "writes the op message only".to_string(),
                };
                (*id, format!("{broker} handles {}: {did}", state.name()))
            }
            Event::TransactionChecked {
                broker,
                id: Some(id),
                times,
                producer,
                ..
            } => {
                let asked = producer.map_or("finds no producer of the group".to_string(), |n| {
                    format!("asks {}", self.name(n))
                });
                (
                    *id,
                    format!("{broker} stores check copy #{times} and {asked}"),
                )
            }
            Event::TransactionDiscarded {
                broker,
                id: Some(id),
                times,
            } => (*id, format!("{broker} discards it after {times} checks")),
            _ => return None,
        })
    }

    /// Every message id of the run, in (producer, sequence) order.
    pub fn ids(&self) -> impl Iterator<Item = MessageId> + '_ {
        self.table.iter().enumerate().flat_map(|(producer, lives)| {
            lives
                .iter()
                .enumerate()
                .filter(|(_, life)| !life.invokes.is_empty())
                .map(move |(seq, _)| MessageId {
                    producer: producer as u32,
                    seq: seq as u32,
                })
        })
    }

    /// The message's story, in time order, or `None` if the run never saw it.
    pub fn story(&self, id: MessageId) -> Option<Vec<Step>> {
        let life = self.table.get(id.producer as usize)?.get(id.seq as usize)?;
        if life.invokes.is_empty() {
            return None;
        }
        let mut steps = Vec::new();
        for f in &life.invokes {
            let text = format!("{} sends {id} to topic {}", self.name(f.node), f.what);
            steps.push(step(f, StepKind::Send, text));
        }
        for f in &life.attempts {
            steps.push(step(f, StepKind::Attempt, f.what.clone()));
        }
        for answer in &life.answers {
            self.answer_steps(life, answer, &mut steps);
        }
        for f in &life.deliveries {
            let text = format!("{} {}", self.name(f.node), f.what);
            steps.push(step(f, StepKind::Deliver, text));
        }
        for f in &life.read_backs {
            steps.push(step(f, StepKind::ReadBack, f.what.clone()));
        }
        for f in &life.transaction {
            steps.push(step(f, StepKind::Transaction, f.what.clone()));
        }
        for anomaly in self.anomalies.get(&id.to_string()).into_iter().flatten() {
            let text = format!("{}: {}", anomaly.kind.name(), anomaly.explanation);
            steps.push(Step {
                at_ms: anomaly.at_ms,
                node: None,
                kind: StepKind::Anomaly,
                text,
                order: u64::MAX,
            });
        }
        // Facts of one millisecond in the order the history recorded them.
        steps.sort_by_key(|s| (s.at_ms, s.order));
        Some(steps)
    }

    fn answer_steps(&self, life: &Life, answer: &Fact<(u32, Answer)>, out: &mut Vec<Step>) {
        let (attempts, outcome) = &answer.what;
        let tries = if *attempts == 1 {
            String::new()
        } else {
            format!(" after {attempts} attempts")
        };
        let (status, store_host, queue, start, end) = match outcome {
            Answer::Fail(error) => {
                let text = format!("the send failed{tries}: {error} (certainly not stored)");
                out.push(step(answer, StepKind::Ack, text));
                return;
            }
            Answer::Info(error) => {
                let text = format!("the outcome is unknown{tries}: {error}");
                out.push(step(answer, StepKind::Ack, text));
                return;
            }
            Answer::Ok {
                status,
                store_host,
                queue,
                start,
                end,
            } => (status, *store_host, queue, *start, *end),
        };
        let (at, producer) = (answer.at, answer.node);
        let stored_at = (self.answers_sent.get(&(producer.0, at.as_ms())))
            .map_or(at, |sent| Time::from_ms(*sent));
        let text = format!(
            "{} stores it: {queue}, commitlog bytes {start}..{end}",
            self.name(store_host)
        );
        let stored = Fact {
            at: stored_at,
            node: store_host,
            ..answer.clone()
        };
        out.push(step(&stored, StepKind::Store, text));
        let text = format!(
            "{} is answered {}{tries}",
            self.name(producer),
            status.name()
        );
        out.push(step(answer, StepKind::Ack, text));
        // The bytes were written after the last send before this answer.
        let since = (life.invokes.iter().rfind(|f| f.at <= at)).map_or(at, |f| f.at);
        let quorum = (self.entries.is_member(store_host)).then(|| {
            let pos = start.saturating_sub(model::dledger::entry::BODY_OFFSET);
            self.entry_steps(store_host, pos, stored_at, out)
        });
        self.position_steps(store_host, (since, end), quorum, out);
    }

    /// A DLedger entry's path: the followers' copies, the quorum and commit, each dispatch;
    /// returns when a quorum held it, if one did.
    fn entry_steps(&self, leader: NodeId, pos: u64, by: Time, out: &mut Vec<Step>) -> Option<Time> {
        let path = self.entries.path(leader, pos, by)?;
        let at_time = |at: Time, node: NodeId, kind, text| {
            let fact = Fact {
                at,
                node,
                order: u64::MAX,
                what: (),
            };
            step(&fact, kind, text)
        };
        let (index, term) = (path.entry.index, path.entry.term);
        let text = format!(
            "{} appends it as entry {index} of term {term} at position {pos}",
            self.name(leader)
        );
        out.push(at_time(path.entry.at, leader, StepKind::Store, text));
        for (at, node) in &path.copies {
            let text = format!(
                "{} holds entry {index} (pushed by the leader)",
                self.name(*node)
            );
            out.push(at_time(*at, *node, StepKind::Replicate, text));
        }
        if let Some((at, holders)) = &path.quorum {
            let names: Vec<&str> = holders.iter().map(|n| self.name(*n)).collect();
            let text = format!("a quorum holds entry {index} ({})", names.join(", "));
            out.push(at_time(*at, leader, StepKind::Commit, text));
        }
        if let Some(at) = path.committed {
            let text = format!("{} commits entry {index}", self.name(leader));
            out.push(at_time(at, leader, StepKind::Commit, text));
        }
        for (at, node) in &path.dispatched {
            let text = format!("{} dispatches it to its ConsumeQueue", self.name(*node));
            out.push(at_time(*at, *node, StepKind::Commit, text));
        }
        path.quorum.map(|(at, _)| at)
    }

    /// Flush and replication of the bytes `..end` on `host`, or their loss at a stop; for a
    /// DLedger member, `quorum` says when a quorum of its group held the entry, if it did.
    fn position_steps(
        &self,
        host: NodeId,
        (since, end): (Time, u64),
        quorum: Option<Option<Time>>,
        out: &mut Vec<Step>,
    ) {
        let host_name = self.name(host);
        let flushed = self.brokers.flushed_past(host, since, end);
        let replicated = self.brokers.replicated_past(host, since, end);
        let at_time = |at: Time, node: NodeId| Fact {
            at,
            node,
            order: u64::MAX,
            what: (),
        };
        if let Some(at) = flushed {
            let text = format!("{host_name} flushes it to disk (flushed position past {end})");
            out.push(step(&at_time(at, host), StepKind::Flush, text));
        }
        if let Some((at, slave)) = replicated {
            let text = format!("{} holds it (slave report past {end})", self.name(slave));
            out.push(step(&at_time(at, slave), StepKind::Replicate, text));
        }
        let Some((at, how)) = self.brokers.loss_after(host, since) else {
            return;
        };
        let copy = match (replicated, quorum) {
            (Some((r, _)), _) if r <= at => "a slave already holds it",
            (_, Some(Some(q))) if q <= at => "a quorum of its group already holds it",
            (_, Some(_)) => "no quorum of its group holds it yet",
            _ => "no slave holds it yet",
        };
        let text = match how {
            Stop::DiskLoss => format!("{host_name} loses its disk; {copy}"),
            _ if flushed.is_some_and(|f| f <= at) => return,
            _ => format!("{host_name} loses power before flushing it; {copy}"),
        };
        out.push(step(&at_time(at, host), StepKind::Lost, text));
    }

    /// The story as text, one line per step.
    pub fn render(&self, id: MessageId) -> Option<String> {
        let steps = self.story(id)?;
        let mut text = format!("message {id}\n");
        for s in &steps {
            let at = Time::from_ms(s.at_ms).to_string();
            text.push_str(&format!(
                "  {at:>9}  {:<10} {}\n",
                kind_name(s.kind),
                s.text
            ));
        }
        Some(text)
    }
}

fn step<T>(fact: &Fact<T>, kind: StepKind, text: String) -> Step {
    Step {
        at_ms: fact.at.as_ms(),
        node: Some(fact.node.0),
        kind,
        text,
        order: fact.order,
    }
}

fn kind_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Send => "send",
        StepKind::Attempt => "attempt",
        StepKind::Store => "store",
        StepKind::Ack => "answer",
        StepKind::Flush => "flush",
        StepKind::Replicate => "replicate",
        StepKind::Commit => "commit",
        StepKind::Lost => "at risk",
        StepKind::Deliver => "deliver",
        StepKind::ReadBack => "read back",
        StepKind::Transaction => "txn",
        StepKind::Anomaly => "checker",
    }
}

/// A producer's answer: its attempts and what it was told.
fn answer_of(event: &Event) -> Option<(u32, Answer)> {
    Some(match event {
        Event::SendOk {
            status,
            store_host,
            queue_id,
            queue_offset,
            commit_log_offset,
            size,
            attempts,
            broker,
            ..
        } => {
            let answer = Answer::Ok {
                status: *status,
                store_host: *store_host,
                queue: format!("{broker} queue {queue_id} offset {queue_offset}"),
                start: *commit_log_offset,
                end: commit_log_offset + u64::from(*size),
            };
            (*attempts, answer)
        }
        Event::SendFail {
            error, attempts, ..
        } => (*attempts, Answer::Fail(error.clone())),
        Event::SendInfo {
            error, attempts, ..
        } => (*attempts, Answer::Info(error.clone())),
        _ => return None,
    })
}

fn delivered_text(event: &Event) -> String {
    let Event::Delivered {
        group,
        broker,
        queue_topic,
        queue_id,
        queue_offset,
        reconsume_times,
        consumed,
        took_ms,
        ..
    } = event
    else {
        return String::new();
    };
    let answer = if *consumed {
        "consumed it"
    } else {
        "asked for it again"
    };
    let retry = if *reconsume_times > 0 {
        format!(", reconsume {reconsume_times}")
    } else {
        String::new()
    };
    format!(
        "({group}) is handed it from {broker} {queue_topic} queue {queue_id} offset \
         {queue_offset}{retry}; its listener {answer} {took_ms} ms later"
    )
}

/// When each SEND_MESSAGE response was sent, by (receiver, arrival time).
fn answers_sent(packets: &[PacketRecord]) -> BTreeMap<(u16, u64), u64> {
    packets
        .iter()
        .filter(|p| p.direction == crate::net::Direction::Response)
        .filter(|p| p.code == RequestCode::SendMessage)
        .filter_map(|p| Some(((p.to.0, p.arrives?.as_ms()), p.sent.as_ms())))
        .collect()
}

/// The anomalies a report numbers (the HTML's markers, `sim explain --anomaly K`): the
/// checker's, in its order, without the read-back's kinds when the read-back did not finish,
/// at most `limit`.
pub fn numbered_anomalies(finished: &crate::run::Finished, limit: usize) -> Vec<Anomaly> {
    let measured = finished.outcome.ending == crate::history::Ending::Complete;
    (finished.report.anomalies.iter())
        .filter(|a| measured || !a.kind.needs_read_back())
        .take(limit)
        .cloned()
        .collect()
}

/// Parses a message id as reports print it: `p<producer>-<seq>`.
pub fn parse_id(text: &str) -> Option<MessageId> {
    let (producer, seq) = text.strip_prefix('p')?.split_once('-')?;
    Some(MessageId {
        producer: producer.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

#[cfg(test)]
mod tests;

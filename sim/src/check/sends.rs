//! The queue checker over sends and the final read-back (see the module above for the
//! definitions). One pass over the history; messages are indexed densely by producer and
//! sequence number, so the work is linear in the history.

use crate::history::{History, SimEvent, Stop};
use crate::scenario::Scenario;
use model::event::{Event, SendStatus};
use model::time::format_ms;
use model::{MessageId, NodeId, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, Serialize)]
pub struct SendCounts {
    /// Distinct messages sent.
    pub messages: u64,
    /// Send operations (an application resend is another operation).
    pub sends: u64,
    /// Messages acknowledged with SEND_OK.
    pub acked: u64,
    /// Send operations acknowledged with a weaker status.
    pub weak_acks: u64,
    /// Messages whose every send failed for certain.
    pub failed: u64,
    /// Messages with no SEND_OK and some send of unknown outcome.
    pub unknown: u64,
    /// Messages found in the read-back.
    pub stored: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    pub lost_unexplained: u64,
    pub recovered: u64,
    pub duplicated: u64,
    pub unexpected: u64,
    pub corrupt: u64,
    /// Queue positions where two replicas of a group hold different messages.
    pub diverged: u64,
    /// Queues the auditor could not read to the end.
    pub unread_queues: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SendFigures {
    pub counts: SendCounts,
    /// Send latency of acknowledged sends, invoke to answer.
    pub latency_p50_ms: u64,
    pub latency_p99_ms: u64,
    pub latency_max_ms: u64,
    /// The longest time without a SEND_OK, from the first send to the last answer.
    pub unavailable_ms: u64,
    /// SEND_OK acknowledgements per simulated second, from the first send to the last answer.
    pub acked_per_s: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    Lost,
    LostUnconfirmed,
    LostUnexplained,
    Recovered,
    Duplicated,
    Redelivered,
    Reordered,
    Skipped,
    Rewind,
    StaleDelivery,
    Abandoned,
    RetryLost,
    FailedAcked,
    OrderlyOverlap,
    Diverged,
    DeadLettered,
    Unexpected,
    Corrupt,
}

impl AnomalyKind {
    /// Whether the kind is judged from what the read-back found (and so unknown without it).
    pub fn needs_read_back(self) -> bool {
        matches!(
            self,
            AnomalyKind::Lost
                | AnomalyKind::LostUnconfirmed
                | AnomalyKind::LostUnexplained
                | AnomalyKind::Skipped
                | AnomalyKind::Recovered
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::Lost => "lost",
            AnomalyKind::LostUnconfirmed => "lost_unconfirmed",
            AnomalyKind::LostUnexplained => "lost_unexplained",
            AnomalyKind::Recovered => "recovered",
            AnomalyKind::Duplicated => "duplicated",
            AnomalyKind::Redelivered => "redelivered",
            AnomalyKind::Reordered => "reordered",
            AnomalyKind::Skipped => "skipped",
            AnomalyKind::Rewind => "rewind",
            AnomalyKind::StaleDelivery => "stale_delivery",
            AnomalyKind::Abandoned => "abandoned",
            AnomalyKind::RetryLost => "retry_lost",
            AnomalyKind::FailedAcked => "failed_acked",
            AnomalyKind::OrderlyOverlap => "orderly_overlap",
            AnomalyKind::Diverged => "diverged",
            AnomalyKind::DeadLettered => "dead_lettered",
            AnomalyKind::Unexpected => "unexpected",
            AnomalyKind::Corrupt => "corrupt",
        }
    }
}

/// One anomaly with its witness and the story that explains it.
#[derive(Clone, Debug, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub message: Option<String>,
    pub at_ms: u64,
    /// For kinds with several causes (redeliveries): which one, so witnesses show each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    pub explanation: String,
}

pub struct Analysis {
    pub figures: SendFigures,
    pub anomalies: Vec<Anomaly>,
    /// Every message sent, by producer and sequence number, for the consumer checks.
    pub(super) records: Vec<Vec<Record>>,
    /// What happened to each broker node.
    pub(super) brokers: BTreeMap<NodeId, BrokerTimeline>,
    /// Each broker group's nodes, master first.
    pub(super) groups: BTreeMap<String, Vec<NodeId>>,
}

impl Analysis {
    /// The timelines of a broker group's nodes.
    pub(super) fn group_timelines<'a>(
        &'a self,
        group: &str,
    ) -> impl Iterator<Item = &'a BrokerTimeline> + 'a {
        self.groups
            .get(group)
            .into_iter()
            .flatten()
            .filter_map(|node| self.brokers.get(node))
    }

    pub(super) fn record(&self, id: MessageId) -> Option<&Record> {
        self.records
            .get(id.producer as usize)?
            .get(id.seq as usize)
            .filter(|r| r.invokes > 0)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Ack {
    /// When the send that was acknowledged began: the earliest the broker could store it.
    pub(super) sent_at: Time,
    pub(super) at: Time,
    pub(super) status: SendStatus,
    pub(super) broker: String,
    pub(super) queue_id: u32,
    pub(super) queue_offset: u64,
    pub(super) commit_log_offset: u64,
    pub(super) store_host: NodeId,
    pub(super) size: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Copy {
    pub(super) broker: String,
    pub(super) topic: String,
    pub(super) queue_id: u32,
    pub(super) queue_offset: u64,
    pub(super) commit_log_offset: u64,
    pub(super) body_crc: u32,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Record {
    pub(super) topic: String,
    pub(super) key: Option<String>,
    /// CRC32 of the body the producer sent.
    pub(super) body_crc: u32,
    pub(super) first_invoke: Option<Time>,
    open_invoke: Option<Time>,
    pub(super) invokes: u32,
    outcomes: u32,
    pub(super) ok: Option<Ack>,
    pub(super) weak: Option<Ack>,
    fails: u32,
    infos: u32,
    /// Failed attempts, for the story: (time, broker, error).
    attempts: Vec<(Time, String, String)>,
    last_error: Option<(Time, String)>,
    /// Copies in the queues of the message's own topic.
    pub(super) copies: Vec<Copy>,
    /// Copies parked in dead-letter topics: (group, copy).
    pub(super) dead_letters: Vec<(String, Copy)>,
}

/// A queue position in a broker group: (group, topic, queue id, queue offset).
type Position = (String, String, u32, u64);

/// What happened to one broker node over time.
#[derive(Clone, Debug, Default)]
pub(super) struct BrokerTimeline {
    /// Whether its group has slaves: then a message survives its master if a slave has it.
    replicated_group: bool,
    /// What its slaves reported holding: (time, commitlog offset, slave).
    replicated: Vec<(Time, u64, NodeId)>,
    /// Where its group's slaves' copies of the log begin: (time, commitlog offset).
    replica_starts: Vec<(Time, u64)>,
    /// Rotted bytes: (time, commitlog offset).
    corruptions: Vec<(Time, u64)>,
    flushes: Vec<(Time, u64)>,
    pub(super) stops: Vec<(Time, Stop)>,
    /// (time, truncated bytes, max offset after recovery).
    pub(super) recoveries: Vec<(Time, u64, u64)>,
    transient_pool: bool,
}

/// Sends of `%RETRY%` copies by consumers themselves, open by (sender, id): a message is
/// indexed by (id, topic), and these share the id of the message they retry.
#[derive(Default)]
struct RetrySends {
    open: BTreeSet<(NodeId, MessageId)>,
}

impl RetrySends {
    /// Whether `event` belongs to a consumer's send of a retry copy (and notes its opening and
    /// its end).
    fn is_retry_send(&mut self, node: Option<NodeId>, event: &Event) -> bool {
        let Some(node) = node else { return false };
        match event {
            Event::SendInvoke { id, topic, .. } if topic.starts_with("%RETRY%") => {
                self.open.insert((node, *id));
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

/// Which replica of a group holds each queue position read back, and how far each replica's
/// read-back reached in the commitlog: a position one replica holds and another lacks, inside
/// the part of the log the other holds, is a hole in the other's copy.
#[derive(Default)]
struct ReplicaHoldings {
    /// Position -> (replica, commitlog offset) of each replica that holds it.
    held: BTreeMap<Position, Vec<(NodeId, u64)>>,
    /// Replica -> (group, lowest and highest commitlog offset read back from it).
    spans: BTreeMap<NodeId, (String, u64, u64)>,
}

impl ReplicaHoldings {
    fn held(&mut self, position: &Position, replica: NodeId, commit_log_offset: u64) {
        let holders = self.held.entry(position.clone()).or_default();
        if !holders.iter().any(|(node, _)| *node == replica) {
            holders.push((replica, commit_log_offset));
        }
        let span = self.spans.entry(replica).or_insert((
            position.0.clone(),
            commit_log_offset,
            commit_log_offset,
        ));
        span.1 = span.1.min(commit_log_offset);
        span.2 = span.2.max(commit_log_offset);
    }

    /// (position, a replica holding it, a replica of the same group missing it).
    fn holes(&self) -> Vec<(Position, NodeId, NodeId)> {
        let mut holes = Vec::new();
        for (position, holders) in &self.held {
            let (holder, offset) = holders[0];
            for (replica, (group, low, high)) in &self.spans {
                let covers = *group == position.0 && *low <= offset && offset <= *high;
                if covers && !holders.iter().any(|(node, _)| node == replica) {
                    holes.push((position.clone(), holder, *replica));
                }
            }
        }
        holes
    }
}

/// `consumed` lists the topics some consumer group reads: whether their messages are lost is
/// decided per group by the consumer checks, from deliveries.
pub fn analyse(scenario: &Scenario, history: &History, consumed: &BTreeSet<String>) -> Analysis {
    let mut records: Vec<Vec<Record>> = Vec::new();
    let mut brokers: BTreeMap<NodeId, BrokerTimeline> = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<NodeId>> = BTreeMap::new();
    for spec in &scenario.broker_groups {
        groups.insert(spec.name.clone(), spec.nodes.clone());
        for node in &spec.nodes {
            let timeline = brokers.entry(*node).or_default();
            timeline.transient_pool = spec.transient_store_pool;
            timeline.replicated_group = spec.nodes.len() > 1;
        }
    }
    let mut figures = SendFigures::default();
    let mut anomalies = Vec::new();
    let mut latencies = Vec::new();
    let mut ok_times = Vec::new();
    let mut first_invoke: Option<Time> = None;
    let mut last_outcome = Time::ZERO;
    let mut unread: BTreeSet<(String, String, u32)> = BTreeSet::new();
    let mut strays: Vec<(Time, Copy, Option<MessageId>)> = Vec::new();
    // What the first replica read back holds at each queue position, and positions found to
    // differ between replicas.
    let mut positions: BTreeMap<Position, (NodeId, Option<MessageId>)> = BTreeMap::new();
    let mut diverged: BTreeSet<Position> = BTreeSet::new();
    let mut replicas = ReplicaHoldings::default();

    let record = super::dense_entry::<Record>;
    let mut retry_sends = RetrySends::default();

    for entry in history.entries() {
        let at = entry.at;
        let timeline = entry.node.and_then(|node| brokers.get_mut(&node));
        match (entry.sim(), timeline) {
            (Some(SimEvent::Stopped { how }), Some(timeline)) => {
                timeline.stops.push((at, *how));
                continue;
            }
            (Some(SimEvent::Corrupted { file, position }), Some(timeline)) => {
                // Commitlog files are named by their first byte's offset.
                let base = file
                    .rsplit('/')
                    .next()
                    .and_then(|name| name.parse::<u64>().ok());
                if let Some(base) = base {
                    timeline.corruptions.push((at, base + position));
                }
                continue;
            }
            (Some(_), _) => continue,
            _ => {}
        }
        let Some(event) = entry.model() else { continue };
        if retry_sends.is_retry_send(entry.node, event) {
            // A consumer's own send of a retry copy (CONSUMER_SEND_MSG_BACK failed): the same
            // id on another topic; the consumer checks judge it from deliveries.
            continue;
        }
        match event {
            Event::SendInvoke {
                id,
                body_crc,
                topic,
                key,
                ..
            } => {
                figures.counts.sends += 1;
                first_invoke.get_or_insert(at);
                let r = record(&mut records, *id);
                r.body_crc = *body_crc;
                r.topic.clone_from(topic);
                r.key.clone_from(key);
                r.first_invoke.get_or_insert(at);
                r.open_invoke = Some(at);
                r.invokes += 1;
            }
            Event::SendAttemptFailed {
                id, broker, error, ..
            } => {
                let r = record(&mut records, *id);
                if r.attempts.len() < 8 {
                    r.attempts.push((at, broker.clone(), error.clone()));
                }
            }
            Event::SendOk {
                id,
                status,
                broker,
                queue_id,
                queue_offset,
                commit_log_offset,
                store_host,
                size,
                ..
            } => {
                last_outcome = at;
                let r = record(&mut records, *id);
                r.outcomes += 1;
                let sent_at = r.open_invoke.take().unwrap_or(at);
                latencies.push(at.ms_since(sent_at));
                let ack = Ack {
                    sent_at,
                    at,
                    status: *status,
                    broker: broker.clone(),
                    queue_id: *queue_id,
                    queue_offset: *queue_offset,
                    commit_log_offset: *commit_log_offset,
                    store_host: *store_host,
                    size: *size,
                };
                if *status == SendStatus::SendOk {
                    ok_times.push(at);
                    r.ok.get_or_insert(ack);
                } else {
                    figures.counts.weak_acks += 1;
                    r.weak.get_or_insert(ack);
                }
            }
            Event::SendFail { id, error, .. } | Event::SendInfo { id, error, .. } => {
                last_outcome = at;
                let r = record(&mut records, *id);
                r.outcomes += 1;
                r.open_invoke = None;
                r.last_error = Some((at, error.clone()));
                if matches!(event, Event::SendFail { .. }) {
                    r.fails += 1;
                } else {
                    r.infos += 1;
                }
            }
            Event::Flushed { offset, .. } => {
                if let Some(timeline) = entry.node.and_then(|node| brokers.get_mut(&node)) {
                    timeline.flushes.push((at, *offset));
                }
            }
            Event::Recovered {
                truncated_bytes,
                max_offset,
                ..
            } => {
                if let Some(timeline) = entry.node.and_then(|node| brokers.get_mut(&node)) {
                    timeline
                        .recoveries
                        .push((at, *truncated_bytes, *max_offset));
                }
            }
            Event::Replicated { offset, slave, .. } => {
                if let Some(timeline) = entry.node.and_then(|node| brokers.get_mut(&node)) {
                    timeline.replicated.push((at, *offset, *slave));
                }
            }
            Event::ReplicaStarted { broker, offset } => {
                for node in groups.get(broker).into_iter().flatten() {
                    if let Some(timeline) = brokers.get_mut(node) {
                        timeline.replica_starts.push((at, *offset));
                    }
                }
            }
            Event::ReadBack {
                broker,
                replica,
                topic,
                queue_id,
                queue_offset,
                commit_log_offset,
                id,
                body_crc,
                ..
            } => {
                let position = (broker.clone(), topic.clone(), *queue_id, *queue_offset);
                replicas.held(&position, *replica, *commit_log_offset);
                match positions.get(&position) {
                    Some((other, other_id)) if other != replica && other_id != id => {
                        if diverged.insert(position.clone()) {
                            let name = |node: NodeId| scenario.nodes[node.index()].name.clone();
                            let show = |id: &Option<MessageId>| {
                                id.map_or("an unreadable record".to_string(), |id| id.to_string())
                            };
                            anomalies.push(Anomaly {
                                kind: AnomalyKind::Diverged,
                                message: id.map(|id| id.to_string()),
                                at_ms: at.as_ms(),
                                cause: None,
                                explanation: format!(
                                    "{broker}/{topic}/{queue_id}@{queue_offset} holds {} on {} but {} on {}: \
                                     the replicas' logs went separate ways, and classic replication never \
                                     compares or truncates them",
                                    show(other_id),
                                    name(*other),
                                    show(id),
                                    name(*replica)
                                ),
                            });
                        }
                    }
                    Some(_) => {}
                    None => {
                        positions.insert(position, (*replica, *id));
                    }
                }
                let copy = Copy {
                    broker: broker.clone(),
                    topic: topic.clone(),
                    queue_id: *queue_id,
                    queue_offset: *queue_offset,
                    commit_log_offset: *commit_log_offset,
                    body_crc: *body_crc,
                };
                let invoked = id.is_some_and(|id| {
                    records
                        .get(id.producer as usize)
                        .and_then(|p| p.get(id.seq as usize))
                        .is_some_and(|r| r.invokes > 0)
                });
                match id {
                    Some(id) if invoked => {
                        let r = record(&mut records, *id);
                        if let Some(group) = topic.strip_prefix("%DLQ%") {
                            r.dead_letters.push((group.to_string(), copy));
                        } else if *topic == r.topic && !r.copies.contains(&copy) {
                            // Retry topics and the schedule topic hold copies in transit.
                            r.copies.push(copy);
                        }
                    }
                    _ => strays.push((at, copy, *id)),
                }
            }
            Event::ReadBackFailed {
                broker,
                topic,
                queue_id,
                ..
            } => {
                unread.insert((broker.clone(), topic.clone(), *queue_id));
            }
            _ => {}
        }
    }

    let counts = &mut figures.counts;
    counts.unread_queues = unread.len() as u64;
    for (position, holder, missing) in replicas.holes() {
        if !diverged.insert(position.clone()) {
            continue;
        }
        let name = |node: NodeId| scenario.nodes[node.index()].name.clone();
        let (broker, topic, queue_id, queue_offset) = &position;
        anomalies.push(Anomaly {
            kind: AnomalyKind::Diverged,
            message: None,
            at_ms: last_outcome.as_ms(),
            cause: Some("missing on a replica"),
            explanation: format!(
                "{broker}/{topic}/{queue_id}@{queue_offset} is on {} but missing on {}, whose log \
                 covers that commitlog offset: the replicas' logs went separate ways",
                name(holder),
                name(missing)
            ),
        });
    }
    counts.diverged = diverged.len() as u64;
    for (producer, list) in records.iter().enumerate() {
        for (seq, r) in list.iter().enumerate() {
            if r.invokes == 0 {
                continue;
            }
            let id = MessageId {
                producer: producer as u32,
                seq: seq as u32,
            };
            counts.messages += 1;
            for copy in r.copies.iter().filter(|copy| copy.body_crc != r.body_crc) {
                counts.corrupt += 1;
                anomalies.push(Anomaly {
                    kind: AnomalyKind::Corrupt,
                    message: Some(id.to_string()),
                    at_ms: r.first_invoke.unwrap_or_default().as_ms(),
                    cause: None,
                    explanation: format!(
                        "stored at {}/{}@{} (commitlog {}) with a body that is not the one sent \
                         (CRC {:08x}, sent {:08x})",
                        copy.broker,
                        copy.queue_id,
                        copy.queue_offset,
                        copy.commit_log_offset,
                        copy.body_crc,
                        r.body_crc
                    ),
                });
            }
            let stored = !r.copies.is_empty();
            counts.stored += u64::from(stored);
            if r.ok.is_some() {
                counts.acked += 1;
            } else if r.infos > 0 || r.outcomes < r.invokes {
                counts.unknown += 1;
            } else if r.weak.is_none() {
                counts.failed += 1;
            }
            if r.copies.len() > 1 {
                counts.duplicated += 1;
                anomalies.push(Anomaly {
                    kind: AnomalyKind::Duplicated,
                    message: Some(id.to_string()),
                    at_ms: r.first_invoke.unwrap_or_default().as_ms(),
                    cause: None,
                    explanation: explain_duplicate(r),
                });
            }
            if stored {
                if r.ok.is_none() && r.weak.is_none() {
                    counts.recovered += 1;
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::Recovered,
                        message: Some(id.to_string()),
                        at_ms: r.first_invoke.unwrap_or_default().as_ms(),
                        cause: None,
                        explanation: explain_recovered(r),
                    });
                }
                continue;
            }
            let Some(ack) = r.ok.as_ref().or(r.weak.as_ref()) else {
                continue;
            };
            if consumed.contains(&r.topic) {
                continue; // Decided per group, from deliveries.
            }
            let unread_queue = unread
                .iter()
                .any(|(broker, _, queue)| *broker == ack.broker && *queue == ack.queue_id);
            if unread_queue {
                continue; // Its fate is unknown: the read-back could not reach it.
            }
            let cause = loss_cause(&brokers, scenario, ack);
            let kind = if ack.status == SendStatus::SendOk {
                counts.lost += 1;
                if cause.is_none() {
                    counts.lost_unexplained += 1;
                }
                if cause.is_none() {
                    AnomalyKind::LostUnexplained
                } else {
                    AnomalyKind::Lost
                }
            } else {
                counts.lost_unconfirmed += 1;
                AnomalyKind::LostUnconfirmed
            };
            let acked = describe_ack(ack);
            let explanation = match cause {
                Some(cause) => format!("{acked}; {cause}"),
                None => format!("{acked}; nothing in the durability model explains its loss"),
            };
            anomalies.push(Anomaly {
                kind,
                message: Some(id.to_string()),
                at_ms: ack.at.as_ms(),
                cause: None,
                explanation,
            });
        }
    }
    for (at, copy, id) in strays {
        let place = format!(
            "{} queue {} offset {}",
            copy.broker, copy.queue_id, copy.queue_offset
        );
        let (kind, explanation) = match id {
            Some(id) => {
                counts.unexpected += 1;
                (
                    AnomalyKind::Unexpected,
                    format!("{id} stored at {place}, but never sent"),
                )
            }
            None => {
                counts.corrupt += 1;
                (
                    AnomalyKind::Corrupt,
                    format!(
                        "a record at {place} (commitlog {}) has no readable UNIQ_KEY: its properties were torn, \
                         and recovery checks only the body's CRC",
                        copy.commit_log_offset
                    ),
                )
            }
        };
        anomalies.push(Anomaly {
            kind,
            message: id.map(|id| id.to_string()),
            at_ms: at.as_ms(),
            cause: None,
            explanation,
        });
    }

    if !latencies.is_empty() {
        figures.latency_p50_ms = percentile(&mut latencies, 50);
        figures.latency_p99_ms = percentile(&mut latencies, 99);
        figures.latency_max_ms = latencies.iter().copied().max().unwrap_or(0);
    }
    if let Some(first) = first_invoke {
        let span_ms = last_outcome.max(first).ms_since(first).max(1);
        figures.acked_per_s = ok_times.len() as u64 * 1_000 / span_ms;
        let mut marks = vec![first];
        marks.extend(ok_times);
        marks.push(last_outcome.max(first));
        figures.unavailable_ms = marks
            .windows(2)
            .map(|w| w[1].ms_since(w[0]))
            .max()
            .unwrap_or(0);
    }
    anomalies.sort_by_key(|a| (a.kind, a.at_ms));
    Analysis {
        figures,
        anomalies,
        records,
        brokers,
        groups,
    }
}

/// The `p`-th percentile (nearest rank), in expected linear time.
pub(super) fn percentile(values: &mut [u64], p: usize) -> u64 {
    let rank = (values.len() * p).div_ceil(100).max(1) - 1;
    *values.select_nth_unstable(rank).1
}

/// `acked SEND_OK at 1.234s (broker-a queue 2 offset 17, commitlog 4096)`.
pub(super) fn describe_ack(ack: &Ack) -> String {
    format!(
        "acked {} at {} ({} queue {} offset {}, commitlog {})",
        ack.status.name(),
        ack.at,
        ack.broker,
        ack.queue_id,
        ack.queue_offset,
        ack.commit_log_offset
    )
}

/// Why an acknowledged message is gone, from the timelines of its group's nodes.
pub(super) fn loss_cause(
    brokers: &BTreeMap<NodeId, BrokerTimeline>,
    scenario: &Scenario,
    ack: &Ack,
) -> Option<String> {
    explain_loss(ack, brokers.get(&ack.store_host), &|node| {
        let name = scenario.nodes.get(node.index())?.name.as_str();
        brokers.get(&node).map(|timeline| (timeline, name))
    })
}

/// A broker node's timeline and name, by node.
pub(super) type Timelines<'a> = dyn Fn(NodeId) -> Option<(&'a BrokerTimeline, &'a str)> + 'a;

/// Why an acknowledged message is gone, if the durability model explains it. `slaves` finds
/// the timelines of the slaves that reported holding it: their copies must be gone too.
pub(super) fn explain_loss(
    ack: &Ack,
    timeline: Option<&BrokerTimeline>,
    slaves: &Timelines<'_>,
) -> Option<String> {
    let timeline = timeline?;
    // A rotted byte ends the next recovery at the damaged record: the log is cut at or before
    // the byte, and everything past the cut is gone.
    for (rotted_at, offset) in &timeline.corruptions {
        let later = (*rotted_at).max(ack.sent_at);
        let Some((recovered_at, _, cut)) =
            timeline.recoveries.iter().find(|(at, _, _)| *at >= later)
        else {
            continue;
        };
        if cut <= offset && *cut <= ack.commit_log_offset {
            return Some(format!(
                "a byte of {}'s commitlog at offset {offset} rotted at {rotted_at}; recovery at {recovered_at} \
                 stopped at the damaged record (offset {cut}) and cut everything after it",
                ack.broker
            ));
        }
    }
    // The ack may still be on its way when the broker goes down: any stop after the send began
    // may have been the one that lost it.
    for (at, how) in timeline.stops.iter().filter(|(at, _)| *at >= ack.sent_at) {
        let flushed = timeline
            .flushes
            .iter()
            .take_while(|(flushed_at, _)| flushed_at <= at)
            .last();
        let (flushed_at, flushed_to) = flushed.map_or((Time::ZERO, 0), |(t, o)| (*t, *o));
        let recovery = timeline
            .recoveries
            .iter()
            .find(|(recovered_at, _, _)| recovered_at >= at)
            .filter(|(_, cut, _)| *cut > 0)
            .map(|(_, cut, _)| {
                format!("; on restart, recovery cut {cut} torn bytes from the log's tail")
            })
            .unwrap_or_default();
        // With slaves, what a slave holds survives the master: the loss needs both.
        let replica = if timeline.replicated_group {
            let (reported_at, reported) = timeline
                .replicated
                .iter()
                .take_while(|(reported_at, ..)| reported_at <= at)
                .max_by_key(|(_, offset, _)| *offset)
                .map(|(t, o, _)| (*t, *o))
                .unwrap_or((Time::ZERO, 0));
            let since = timeline
                .replica_starts
                .iter()
                .take_while(|(started, _)| started <= at)
                .last()
                .map(|(_, offset)| *offset);
            let end = ack.commit_log_offset + u64::from(ack.size);
            let started_before = since.is_some_and(|since| since <= ack.commit_log_offset);
            if started_before && reported >= end {
                if !matches!(how, Stop::DiskLoss | Stop::PowerOff) {
                    continue;
                }
                // A slave had it: the loss needs every such slave's copy gone as well.
                slave_copies_lost(timeline, (ack.sent_at, *at), end, slaves)?
            } else if let Some(since) = since.filter(|since| *since > ack.commit_log_offset) {
                format!(
                    "; its slave's copy of the log begins at offset {since} (a new slave starts at the \
                     beginning of the master's last file), so it never had this message"
                )
            } else if reported == 0 || since.is_none() {
                "; no slave had reported holding any of it".to_string()
            } else {
                format!(
                    "; its slaves had reported holding the log only up to offset {reported} (at {reported_at}, {} \
                     bytes short of the message's end)",
                    ack.commit_log_offset + u64::from(ack.size) - reported
                )
            }
        } else {
            String::new()
        };
        match how {
            Stop::DiskLoss => {
                return Some(format!(
                    "{} lost its disk at {at}, and every message with it{replica}",
                    ack.broker
                ));
            }
            Stop::PowerOff if ack.commit_log_offset >= flushed_to => {
                let last_flush = if flushed_to == 0 {
                    "no flush had completed yet".to_string()
                } else {
                    format!(
                        "its last flush before that, at {flushed_at}, had reached commitlog offset {flushed_to}"
                    )
                };
                let when = if *at >= ack.at {
                    format!("{} after the ack", format_ms(at.ms_since(ack.at)))
                } else {
                    "while the ack was on its way".to_string()
                };
                return Some(format!(
                    "{} lost power at {at} ({when}); {last_flush}: the message was only in the page cache{replica}{recovery}",
                    ack.broker
                ));
            }
            Stop::PowerOff => return None,
            Stop::Kill if timeline.transient_pool => {
                return Some(format!(
                    "{} was killed at {at}; with transientStorePoolEnable the message was still in the \
                     write buffer, outside the page cache that survives a kill{replica}{recovery}",
                    ack.broker
                ));
            }
            // The page cache survives a kill, and a clean shutdown commits the write buffers
            // first: look for a later stop.
            Stop::Kill | Stop::Shutdown => {}
        }
    }
    None
}

/// How every slave that reported holding the log up to `end` by `by` lost its copy, if each
/// did: its disk, or a power loss before its own flush reached `end`, at any time after the
/// send began at `sent_at` (a report can arrive after the slave that sent it died).
fn slave_copies_lost(
    master: &BrokerTimeline,
    (sent_at, by): (Time, Time),
    end: u64,
    slaves: &Timelines<'_>,
) -> Option<String> {
    let mut holders: Vec<(NodeId, Time, u64)> = Vec::new();
    for (at, offset, slave) in master.replicated.iter().take_while(|(at, ..)| *at <= by) {
        if *offset >= end && !holders.iter().any(|(s, ..)| s == slave) {
            holders.push((*slave, *at, *offset));
        }
    }
    let mut stories = Vec::new();
    for (slave, since, offset) in holders {
        let (timeline, name) = slaves(slave)?;
        if since < sent_at {
            // The report came before the message existed: it claimed the slave's own log.
            stories.push(format!(
                "; its slave {name} had reported holding the log up to offset {offset} at {since}, \
                 before the message was sent: 4.9.8 trusts a connection's first report as it is \
                 (#3015), so SYNC_MASTER counted a copy the slave never had"
            ));
            continue;
        }
        let story = copy_lost(timeline, sent_at, end)?;
        stories.push(format!(
            "; its slave {name} had reported holding it at {since}, then {story}"
        ));
    }
    (!stories.is_empty()).then(|| stories.concat())
}

/// How a node that held the log up to `end` after `since` lost that part of it, if it did.
fn copy_lost(timeline: &BrokerTimeline, since: Time, end: u64) -> Option<String> {
    timeline
        .stops
        .iter()
        .filter(|(at, _)| *at >= since)
        .find_map(|(at, how)| match how {
            Stop::DiskLoss => Some(format!("lost its disk at {at}")),
            Stop::PowerOff => {
                let flushed_to = timeline
                    .flushes
                    .iter()
                    .take_while(|(flushed_at, _)| flushed_at <= at)
                    .map(|(_, offset)| *offset)
                    .max()
                    .unwrap_or(0);
                (flushed_to < end).then(|| {
                    format!("lost power at {at} with its own flush at offset {flushed_to}")
                })
            }
            Stop::Kill | Stop::Shutdown => None,
        })
}

fn describe_attempts(r: &Record) -> String {
    let attempts: Vec<String> = r
        .attempts
        .iter()
        .map(|(at, broker, error)| format!("{at} {broker}: {error}"))
        .collect();
    if attempts.is_empty() {
        String::new()
    } else {
        format!("failed attempts: {}", attempts.join("; "))
    }
}

fn explain_duplicate(r: &Record) -> String {
    let copies: Vec<String> = r
        .copies
        .iter()
        .map(|c| format!("{}/{}@{}", c.broker, c.queue_id, c.queue_offset))
        .collect();
    let mut story = format!("stored {} times ({})", r.copies.len(), copies.join(", "));
    if r.invokes > 1 {
        story.push_str(&format!("; the application sent it {} times", r.invokes));
    }
    let attempts = describe_attempts(r);
    if !attempts.is_empty() {
        story.push_str("; ");
        story.push_str(&attempts);
    }
    story
}

fn explain_recovered(r: &Record) -> String {
    let ending = match &r.last_error {
        Some((at, error)) => format!("its send ended at {at} with `{error}`"),
        None => "its send never ended (the producer stopped)".to_string(),
    };
    let copy = &r.copies[0];
    let mut story = format!(
        "{ending}, yet it is stored at {}/{}@{}",
        copy.broker, copy.queue_id, copy.queue_offset
    );
    let attempts = describe_attempts(r);
    if !attempts.is_empty() {
        story.push_str("; ");
        story.push_str(&attempts);
    }
    story
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: NodeId = NodeId(1);
    const SLAVE: NodeId = NodeId(2);

    fn ms(ms: u64) -> Time {
        Time::from_ms(ms)
    }

    /// SEND_OK at 1.000s for a message at commitlog 1000..1100, sent at 0.990s.
    fn ack() -> Ack {
        Ack {
            sent_at: ms(990),
            at: ms(1_000),
            status: SendStatus::SendOk,
            broker: "broker-a".into(),
            queue_id: 0,
            queue_offset: 3,
            commit_log_offset: 1_000,
            store_host: MASTER,
            size: 100,
        }
    }

    fn master(stop: Stop, flushed_to: u64) -> BrokerTimeline {
        BrokerTimeline {
            flushes: vec![(ms(500), flushed_to)],
            stops: vec![(ms(2_000), stop)],
            ..BrokerTimeline::default()
        }
    }

    fn replicated(mut timeline: BrokerTimeline, report_at: u64) -> BrokerTimeline {
        timeline.replicated_group = true;
        timeline.replica_starts = vec![(ms(100), 0)];
        timeline.replicated = vec![(ms(report_at), 1_100, SLAVE)];
        timeline
    }

    fn explain(master: &BrokerTimeline, slave: &BrokerTimeline) -> Option<String> {
        explain_loss(&ack(), Some(master), &|node| {
            (node == SLAVE).then_some((slave, "broker-a-s1"))
        })
    }

    #[test]
    fn a_power_loss_before_the_flush_explains_a_loss() {
        let story = explain(&master(Stop::PowerOff, 800), &BrokerTimeline::default());
        assert!(story.expect("explained").contains("only in the page cache"));
    }

    #[test]
    fn a_power_loss_after_the_flush_explains_nothing() {
        assert_eq!(
            explain(&master(Stop::PowerOff, 1_100), &BrokerTimeline::default()),
            None
        );
    }

    #[test]
    fn a_lost_disk_explains_a_loss() {
        let story = explain(&master(Stop::DiskLoss, 1_100), &BrokerTimeline::default());
        assert!(story.expect("explained").contains("lost its disk"));
    }

    #[test]
    fn a_slaves_copy_that_survives_leaves_the_loss_unexplained() {
        let master = replicated(master(Stop::DiskLoss, 1_100), 1_000);
        assert_eq!(explain(&master, &BrokerTimeline::default()), None);
    }

    #[test]
    fn a_slave_that_lost_its_copy_too_explains_the_loss() {
        let master = replicated(master(Stop::PowerOff, 800), 1_000);
        let slave = BrokerTimeline {
            stops: vec![(ms(995), Stop::DiskLoss)],
            ..BrokerTimeline::default()
        };
        let story = explain(&master, &slave).expect("explained");
        assert!(
            story.contains("broker-a-s1 had reported holding it"),
            "{story}"
        );
        assert!(story.contains("then lost its disk at 0.995s"), "{story}");
    }

    #[test]
    fn a_slave_that_lost_power_before_its_own_flush_explains_the_loss() {
        let master = replicated(master(Stop::DiskLoss, 1_100), 1_000);
        let slave = BrokerTimeline {
            flushes: vec![(ms(900), 1_050)],
            stops: vec![(ms(3_000), Stop::PowerOff)],
            ..BrokerTimeline::default()
        };
        let story = explain(&master, &slave).expect("explained");
        assert!(
            story.contains("with its own flush at offset 1050"),
            "{story}"
        );
    }

    #[test]
    fn a_position_missing_inside_a_replicas_log_is_a_hole() {
        let position = |offset: u64| ("broker-a".to_string(), "orders".to_string(), 0, offset);
        let mut replicas = ReplicaHoldings::default();
        for (queue_offset, commit_log_offset) in [(0, 0), (1, 100), (2, 200)] {
            replicas.held(&position(queue_offset), MASTER, commit_log_offset);
        }
        // The slave holds 0 and 2, so its log covers 0..=200, but not position 1.
        replicas.held(&position(0), SLAVE, 0);
        replicas.held(&position(2), SLAVE, 200);
        // A slave whose copy begins later lacks what lies before it: no hole.
        let late = NodeId(3);
        replicas.held(&position(2), late, 200);
        assert_eq!(replicas.holes(), vec![(position(1), MASTER, SLAVE)]);
    }

    #[test]
    fn a_first_report_made_before_the_send_is_named_an_over_claim() {
        let master = replicated(master(Stop::DiskLoss, 1_100), 500);
        let story = explain(&master, &BrokerTimeline::default()).expect("explained");
        assert!(story.contains("#3015"), "{story}");
    }
}

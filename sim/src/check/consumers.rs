//! The consumer checks: per consumer group (per instance for broadcasting groups, where every
//! instance must get every message), from `Delivered` events and the read-back.
//!
//! A delivery is a message the listener (or a lite pull application) was done with: it either
//! consumed it or asked for it again. A batch the process died in was never delivered.
//!
//! - `lost`: acknowledged SEND_OK, never delivered, not in the group's dead-letter queue.
//! - `lost_unconfirmed`: the same for weaker acknowledgements.
//! - `lost_after_delivery`: acknowledged and delivered, then lost by the broker (a figure:
//!   the group got it, a later reader would not).
//! - `redelivered`: one stored copy delivered again with the same reconsume count (a retry
//!   raises it, a duplicate does not): consumer-side duplicates. Each has a cause: the first
//!   consumer crashed or shut down before committing past it, the queue moved to another
//!   consumer (rebalance), the broker restarted and lost the newest committed offsets, or an
//!   offset reset went below what the group had consumed; `unexplained` when nothing did.
//! - `reordered`: a message delivered after a later message of its sharding key.
//! - `skipped`: stored in the group's topic, never delivered, not dead-lettered.
//! - `rewinds`: a consumer took a queue below what the group had already consumed there.
//! - `stale_deliveries`: handed to the listener after its consumer had dropped the queue.
//! - `abandoned`: a broadcasting instance's listener failed it and it was never consumed
//!   (broadcasting drops failures). Clustering groups retry: see `retry_lost`.
//! - `dead_lettered`: parked in the group's `%DLQ%` topic (delivered there, not lost).
//!
//! `listener` judges the guarantees that must not rest on the model's own reports (orderly
//! exclusivity, at-least-once with retries, failures never acknowledged) from the
//! application's listener calls and what the auditor read from the brokers. The facts the
//! checks above use: `Delivered` (the model's consume service), `QueueAssigned` and
//! `QueueDropped` (its rebalance) for redeliveries, stale deliveries and rewinds; the
//! read-back for what is stored and dead-lettered.

mod listener;

use super::sends::{self, Anomaly, AnomalyKind};
use crate::history::{History, SimEvent, Stop};
use crate::scenario::Scenario;
use model::event::{Event, SendStatus};
use model::time::format_ms;
use model::{MessageId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// Consumer-side duplicates by cause.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RedeliveryCauses {
    pub consumer_crash: u64,
    pub consumer_shutdown: u64,
    pub rebalance: u64,
    pub broker_restart: u64,
    pub slave_offsets: u64,
    pub offset_reset: u64,
    pub unexplained: u64,
}

impl RedeliveryCauses {
    /// Every cause with its count, in a fixed order, named as the JSON names them.
    pub fn named(&self) -> [(&'static str, u64); 7] {
        [
            ("consumer_crash", self.consumer_crash),
            ("consumer_shutdown", self.consumer_shutdown),
            ("rebalance", self.rebalance),
            ("broker_restart", self.broker_restart),
            ("slave_offsets", self.slave_offsets),
            ("offset_reset", self.offset_reset),
            ("unexplained", self.unexplained),
        ]
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupFigures {
    /// The group, or `group/consumer` for an instance of a broadcasting group.
    pub group: String,
    /// Messages handed over and done with, retries and duplicates included.
    pub deliveries: u64,
    /// Messages consumed (the listener said so) at least once.
    pub delivered: u64,
    /// Deliveries of a retried message (reconsume count above 0).
    pub retries: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    pub lost_unexplained: u64,
    /// Acknowledged, delivered to the group, then lost by the broker: a group that reads it
    /// later never sees it.
    pub lost_after_delivery: u64,
    pub redelivered: u64,
    pub redelivered_by_cause: RedeliveryCauses,
    /// Redeliveries no fault, rebalance or legitimate offset move explains.
    pub redelivered_unexplained: u64,
    pub reordered: u64,
    pub skipped: u64,
    pub rewinds: u64,
    /// Messages a rewind made the group read again.
    pub rewound_messages: u64,
    pub stale_deliveries: u64,
    pub abandoned: u64,
    pub dead_lettered: u64,
    /// Orderly: two consumers inside the listener for one queue at once (from listener calls).
    pub orderly_overlaps: u64,
    /// Clustering: failed by the listener, never consumed afterwards, not dead-lettered.
    pub retry_lost: u64,
    /// Clustering: failed, never retried, yet the committed offset passed it.
    pub failed_acked: u64,
    /// From the first send to the first delivery the listener consumed.
    pub end_to_end_p50_ms: u64,
    pub end_to_end_p99_ms: u64,
}

pub struct Analysis {
    pub groups: Vec<GroupFigures>,
    pub anomalies: Vec<Anomaly>,
    pub unexpected: u64,
    pub corrupt: u64,
}

/// A queue: (broker, topic, queue id).
type Queue = (String, String, u32);
/// A stored copy: (broker, topic, queue id, queue offset).
type CopyAt = (String, String, u32, u64);

/// Who must receive a group's messages.
struct Audience {
    group: String,
    topic: String,
    /// `Some` for one instance of a broadcasting group.
    consumer: Option<String>,
    figures: GroupFigures,
    /// Per message, by producer and sequence number.
    messages: Vec<Vec<Fate>>,
    /// Per (producer, key): the highest sequence number delivered so far, and its queue.
    order: BTreeMap<(u32, String), (u32, Queue)>,
    /// Per queue: one past the highest offset delivered.
    frontier: BTreeMap<Queue, u64>,
    /// Per queue offset: the first message delivered from it, and when it was handed over.
    /// After a truncation a queue offset can hold another message.
    seen_at: BTreeMap<(Queue, u64), (MessageId, Time)>,
}

/// What became of one message in one audience.
#[derive(Clone, Debug, Default)]
struct Fate {
    first: Option<Time>,
    /// When the listener first consumed it.
    consumed: Option<Time>,
    /// Deliveries per (copy, reconsume count): how many, and the first one's time and consumer.
    copies: Vec<CopyDeliveries>,
}

#[derive(Clone, Debug)]
struct CopyDeliveries {
    copy: CopyAt,
    reconsume_times: u32,
    count: u32,
    /// When the first delivery was handed to the listener, and to whom.
    first: (Time, String),
}

/// A copy delivered a second time; times are when each was handed to the listener.
struct Redelivery {
    audience: usize,
    id: MessageId,
    copy: CopyAt,
    first: (Time, String),
    second: (Time, String),
}

/// What happened to consumers and queues, for explaining redeliveries.
#[derive(Default)]
struct Story {
    /// Per consumer (node name): its stops.
    consumer_stops: BTreeMap<String, Vec<(Time, Stop)>>,
    /// Per queue: (time, consumer, offset) of every take.
    takeovers: BTreeMap<Queue, Vec<(Time, String, u64)>>,
    /// Per queue: (time, consumer, from, to) of every PULL_OFFSET_MOVED.
    offset_moves: BTreeMap<Queue, Vec<(Time, String, u64, u64)>>,
    /// Per (consumer, queue): when the consumer last dropped it, if it has not taken it since.
    dropped: BTreeMap<(String, Queue), Time>,
    /// Per queue: when some consumer started pulling it from a slave.
    slave_reads: BTreeMap<Queue, Vec<Time>>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Cause {
    ConsumerCrash,
    ConsumerShutdown,
    OffsetReset,
    BrokerRestart,
    SlaveOffsets,
    Rebalance,
    Unexplained,
}

impl Cause {
    fn name(self) -> &'static str {
        match self {
            Cause::ConsumerCrash => "consumer crash",
            Cause::ConsumerShutdown => "consumer shutdown",
            Cause::OffsetReset => "offset reset",
            Cause::BrokerRestart => "broker restart",
            Cause::SlaveOffsets => "offsets on slave",
            Cause::Rebalance => "rebalance",
            Cause::Unexplained => "unexplained",
        }
    }

    fn count(self, causes: &mut RedeliveryCauses) -> &mut u64 {
        match self {
            Cause::ConsumerCrash => &mut causes.consumer_crash,
            Cause::ConsumerShutdown => &mut causes.consumer_shutdown,
            Cause::OffsetReset => &mut causes.offset_reset,
            Cause::BrokerRestart => &mut causes.broker_restart,
            Cause::SlaveOffsets => &mut causes.slave_offsets,
            Cause::Rebalance => &mut causes.rebalance,
            Cause::Unexplained => &mut causes.unexplained,
        }
    }

    /// An offset reset below consumed, still stored messages is a defect, not a trade-off.
    fn explained(self) -> bool {
        !matches!(self, Cause::OffsetReset | Cause::Unexplained)
    }
}

pub fn analyse(scenario: &Scenario, history: &History, sends: &sends::Analysis) -> Analysis {
    let mut audiences = audiences(scenario);
    let find = |audiences: &[Audience], group: &str, consumer: &str| {
        audiences
            .iter()
            .position(|a| a.group == group && a.consumer.as_deref().is_none_or(|c| c == consumer))
    };
    let mut anomalies = Vec::new();
    let (mut unexpected, mut corrupt) = (0, 0);
    let mut story = Story::default();
    let mut redeliveries: Vec<Redelivery> = Vec::new();

    for entry in history.entries() {
        let at = entry.at;
        if let (Some(SimEvent::Stopped { how }), Some(node)) = (entry.sim(), entry.node) {
            let name = &scenario.nodes[node.index()].name;
            story
                .consumer_stops
                .entry(name.clone())
                .or_default()
                .push((at, *how));
            // A new process owns nothing.
            story.dropped.retain(|(consumer, _), _| consumer != name);
            continue;
        }
        let Some(event) = entry.model() else { continue };
        match event {
            Event::Delivered {
                group,
                consumer,
                id,
                topic,
                broker,
                queue_topic,
                queue_id,
                queue_offset,
                reconsume_times,
                body_crc,
                consumed,
                took_ms,
            } => {
                let Some(index) = find(&audiences, group, consumer) else {
                    continue;
                };
                let audience = &mut audiences[index];
                audience.figures.deliveries += 1;
                let queue = (broker.clone(), queue_topic.clone(), *queue_id);
                let handed = Time::from_ms(at.as_ms().saturating_sub(*took_ms));
                if let Some(dropped) = story.dropped.get(&(consumer.clone(), queue.clone()))
                    && handed > *dropped
                {
                    audience.figures.stale_deliveries += 1;
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::StaleDelivery,
                        message: id.map(|id| id.to_string()),
                        at_ms: handed.as_ms(),
                        cause: None,
                        explanation: format!(
                            "{consumer} dropped {broker}/{queue_topic}/{queue_id} at {dropped}, yet handed \
                             offset {queue_offset} to its listener at {handed}"
                        ),
                    });
                }
                let frontier = audience.frontier.entry(queue.clone()).or_insert(0);
                *frontier = (*frontier).max(queue_offset + 1);
                if let Some(id) = id {
                    audience
                        .seen_at
                        .entry((queue, *queue_offset))
                        .or_insert((*id, handed));
                }
                let Some(id) = id else {
                    corrupt += 1;
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::Corrupt,
                        message: None,
                        at_ms: at.as_ms(),
                        cause: None,
                        explanation: format!(
                            "{consumer} got a message without a readable id from \
                             {broker}/{queue_topic}/{queue_id}@{queue_offset}"
                        ),
                    });
                    continue;
                };
                let Some(record) = sends.record(*id) else {
                    unexpected += 1;
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::Unexpected,
                        message: Some(id.to_string()),
                        at_ms: at.as_ms(),
                        cause: None,
                        explanation: format!("{consumer} got {id}, which nobody sent"),
                    });
                    continue;
                };
                if *body_crc != record.body_crc {
                    corrupt += 1;
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::Corrupt,
                        message: Some(id.to_string()),
                        at_ms: at.as_ms(),
                        cause: None,
                        explanation: format!(
                            "{consumer} got {id} with a body that is not the one sent"
                        ),
                    });
                }
                let fate = super::dense_entry(&mut audience.messages, *id);
                let first_time = fate.first.is_none();
                if first_time {
                    fate.first = Some(at);
                }
                if *consumed && fate.consumed.is_none() {
                    fate.consumed = Some(at);
                }
                if *reconsume_times > 0 {
                    audience.figures.retries += 1;
                }
                let copy = (
                    broker.clone(),
                    queue_topic.clone(),
                    *queue_id,
                    *queue_offset,
                );
                match fate
                    .copies
                    .iter_mut()
                    .find(|c| c.copy == copy && c.reconsume_times == *reconsume_times)
                {
                    Some(seen) => {
                        seen.count += 1;
                        if seen.count == 2 {
                            // Two consumers may hold one copy at once: order them by hand-over.
                            let mut pair = [seen.first.clone(), (handed, consumer.clone())];
                            pair.sort_by_key(|(at, _)| *at);
                            let [first, second] = pair;
                            redeliveries.push(Redelivery {
                                audience: index,
                                id: *id,
                                copy,
                                first,
                                second,
                            });
                        }
                    }
                    None => fate.copies.push(CopyDeliveries {
                        copy,
                        reconsume_times: *reconsume_times,
                        count: 1,
                        first: (handed, consumer.clone()),
                    }),
                }
                // Order: first deliveries of a key's messages must follow their send order.
                if first_time
                    && topic == queue_topic
                    && let Some(key) = &record.key
                {
                    let here = (broker.clone(), queue_topic.clone(), *queue_id);
                    let last = audience
                        .order
                        .entry((id.producer, key.clone()))
                        .or_insert_with(|| (id.seq, here.clone()));
                    if id.seq < last.0 {
                        audience.figures.reordered += 1;
                        let (seq, (b, t, q)) = &*last;
                        let queues = if last.1 == here {
                            "from the same queue".to_string()
                        } else {
                            format!("from {b}/{t}/{q}: the key's messages were on two queues")
                        };
                        anomalies.push(Anomaly {
                            kind: AnomalyKind::Reordered,
                            message: Some(id.to_string()),
                            at_ms: at.as_ms(),
                            cause: None,
                            explanation: format!(
                                "{consumer} got {id} (key {key}) from {broker}/{queue_topic}/{queue_id} at {at}, \
                                 after p{}-{seq} of the same key {queues}",
                                id.producer
                            ),
                        });
                    } else {
                        *last = (id.seq, here);
                    }
                }
            }
            Event::QueueAssigned {
                group,
                consumer,
                broker,
                topic,
                queue_id,
                offset,
            } => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                story.takeovers.entry(queue.clone()).or_default().push((
                    at,
                    consumer.clone(),
                    *offset,
                ));
                story.dropped.remove(&(consumer.clone(), queue.clone()));
                let Some(index) = find(&audiences, group, consumer) else {
                    continue;
                };
                let audience = &mut audiences[index];
                let frontier = audience.frontier.get(&queue).copied().unwrap_or(0);
                if *offset < frontier {
                    audience.figures.rewinds += 1;
                    audience.figures.rewound_messages += frontier - offset;
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::Rewind,
                        message: None,
                        at_ms: at.as_ms(),
                        cause: None,
                        explanation: format!(
                            "{consumer} took {broker}/{topic}/{queue_id} at {at} from offset {offset}, \
                             but the group had consumed up to {frontier}: {} messages again",
                            frontier - offset
                        ),
                    });
                }
            }
            Event::QueueDropped {
                consumer,
                broker,
                topic,
                queue_id,
                ..
            } => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                story.dropped.insert((consumer.clone(), queue), at);
            }
            Event::PullReplica {
                broker,
                topic,
                queue_id,
                slave: true,
                ..
            } => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                story.slave_reads.entry(queue).or_default().push(at);
            }
            Event::OffsetMoved {
                consumer,
                broker,
                topic,
                queue_id,
                from,
                to,
                ..
            } => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                story.offset_moves.entry(queue).or_default().push((
                    at,
                    consumer.clone(),
                    *from,
                    *to,
                ));
            }
            _ => {}
        }
    }

    for redelivery in redeliveries {
        let (cause, explanation) = explain_redelivery(sends, &story, &redelivery);
        let figures = &mut audiences[redelivery.audience].figures;
        figures.redelivered += 1;
        *cause.count(&mut figures.redelivered_by_cause) += 1;
        if !cause.explained() {
            figures.redelivered_unexplained += 1;
        }
        anomalies.push(Anomaly {
            kind: AnomalyKind::Redelivered,
            message: Some(redelivery.id.to_string()),
            at_ms: redelivery.second.0.as_ms(),
            cause: Some(cause.name()),
            explanation,
        });
    }

    for audience in &mut audiences {
        settle(audience, scenario, sends, &mut anomalies);
    }
    let (judged, listener_anomalies) = listener::judge(scenario, history);
    for audience in audiences.iter_mut().filter(|a| a.consumer.is_none()) {
        if let Some(figures) = judged.get(&audience.group) {
            audience.figures.orderly_overlaps = figures.orderly_overlaps;
            audience.figures.retry_lost = figures.retry_lost;
            audience.figures.failed_acked = figures.failed_acked;
        }
    }
    anomalies.extend(listener_anomalies);
    Analysis {
        groups: audiences.into_iter().map(|a| a.figures).collect(),
        anomalies,
        unexpected,
        corrupt,
    }
}

/// One audience per clustering group, one per instance of a broadcasting group.
fn audiences(scenario: &Scenario) -> Vec<Audience> {
    let mut audiences = Vec::new();
    for group in &scenario.consumers {
        let consumers: Vec<Option<String>> = if group.broadcasting {
            group
                .nodes
                .iter()
                .map(|n| Some(scenario.nodes[n.index()].name.clone()))
                .collect()
        } else {
            vec![None]
        };
        for consumer in consumers {
            let name = match &consumer {
                Some(c) => format!("{}/{c}", group.group),
                None => group.group.clone(),
            };
            audiences.push(Audience {
                group: group.group.clone(),
                topic: group.topic.clone(),
                consumer,
                figures: GroupFigures {
                    group: name,
                    ..GroupFigures::default()
                },
                messages: Vec::new(),
                order: BTreeMap::new(),
                frontier: BTreeMap::new(),
                seen_at: BTreeMap::new(),
            });
        }
    }
    audiences
}

/// After the history: what became of every message of the audience's topic.
fn settle(
    audience: &mut Audience,
    scenario: &Scenario,
    sends: &sends::Analysis,
    anomalies: &mut Vec<Anomaly>,
) {
    let mut latencies = Vec::new();
    for (producer, list) in sends.records.iter().enumerate() {
        for (seq, record) in list.iter().enumerate() {
            if record.invokes == 0 || record.topic != audience.topic {
                continue;
            }
            let id = MessageId {
                producer: producer as u32,
                seq: seq as u32,
            };
            let fate = audience.messages.get(producer).and_then(|l| l.get(seq));
            let name = &audience.figures.group;
            let at_ms = record.first_invoke.unwrap_or_default().as_ms();
            if let Some(consumed) = fate.and_then(|f| f.consumed) {
                audience.figures.delivered += 1;
                if record.copies.is_empty() && record.ok.is_some() {
                    audience.figures.lost_after_delivery += 1;
                }
                if let Some(sent) = record.first_invoke {
                    latencies.push(consumed.ms_since(sent));
                }
                continue;
            }
            if let Some((_, copy)) = record
                .dead_letters
                .iter()
                .find(|(g, _)| *g == audience.group)
            {
                audience.figures.dead_lettered += 1;
                let failures: u32 = fate.map_or(0, |f| f.copies.iter().map(|c| c.count).sum());
                anomalies.push(Anomaly {
                    kind: AnomalyKind::DeadLettered,
                    message: Some(id.to_string()),
                    at_ms,
                    cause: None,
                    explanation: format!(
                        "{name}'s listener failed {id} {failures} time(s); out of retries, it is parked in \
                         {}/{}@{}",
                        copy.broker, copy.topic, copy.queue_offset
                    ),
                });
                continue;
            }
            if let Some(fate) = fate.filter(|f| f.first.is_some()) {
                // A clustering group retries what failed: its fate is `retry_lost`, judged
                // from the listener's calls (and unknown without the DLQ read back).
                if audience.consumer.is_none() {
                    continue;
                }
                audience.figures.abandoned += 1;
                let deliveries: u32 = fate.copies.iter().map(|c| c.count).sum();
                anomalies.push(Anomaly {
                    kind: AnomalyKind::Abandoned,
                    message: Some(id.to_string()),
                    at_ms,
                    cause: None,
                    explanation: format!(
                        "{name} failed {id} {deliveries} time(s) and never retried it (a broadcasting \
                         consumer drops what its listener fails)"
                    ),
                });
                continue;
            }
            if let Some(copy) = record.copies.first() {
                audience.figures.skipped += 1;
                anomalies.push(Anomaly {
                    kind: AnomalyKind::Skipped,
                    message: Some(id.to_string()),
                    at_ms,
                    cause: None,
                    explanation: format!(
                        "stored at {}/{}/{}@{}, but {name} never got it",
                        copy.broker, copy.topic, copy.queue_id, copy.queue_offset
                    ),
                });
            }
            let Some(ack) = record.ok.as_ref().or(record.weak.as_ref()) else {
                continue;
            };
            let acked = sends::describe_ack(ack);
            let (kind, explanation) = if ack.status != SendStatus::SendOk {
                audience.figures.lost_unconfirmed += 1;
                (
                    AnomalyKind::LostUnconfirmed,
                    format!("{acked}; {name} never got it"),
                )
            } else if let Some(story) = reused_offset(audience, sends, record, id) {
                audience.figures.lost += 1;
                (AnomalyKind::Lost, format!("{acked}; {story}"))
            } else if !record.copies.is_empty() {
                audience.figures.lost += 1;
                audience.figures.lost_unexplained += 1;
                (
                    AnomalyKind::LostUnexplained,
                    format!("{acked}; it is stored, but {name} never got it"),
                )
            } else {
                audience.figures.lost += 1;
                match sends::loss_cause(&sends.brokers, scenario, ack) {
                    Some(cause) => (AnomalyKind::Lost, format!("{acked}; {cause}")),
                    None => {
                        audience.figures.lost_unexplained += 1;
                        (
                            AnomalyKind::LostUnexplained,
                            format!("{acked}; nothing in the durability model explains its loss"),
                        )
                    }
                }
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
    if !latencies.is_empty() {
        audience.figures.end_to_end_p50_ms = sends::percentile(&mut latencies, 50);
        audience.figures.end_to_end_p99_ms = sends::percentile(&mut latencies, 99);
    }
}

/// A stored message the group never got because its queue offset had already been consumed:
/// the broker lost the queue's tail (power loss, truncation), handed its offsets out again,
/// and the group's consumers read on from where they were. The story, if that is what happened.
fn reused_offset(
    audience: &Audience,
    sends: &sends::Analysis,
    record: &sends::Record,
    id: MessageId,
) -> Option<String> {
    record.copies.iter().find_map(|copy| {
        let queue = (copy.broker.clone(), copy.topic.clone(), copy.queue_id);
        let (other, at) = audience.seen_at.get(&(queue, copy.queue_offset))?;
        if *other == id {
            return None;
        }
        let recovery = sends
            .group_timelines(&copy.broker)
            .filter_map(|timeline| timeline.recoveries.iter().find(|(recovered, ..)| recovered > at))
            .min_by_key(|(recovered, ..)| *recovered)
            .map_or(String::new(), |(recovered, ..)| {
                format!(" {} restarted at {recovered} without the tail of the queue and", copy.broker)
            });
        Some(format!(
            "stored at {}/{}/{}@{}, an offset {} had already consumed ({other} at {at});{recovery} handed the \
             offset out again, and the group's consumers, already past it, never read it",
            copy.broker, copy.topic, copy.queue_id, copy.queue_offset, audience.figures.group
        ))
    })
}

/// Why a stored copy was delivered twice, and the story: who had it, what happened to them
/// or to the broker, and who took the queue over from where.
fn explain_redelivery(
    sends: &sends::Analysis,
    story: &Story,
    redelivery: &Redelivery,
) -> (Cause, String) {
    let (broker, topic, queue_id, offset) = &redelivery.copy;
    let (t1, first) = &redelivery.first;
    let (t2, second) = &redelivery.second;
    let within = |at: &Time| at >= t1 && at <= t2;
    let queue = (broker.clone(), topic.clone(), *queue_id);
    let mut parts = vec![format!(
        "{broker}/{topic}/{queue_id}@{offset} went to {first} at {t1}"
    )];

    let first_stop = story
        .consumer_stops
        .get(first)
        .and_then(|stops| stops.iter().find(|(at, _)| within(at)));
    let reset = story.offset_moves.get(&queue).and_then(|moves| {
        moves
            .iter()
            .find(|(at, _, _, to)| within(at) && to <= offset)
    });
    let broker_stop = sends
        .group_timelines(broker)
        .filter_map(|timeline| timeline.stops.iter().find(|(at, ..)| within(at)))
        .min_by_key(|(at, _)| *at);
    // The commit of the first delivery leaves within 5 s: if the group read the queue from a
    // slave by then, the commit went to the slave, and the master never saw it.
    let slave_read = story.slave_reads.get(&queue).and_then(|reads| {
        reads
            .iter()
            .find(|read| read.plus_ms(5_000) >= *t1 && *read <= t2)
    });
    let cause = match (first_stop, reset, broker_stop) {
        (Some((at, Stop::Shutdown)), ..) => {
            parts.push(format!(
                "{first} shut down at {at} having committed only what its last auto commit (or \
                 persist) took"
            ));
            Cause::ConsumerShutdown
        }
        (Some((at, how)), ..) => {
            let how = match how {
                Stop::PowerOff => "lost power",
                _ => "crashed",
            };
            parts.push(format!(
                "{first} {how} at {at} before its offset was committed past it"
            ));
            Cause::ConsumerCrash
        }
        (None, Some((at, consumer, from, to)), _) => {
            parts.push(format!(
                "at {at} PULL_OFFSET_MOVED sent {consumer} from offset {from} back to {to}, below \
                 messages the group had consumed and the broker still stores"
            ));
            Cause::OffsetReset
        }
        (None, None, _) if slave_read.is_some() => {
            let read = slave_read.expect("checked");
            parts.push(format!(
                "from {read} the group read the queue from {broker}'s slave and committed its offsets \
                 there, which the master never saw"
            ));
            Cause::SlaveOffsets
        }
        (None, None, Some((at, how))) => {
            let how = match how {
                Stop::PowerOff => "lost power",
                Stop::DiskLoss => "lost its disk",
                Stop::Shutdown => "shut down",
                Stop::Kill => "was killed",
            };
            parts.push(format!(
                "{broker} {how} at {at}; its consumer offsets are written every 5 s, so it came \
                 back with older ones"
            ));
            Cause::BrokerRestart
        }
        (None, None, None) => Cause::Rebalance,
    };
    let takeovers = story
        .takeovers
        .get(&queue)
        .map_or(&[][..], |list| list.as_slice());
    let takeover = takeovers
        .iter()
        .rev()
        .find(|(at, _, from)| within(at) && from <= offset);
    // Rebalancing is not coordinated: with different views of the group or of the route, two
    // consumers can own one queue at once.
    let shared = takeovers.iter().rev().find(|(at, consumer, from)| {
        at <= t2 && consumer == second && consumer != first && from <= offset
    });
    let cause = match (takeover, shared) {
        (Some((at, consumer, from)), _) => {
            parts.push(format!(
                "{consumer} took the queue at {at} from the committed offset {from} ({} behind)",
                offset - from + 1
            ));
            cause
        }
        (None, Some((at, consumer, from))) => {
            parts.push(format!(
                "{consumer} had owned the queue too since {at} (from offset {from}): the two consumers' \
                 views of the group or of the topic's queues differed"
            ));
            cause
        }
        (None, None) if cause == Cause::Rebalance => Cause::Unexplained,
        (None, None) => cause,
    };
    parts.push(format!(
        "{second} got it again at {t2} ({} later)",
        format_ms(t2.ms_since(*t1))
    ));
    (cause, parts.join("; "))
}

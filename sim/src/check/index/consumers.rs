//! What consumers were handed and did: per audience (a clustering group, or one instance of a
//! broadcasting group) each message's deliveries from `Delivered` (emitted where the consumer
//! calls the application's listener), and the story redeliveries are explained by: consumer
//! stops (the harness), queue takes and drops, offset moves and slave reads (the client).

use super::ownership::Ownership;
use super::sends::SendFacts;
use super::subscriptions::Subscription;
use crate::history::{SimEvent, Stop};
use crate::scenario::Scenario;
use model::event::Event;
use model::{MessageId, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};

/// A queue: (broker, topic, queue id).
pub(in crate::check) type Queue = (String, String, u32);
/// A stored copy: (broker, topic, queue id, queue offset).
pub(in crate::check) type CopyAt = (String, String, u32, u64);

/// A pulled message a client's tag compare dropped (`ClientDroppedTag`).
pub(in crate::check) struct ClientDrop {
    pub at: Time,
    pub consumer: String,
    pub copy: CopyAt,
    pub tag: Option<String>,
}

/// Who must receive a group's messages, and what they were handed.
pub(in crate::check) struct Audience {
    pub group: String,
    pub topic: String,
    /// `Some` for one instance of a broadcasting group.
    pub consumer: Option<String>,
    /// The group, or `group/consumer` for an instance of a broadcasting group.
    pub name: String,
    /// What each instance subscribes to, by its name (the one instance of a broadcasting
    /// audience).
    pub subscriptions: Vec<(String, Subscription)>,
    pub deliveries: u64,
    /// Deliveries of a retried message (reconsume count above 0).
    pub retries: u64,
    /// Per message, by producer and sequence number.
    pub messages: Vec<Vec<Fate>>,
    /// Messages the clients dropped by their tag compare, after the broker's prefilter.
    pub client_drops: Vec<ClientDrop>,
    /// Per queue: one past the highest offset delivered so far.
    frontier: BTreeMap<Queue, u64>,
    /// Per queue offset: the first message delivered from it, and when it was handed over.
    /// After a truncation a queue offset can hold another message.
    pub seen_at: BTreeMap<(Queue, u64), (MessageId, Time)>,
    /// Per queue: the audience's first take of it (when, by whom, from which offset). A new
    /// group has no committed offset there: where it starts is `ConsumeFromWhere`'s and the
    /// broker's choice.
    pub starts: BTreeMap<Queue, (Time, String, u64)>,
}

/// What became of one message in one audience.
#[derive(Clone, Debug, Default)]
pub(in crate::check) struct Fate {
    pub first: Option<Time>,
    /// When the listener first consumed it.
    pub consumed: Option<Time>,
    /// Deliveries per (copy, reconsume count).
    pub copies: Vec<CopyDeliveries>,
}

#[derive(Clone, Debug)]
pub(in crate::check) struct CopyDeliveries {
    pub copy: CopyAt,
    pub reconsume_times: u32,
    pub count: u32,
    /// Deliveries the listener did not consume (each one is sent back as a retry copy).
    pub failures: u32,
    /// When the listener first failed it.
    pub first_failure: Option<Time>,
    /// When the first delivery was handed to the listener, and to whom.
    pub first: (Time, String),
    /// When the latest delivery was handed over.
    pub last: Time,
}

/// A copy delivered a second time; times are when each was handed to the listener.
pub(in crate::check) struct Redelivery {
    pub id: MessageId,
    pub copy: CopyAt,
    pub first: (Time, String),
    pub second: (Time, String),
}

/// A retry copy more than the failures one reconsume count below sent back.
pub(in crate::check) struct ExtraCopy {
    pub id: MessageId,
    /// The extra copy.
    pub copy: CopyAt,
    /// When the listener first failed the message one reconsume count below: the copies
    /// were sent back after it.
    pub failed_at: Time,
    /// When an earlier copy at the same reconsume count was first handed over, and to whom.
    pub earlier: (Time, String),
    pub second: (Time, String),
}

pub(in crate::check) struct StaleDelivery {
    pub id: Option<MessageId>,
    pub consumer: String,
    pub copy: CopyAt,
    pub why: Stale,
    pub handed: Time,
}

/// Why a consumer no longer owned a queue.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(in crate::check) enum Stale {
    /// Its rebalance allocated the queue elsewhere at this time.
    NotAllocated(Time),
    /// It dropped the queue's process queue at this time.
    Dropped(Time),
}

/// A delivery of a record without a readable id, of an id nobody sent, or of another body.
pub(in crate::check) struct OddDelivery {
    pub at: Time,
    pub consumer: String,
    pub copy: CopyAt,
    pub id: Option<MessageId>,
    /// Whether the id was sent (then the body differs).
    pub sent: bool,
}

pub(in crate::check) struct Take {
    pub at: Time,
    pub consumer: String,
    pub queue: Queue,
    pub offset: u64,
    /// One past the highest offset the audience had been handed from the queue by then.
    pub frontier: u64,
}

/// What happened to consumers and queues, for explaining redeliveries.
#[derive(Default)]
pub(in crate::check) struct Story {
    /// Per node (by name): its stops.
    pub consumer_stops: BTreeMap<String, Vec<(Time, Stop)>>,
    /// Per queue: (time, consumer, offset) of every take.
    pub takeovers: BTreeMap<Queue, Vec<(Time, String, u64)>>,
    /// Per queue: (time, consumer, from, to) of every PULL_OFFSET_MOVED.
    pub offset_moves: BTreeMap<Queue, Vec<(Time, String, u64, u64)>>,
    /// Per (consumer, queue): when the consumer last dropped it, if it has not taken it since.
    dropped: BTreeMap<(String, Queue), Time>,
    /// Per queue: when some consumer started pulling it from a slave.
    pub slave_reads: BTreeMap<Queue, Vec<Time>>,
    /// What each consumer was allocated, and the hand-overs.
    pub ownership: Ownership,
    /// The operator's direct consumptions asked and not yet handed over, per (client,
    /// message).
    direct_asks: BTreeMap<(String, MessageId), u32>,
    /// Deliveries an operator asked for directly: (message, consumer, handed).
    pub directs: BTreeSet<(MessageId, String, Time)>,
    /// Per queue: the offset resets its broker answered.
    pub resets: BTreeMap<Queue, Vec<Reset>>,
}

/// A broker's answer to an operator's reset, for one of its queues.
#[derive(Clone, Debug)]
pub(in crate::check) struct Reset {
    pub asked: Time,
    pub answered: Time,
    pub group: String,
    /// Where the broker told the group's consumers to go.
    pub offset: u64,
}

impl Story {
    /// Whether a delivery of `id` to `consumer` is one an operator asked for directly (and
    /// notes it so).
    fn direct(&mut self, consumer: &str, id: MessageId, handed: Time) -> bool {
        let key = (consumer.to_string(), id);
        let Some(asks) = self.direct_asks.get_mut(&key).filter(|n| **n > 0) else {
            return false;
        };
        *asks -= 1;
        self.directs.insert((id, key.0, handed));
        true
    }

    /// Whether `consumer` no longer owned `queue` when it handed a message of it over.
    fn stale(&self, consumer: &str, queue: &Queue, handed: Time) -> Option<Stale> {
        let dropped = self.dropped.get(&(consumer.to_string(), queue.clone()));
        if let Some(dropped) = dropped.filter(|dropped| handed > **dropped) {
            return Some(Stale::Dropped(*dropped));
        }
        let (broker, topic, queue_id) = queue;
        let queue = (broker.as_str(), topic.as_str(), *queue_id);
        let away = self.ownership.allocated_away(consumer, queue, handed);
        away.map(Stale::NotAllocated)
    }
}

/// The consumers' side of the history. The lists are in history order, each entry with the
/// index of its audience.
pub(in crate::check) struct ConsumerFacts {
    pub audiences: Vec<Audience>,
    pub story: Story,
    /// Deliveries after the consumer had dropped the queue.
    pub stale: Vec<(usize, StaleDelivery)>,
    /// Deliveries of something that is not a message as sent.
    pub odd: Vec<(usize, OddDelivery)>,
    /// First deliveries of messages with a sharding key from their own topic:
    /// (message, queue, when, consumer).
    pub first_keyed: Vec<(usize, (MessageId, Queue, Time, String))>,
    /// Every queue take, with how far the audience had consumed the queue then.
    pub takes: Vec<(usize, Take)>,
    /// Copies delivered a second time with the same reconsume count.
    pub redeliveries: Vec<(usize, Redelivery)>,
    /// Retry copies beyond the failures that sent them back.
    pub retry_copies: Vec<(usize, ExtraCopy)>,
}

/// What one delivery adds to the lists of `ConsumerFacts`.
#[derive(Default)]
struct Findings {
    stale: Option<StaleDelivery>,
    odd: Option<OddDelivery>,
    first_keyed: Option<(MessageId, Queue, Time, String)>,
    redelivery: Option<Redelivery>,
    retry_copy: Option<ExtraCopy>,
}

impl ConsumerFacts {
    pub fn new(scenario: &Scenario) -> ConsumerFacts {
        ConsumerFacts {
            audiences: audiences(scenario),
            story: Story::default(),
            stale: Vec::new(),
            odd: Vec::new(),
            first_keyed: Vec::new(),
            takes: Vec::new(),
            redeliveries: Vec::new(),
            retry_copies: Vec::new(),
        }
    }

    fn find(&self, group: &str, consumer: &str) -> Option<usize> {
        self.audiences
            .iter()
            .position(|a| a.group == group && a.consumer.as_deref().is_none_or(|c| c == consumer))
    }

    pub fn observe_sim(&mut self, at: Time, name: &str, event: &SimEvent) {
        if let SimEvent::Stopped { how } = event {
            let stops = self.story.consumer_stops.entry(name.to_string());
            stops.or_default().push((at, *how));
            // A new process owns nothing.
            self.story
                .dropped
                .retain(|(consumer, _), _| consumer != name);
            self.story.ownership.stopped(at, name);
        }
    }

    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub fn observe(&mut self, at: Time, event: &Event, sends: &SendFacts) {
        match event {
            Event::Delivered {
                group,
                consumer,
                id,
                took_ms,
                ..
            } => {
                let handed = Time::from_ms(at.as_ms().saturating_sub(*took_ms));
                let direct = id.is_some_and(|id| self.story.direct(consumer, id, handed));
                if let Some(index) = self.find(group, consumer) {
                    let audience = &mut self.audiences[index];
                    let found = audience.delivered(at, event, (&self.story, direct), sends);
                    self.stale.extend(found.stale.map(|f| (index, f)));
                    self.odd.extend(found.odd.map(|f| (index, f)));
                    self.first_keyed
                        .extend(found.first_keyed.map(|f| (index, f)));
                    self.redeliveries
                        .extend(found.redelivery.map(|f| (index, f)));
                    let copies = found.retry_copy.map(|f| (index, f));
                    self.retry_copies.extend(copies);
                }
            }
            Event::ClientDroppedTag {
                group,
                consumer,
                broker,
                topic,
                queue_id,
                queue_offset,
                tag,
            } => {
                if let Some(index) = self.find(group, consumer) {
                    self.audiences[index].client_drops.push(ClientDrop {
                        at,
                        consumer: consumer.clone(),
                        copy: (broker.clone(), topic.clone(), *queue_id, *queue_offset),
                        tag: tag.clone(),
                    });
                }
            }
            Event::Allocated {
                group,
                consumer,
                topic,
                mine,
                queues,
                ..
            } => {
                let ownership = &mut self.story.ownership;
                let who = (group.as_str(), consumer.as_str(), topic.as_str());
                ownership.allocated(at, who, mine, *queues);
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
                let takes = self.story.takeovers.entry(queue.clone()).or_default();
                takes.push((at, consumer.clone(), *offset));
                self.story
                    .dropped
                    .remove(&(consumer.clone(), queue.clone()));
                if let Some(index) = self.find(group, consumer) {
                    let audience = &mut self.audiences[index];
                    let start = (at, consumer.clone(), *offset);
                    audience.starts.entry(queue.clone()).or_insert(start);
                    let frontier = audience.frontier.get(&queue).copied().unwrap_or(0);
                    let take = Take {
                        at,
                        consumer: consumer.clone(),
                        queue,
                        offset: *offset,
                        frontier,
                    };
                    self.takes.push((index, take));
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
                self.story.dropped.insert((consumer.clone(), queue), at);
            }
            Event::PullReplica {
                broker,
                topic,
                queue_id,
                slave: true,
                ..
            } => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                self.story.slave_reads.entry(queue).or_default().push(at);
            }
            Event::DirectConsumeAsked { client, id, .. } => {
                let asks = self.story.direct_asks.entry((client.clone(), *id));
                *asks.or_default() += 1;
            }
            Event::OffsetsReset {
                asked,
                broker,
                group,
                topic,
                offsets,
                ..
            } => {
                for (queue_id, offset) in offsets {
                    let queue = (broker.clone(), topic.clone(), *queue_id);
                    let reset = Reset {
                        asked: *asked,
                        answered: at,
                        group: group.clone(),
                        offset: *offset,
                    };
                    self.story.resets.entry(queue).or_default().push(reset);
                }
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
                let moves = self.story.offset_moves.entry(queue).or_default();
                moves.push((at, consumer.clone(), *from, *to));
            }
            _ => {}
        }
    }
}

impl Audience {
    /// Notes one `Delivered` event for this audience.
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    fn delivered(
        &mut self,
        at: Time,
        event: &Event,
        (story, direct): (&Story, bool),
        sends: &SendFacts,
    ) -> Findings {
        let mut found = Findings::default();
        let Event::Delivered {
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
            ..
        } = event
        else {
            return found;
        };
        self.deliveries += 1;
        let queue = (broker.clone(), queue_topic.clone(), *queue_id);
        let copy = (
            broker.clone(),
            queue_topic.clone(),
            *queue_id,
            *queue_offset,
        );
        let handed = Time::from_ms(at.as_ms().saturating_sub(*took_ms));
        // A message an operator sends directly comes outside the consumer's queues.
        let stale = (!direct).then(|| story.stale(consumer, &queue, handed));
        if let Some(why) = stale.flatten() {
            found.stale = Some(StaleDelivery {
                id: *id,
                consumer: consumer.clone(),
                copy: copy.clone(),
                why,
                handed,
            });
        }
        let frontier = self.frontier.entry(queue.clone()).or_insert(0);
        *frontier = (*frontier).max(queue_offset + 1);
        if let Some(id) = id {
            let seen = self.seen_at.entry((queue.clone(), *queue_offset));
            seen.or_insert((*id, handed));
        }
        let record = id.and_then(|id| sends.record(id));
        let (Some(id), Some(record)) = (id, record) else {
            let odd = OddDelivery {
                at,
                consumer: consumer.clone(),
                copy,
                id: *id,
                sent: false,
            };
            found.odd = Some(odd);
            return found;
        };
        if *body_crc != record.body_crc {
            let odd = OddDelivery {
                at,
                consumer: consumer.clone(),
                copy: copy.clone(),
                id: Some(*id),
                sent: true,
            };
            found.odd = Some(odd);
        }
        if *reconsume_times > 0 {
            self.retries += 1;
        }
        let fate = super::dense_entry(&mut self.messages, *id);
        let first_time = fate.first.is_none();
        fate.first.get_or_insert(at);
        if *consumed && fate.consumed.is_none() {
            fate.consumed = Some(at);
        }
        let handed_to = (handed, consumer.clone());
        let delivery = (copy, *reconsume_times, *consumed);
        (found.redelivery, found.retry_copy) = fate.count(*id, delivery, at, handed_to);
        if first_time && topic == queue_topic && record.key.is_some() {
            found.first_keyed = Some((*id, queue, at, consumer.clone()));
        }
        found
    }
}

impl Fate {
    /// Counts one delivery of `copy` at a reconsume count, consumed or failed, handed over as
    /// `handed`: a second delivery of one copy is a redelivery, a new copy may be an extra
    /// retry copy.
    fn count(
        &mut self,
        id: MessageId,
        (copy, reconsume_times, consumed): (CopyAt, u32, bool),
        at: Time,
        handed: (Time, String),
    ) -> (Option<Redelivery>, Option<ExtraCopy>) {
        let same = |c: &&mut CopyDeliveries| c.copy == copy && c.reconsume_times == reconsume_times;
        let Some(seen) = self.copies.iter_mut().find(same) else {
            let extra = self.extra_retry_copy(id, &copy, reconsume_times, &handed);
            self.copies.push(CopyDeliveries {
                copy,
                reconsume_times,
                count: 1,
                failures: u32::from(!consumed),
                first_failure: (!consumed).then_some(at),
                last: handed.0,
                first: handed,
            });
            return (None, extra);
        };
        seen.count += 1;
        seen.last = seen.last.max(handed.0);
        seen.failures += u32::from(!consumed);
        if !consumed {
            seen.first_failure.get_or_insert(at);
        }
        if seen.count != 2 {
            return (None, None);
        }
        // Two consumers may hold one copy at once: order them by hand-over.
        let mut pair = [seen.first.clone(), handed];
        pair.sort_by_key(|(at, _)| *at);
        let [first, second] = pair;
        (
            Some(Redelivery {
                id,
                copy,
                first,
                second,
            }),
            None,
        )
    }

    /// A new retry copy `copy` handed over as `second`, if it is one more copy at its
    /// reconsume count than the failures one level below sent back (each failure is one
    /// send-back, so one copy; a copy beyond them was stored twice).
    fn extra_retry_copy(
        &self,
        id: MessageId,
        copy: &CopyAt,
        reconsume_times: u32,
        second: &(Time, String),
    ) -> Option<ExtraCopy> {
        if reconsume_times == 0 || !copy.1.starts_with("%RETRY%") {
            return None;
        }
        let level = |times: u32| {
            self.copies
                .iter()
                .filter(move |c| c.reconsume_times == times)
        };
        let failures: u32 = level(reconsume_times - 1).map(|c| c.failures).sum();
        let copies = level(reconsume_times).count() as u32 + 1;
        if copies <= failures {
            return None;
        }
        let earlier = level(reconsume_times).next()?;
        let failed_at = level(reconsume_times - 1)
            .filter_map(|c| c.first_failure)
            .min()?;
        Some(ExtraCopy {
            id,
            copy: copy.clone(),
            failed_at,
            earlier: earlier.first.clone(),
            second: second.clone(),
        })
    }
}

/// One audience per clustering group, one per instance of a broadcasting group.
fn audiences(scenario: &Scenario) -> Vec<Audience> {
    let mut audiences = Vec::new();
    for group in &scenario.consumers {
        let consumers: Vec<Option<String>> = if group.broadcasting {
            let name = |node: &NodeId| Some(scenario.nodes[node.index()].name.clone());
            group.nodes.iter().map(name).collect()
        } else {
            vec![None]
        };
        let instances = group.nodes.iter().zip(&group.subscriptions);
        let subscriptions: Vec<(String, Subscription)> = instances
            .map(|(node, expression)| {
                let name = scenario.nodes[node.index()].name.clone();
                (name, Subscription::parse(expression))
            })
            .collect();
        for consumer in consumers {
            let name = match &consumer {
                Some(c) => format!("{}/{c}", group.group),
                None => group.group.clone(),
            };
            let mut subscriptions = subscriptions.clone();
            subscriptions.retain(|(instance, _)| consumer.as_ref().is_none_or(|c| c == instance));
            audiences.push(Audience {
                group: group.group.clone(),
                topic: group.topic.clone(),
                consumer,
                name,
                subscriptions,
                deliveries: 0,
                retries: 0,
                messages: Vec::new(),
                client_drops: Vec::new(),
                frontier: BTreeMap::new(),
                starts: BTreeMap::new(),
                seen_at: BTreeMap::new(),
            });
        }
    }
    audiences
}

//! What the auditor read back from every replica at the end: the copies of each message (into
//! its `Record`), which replica holds each queue position, positions two replicas disagree on,
//! records nobody sent, queues that could not be read, and the dead-letter queues.

use super::sends::{Copy, SendFacts};
use model::event::Event;
use model::{MessageId, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};

/// A queue position in a broker group: (group, topic, queue id, queue offset).
pub(in crate::check) type Position = (String, String, u32, u64);

/// Two replicas holding different records at one position.
pub(in crate::check) struct Conflict {
    pub at: Time,
    pub position: Position,
    pub first: (NodeId, Option<MessageId>),
    pub second: (NodeId, Option<MessageId>),
}

/// A queue of a broker group: (group, topic, queue id).
type QueueKey = (String, String, u32);

/// Queues by key, each with a small index, and the last one looked up (the auditor reads a
/// queue's entries one after another, so most lookups hit it).
#[derive(Default)]
struct Queues {
    index: BTreeMap<QueueKey, usize>,
    last: Option<(QueueKey, usize)>,
}

impl Queues {
    /// A queue position by its queue's index.
    fn position(&self, queue: usize, offset: u64) -> Position {
        let key = self
            .index
            .iter()
            .find(|(_, i)| **i == queue)
            .map(|(k, _)| k);
        let (group, topic, queue_id) = key.cloned().expect("an interned queue");
        (group, topic, queue_id, offset)
    }

    fn of(&mut self, broker: &str, topic: &str, queue_id: u32) -> usize {
        if let Some(((b, t, q), index)) = &self.last
            && b == broker
            && t == topic
            && *q == queue_id
        {
            return *index;
        }
        let key = (broker.to_string(), topic.to_string(), queue_id);
        let next = self.index.len();
        let index = *self.index.entry(key.clone()).or_insert(next);
        self.last = Some((key, index));
        index
    }
}

/// How far a record's queue offset may lie from the entry it was read through and still be
/// taken as its position: misplaced dispatches shift entries by as many records as the
/// replicas' logs differ; a queue offset farther off is a rotted field.
const MAX_ENTRY_DRIFT: u64 = 1 << 20;

/// The position a record read through entry `entry` stands at: its own queue offset, unless
/// that is too far from the entry to be anything but rot (the tables are dense by offset).
fn placed(queue_offset: u64, entry: u64) -> u64 {
    match queue_offset.abs_diff(entry) <= MAX_ENTRY_DRIFT {
        true => queue_offset,
        false => entry,
    }
}

/// A table per queue, dense by queue offset (queue offsets are dense).
fn slot<T: Default>(table: &mut Vec<Vec<T>>, queue: usize, offset: u64) -> &mut T {
    if table.len() <= queue {
        table.resize_with(queue + 1, Vec::new);
    }
    let offset = offset as usize;
    if table[queue].len() <= offset {
        table[queue].resize_with(offset + 1, T::default);
    }
    &mut table[queue][offset]
}

#[derive(Default)]
pub(in crate::check) struct ReadBackFacts {
    /// The broker groups with more than one replica: only their positions can conflict or
    /// leave holes, so only theirs are tabled.
    replicated: BTreeSet<String>,
    queues: Queues,
    /// Positions where replicas differ, first seen in history order.
    pub conflicts: Vec<Conflict>,
    conflicted: BTreeSet<Position>,
    holdings: ReplicaHoldings,
    /// Records with an id nobody sent, or with no readable id: (when read, copy, id).
    pub strays: Vec<(Time, Copy, Option<MessageId>)>,
    /// Queues that could not be read to the end: (broker, topic, queue id).
    pub unread: BTreeSet<(String, String, u32)>,
    /// Per group: the ids read back from its dead-letter queues.
    pub dead: BTreeMap<String, BTreeSet<MessageId>>,
    /// Groups whose dead-letter queues could not all be read.
    pub dlq_unread: BTreeSet<String>,
    /// Whether the auditor finished.
    pub done: bool,
}

impl ReadBackFacts {
    pub fn new(scenario: &crate::scenario::Scenario) -> ReadBackFacts {
        let replicated = scenario.broker_groups.iter().filter(|g| g.nodes.len() > 1);
        ReadBackFacts {
            replicated: replicated.map(|g| g.name.clone()).collect(),
            ..ReadBackFacts::default()
        }
    }

    pub fn observe(&mut self, at: Time, event: &Event, sends: &mut SendFacts) {
        match event {
            Event::ReadBack {
                broker,
                replica,
                entry,
                topic,
                queue_id,
                queue_offset,
                commit_log_offset,
                id,
                body_crc,
                ..
            } => {
                if self.replicated.contains(broker.as_str()) {
                    let queue = self.queues.of(broker, topic, *queue_id);
                    let position = (queue, placed(*queue_offset, entry.offset));
                    let held = (*id, (broker.as_str(), *commit_log_offset));
                    if let Some(first) = self.holdings.held(position, *replica, held) {
                        self.conflict(at, position, first, (*replica, *id));
                    }
                }
                let copy = Copy {
                    broker: sends.names.get(broker),
                    topic: sends.names.get(topic),
                    queue_id: *queue_id,
                    queue_offset: *queue_offset,
                    commit_log_offset: *commit_log_offset,
                    body_crc: *body_crc,
                };
                if let (Some(group), Some(id)) = (topic.strip_prefix("%DLQ%"), id) {
                    self.dead.entry(group.to_string()).or_default().insert(*id);
                }
                match id {
                    Some(id) if sends.record(*id).is_some() => {
                        let r = sends.record_mut(*id);
                        if let Some(group) = topic.strip_prefix("%DLQ%") {
                            r.add_dead_letter(group, copy);
                        } else if **topic == *r.topic && !r.copies.contains(&copy) {
                            // Retry topics and the schedule topic hold copies in transit.
                            r.copies.push(copy);
                        }
                    }
                    _ => self.strays.push((at, copy, *id)),
                }
            }
            Event::ReadBackFailed {
                broker,
                topic,
                queue_id,
                ..
            } => {
                self.unread
                    .insert((broker.clone(), topic.clone(), *queue_id));
                if let Some(group) = topic.strip_prefix("%DLQ%") {
                    self.dlq_unread.insert(group.to_string());
                }
            }
            Event::ReadBackDone { .. } => self.done = true,
            _ => {}
        }
    }

    /// Notes a position's first conflict: the first replica read holds another record there.
    fn conflict(
        &mut self,
        at: Time,
        (queue, offset): (usize, u64),
        first: (NodeId, Option<MessageId>),
        second: (NodeId, Option<MessageId>),
    ) {
        let position = self.queues.position(queue, offset);
        if self.conflicted.insert(position.clone()) {
            self.conflicts.push(Conflict {
                at,
                position,
                first,
                second,
            });
        }
    }

    /// (position, a replica holding it, a replica of the same group missing it).
    pub fn holes(&self) -> Vec<(Position, NodeId, NodeId)> {
        let holes = self.holdings.holes(&self.queues);
        let named = holes.into_iter();
        named
            .map(|((queue, offset), holder, missing)| {
                (self.queues.position(queue, offset), holder, missing)
            })
            .collect()
    }

    /// Whether the read-back could not reach the queue (its fate is unknown).
    pub fn unread_queue(&self, broker: &str, queue_id: u32) -> bool {
        self.unread
            .iter()
            .any(|(b, _, queue)| b == broker && *queue == queue_id)
    }
}

/// The replicas holding one queue position read back. Most positions are read from one
/// replica, so the first is kept inline and the others boxed.
#[derive(Default)]
struct Holders {
    /// The first replica read: (replica, the message it holds there (`None`: an unreadable
    /// record), the record's commitlog offset).
    first: Option<(NodeId, Option<MessageId>, u64)>,
    /// The other replicas: (replica, commitlog offset).
    others: Option<Box<[(NodeId, u64)]>>,
}

impl Holders {
    /// (replica, commitlog offset) of each replica holding it, the first read first.
    fn iter(&self) -> impl Iterator<Item = (NodeId, u64)> + '_ {
        let first = self.first.map(|(replica, _, at)| (replica, at));
        first
            .into_iter()
            .chain(self.others.iter().flat_map(|o| o.iter().copied()))
    }
}

/// Which replica of a group holds each queue position read back, and how far each replica's
/// read-back reached in the commitlog: a position one replica holds and another lacks, inside
/// the part of the log the other holds, is a hole in the other's copy.
#[derive(Default)]
struct ReplicaHoldings {
    /// Per queue and offset: the replicas that hold it.
    held: Vec<Vec<Holders>>,
    /// Replica -> (group, lowest and highest commitlog offset read back from it).
    spans: BTreeMap<NodeId, (String, u64, u64)>,
}

impl ReplicaHoldings {
    /// Notes that `replica` holds `id` at a position; returns the first replica read and what
    /// it holds there, if that is another record on another replica (a conflict).
    fn held(
        &mut self,
        (queue, offset): (usize, u64),
        replica: NodeId,
        (id, (group, at)): (Option<MessageId>, (&str, u64)),
    ) -> Option<(NodeId, Option<MessageId>)> {
        let holders = slot(&mut self.held, queue, offset);
        let conflict = match holders.first {
            None => {
                holders.first = Some((replica, id, at));
                None
            }
            Some((first, first_id, _)) => {
                if !holders.iter().any(|(node, _)| node == replica) {
                    let others = holders.others.take().unwrap_or_default();
                    let others = others.iter().copied().chain([(replica, at)]);
                    holders.others = Some(others.collect());
                }
                (first != replica && first_id != id).then_some((first, first_id))
            }
        };
        let span = match self.spans.get_mut(&replica) {
            Some(span) => span,
            None => self
                .spans
                .entry(replica)
                .or_insert((group.to_string(), at, at)),
        };
        span.1 = span.1.min(at);
        span.2 = span.2.max(at);
        conflict
    }

    /// ((queue, offset), a replica holding it, a replica of the same group missing it), in
    /// the order of the queues' keys and then offsets.
    fn holes(&self, queues: &Queues) -> Vec<((usize, u64), NodeId, NodeId)> {
        let mut holes = Vec::new();
        for ((group, _, _), queue) in &queues.index {
            let Some(offsets) = self.held.get(*queue) else {
                continue;
            };
            for (offset, holders) in offsets.iter().enumerate() {
                let Some((holder, _, at)) = holders.first else {
                    continue;
                };
                for (replica, (g, low, high)) in &self.spans {
                    let covers = g == group && *low <= at && at <= *high;
                    if covers && !holders.iter().any(|(node, _)| node == *replica) {
                        holes.push(((*queue, offset as u64), holder, *replica));
                    }
                }
            }
        }
        holes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: NodeId = NodeId(1);
    const SLAVE: NodeId = NodeId(2);

    #[test]
    fn a_position_missing_inside_a_replicas_log_is_a_hole() {
        let position = |offset: u64| ("broker-a".to_string(), "orders".to_string(), 0, offset);
        let mut facts = ReadBackFacts::default();
        let queue = facts.queues.of("broker-a", "orders", 0);
        let mut held = |offset: u64, replica: NodeId| {
            let at = ("broker-a", offset * 100);
            let id = MessageId {
                producer: 0,
                seq: offset as u32,
            };
            facts
                .holdings
                .held((queue, offset), replica, (Some(id), at));
        };
        for offset in 0..3 {
            held(offset, MASTER);
        }
        // The slave holds 0 and 2, so its log covers 0..=200, but not position 1.
        held(0, SLAVE);
        held(2, SLAVE);
        // A slave whose copy begins later lacks what lies before it: no hole.
        held(2, NodeId(3));
        assert_eq!(facts.holes(), vec![(position(1), MASTER, SLAVE)]);
    }
}

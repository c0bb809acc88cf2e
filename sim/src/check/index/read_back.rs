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

#[derive(Default)]
pub(in crate::check) struct ReadBackFacts {
    /// What the first replica read back holds at each queue position.
    positions: BTreeMap<Position, (NodeId, Option<MessageId>)>,
    /// Positions where replicas differ, first seen in history order.
    pub conflicts: Vec<Conflict>,
    conflicted: BTreeSet<Position>,
    pub holdings: ReplicaHoldings,
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
    pub fn observe(&mut self, at: Time, event: &Event, sends: &mut SendFacts) {
        match event {
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
                self.holdings.held(&position, *replica, *commit_log_offset);
                self.compare(at, position, *replica, *id);
                let copy = Copy {
                    broker: broker.clone(),
                    topic: topic.clone(),
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
                            r.dead_letters.push((group.to_string(), copy));
                        } else if *topic == r.topic && !r.copies.contains(&copy) {
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

    /// Notes what `replica` holds at `position`, and a conflict with the first replica read.
    fn compare(&mut self, at: Time, position: Position, replica: NodeId, id: Option<MessageId>) {
        match self.positions.get(&position) {
            Some(&(other, other_id)) if other != replica && other_id != id => {
                if self.conflicted.insert(position.clone()) {
                    self.conflicts.push(Conflict {
                        at,
                        position,
                        first: (other, other_id),
                        second: (replica, id),
                    });
                }
            }
            Some(_) => {}
            None => {
                self.positions.insert(position, (replica, id));
            }
        }
    }

    /// Whether the read-back could not reach the queue (its fate is unknown).
    pub fn unread_queue(&self, broker: &str, queue_id: u32) -> bool {
        self.unread
            .iter()
            .any(|(b, _, queue)| b == broker && *queue == queue_id)
    }
}

/// Which replica of a group holds each queue position read back, and how far each replica's
/// read-back reached in the commitlog: a position one replica holds and another lacks, inside
/// the part of the log the other holds, is a hole in the other's copy.
#[derive(Default)]
pub(in crate::check) struct ReplicaHoldings {
    /// Position -> (replica, commitlog offset) of each replica that holds it.
    held: BTreeMap<Position, Vec<(NodeId, u64)>>,
    /// Replica -> (group, lowest and highest commitlog offset read back from it).
    spans: BTreeMap<NodeId, (String, u64, u64)>,
}

impl ReplicaHoldings {
    pub fn held(&mut self, position: &Position, replica: NodeId, commit_log_offset: u64) {
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
    pub fn holes(&self) -> Vec<(Position, NodeId, NodeId)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: NodeId = NodeId(1);
    const SLAVE: NodeId = NodeId(2);

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
}

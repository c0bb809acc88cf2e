//! The facts misplaced ConsumeQueue entries are judged from: what the auditor read through
//! each entry (`ReadBack` with its `entry`; `ReadBackNoRecord`), and one of the two known
//! causes, the out-of-order dispatches the store reported (`ConsumeQueueMisplaced`); the
//! other, rotted commitlog bytes, is in the brokers' timelines.

use super::consumers::Queue;
use model::event::{Event, QueueEntry};
use model::{MessageId, NodeId, Time};
use std::collections::BTreeSet;

/// A misplaced dispatch the store reported: on which node, which entry, which record.
type Dispatched = (NodeId, QueueEntry, u64);

#[derive(Default)]
pub(in crate::check) struct MisplacedFacts {
    pub dispatched: BTreeSet<Dispatched>,
    /// Read-backs through an entry of another queue position, and entries that led to no
    /// record, in history order.
    pub read: Vec<(Time, Event)>,
}

impl MisplacedFacts {
    pub fn observe(&mut self, at: Time, node: NodeId, event: &Event) {
        match event {
            Event::ConsumeQueueMisplaced {
                entry,
                commit_log_offset,
                ..
            } => {
                self.dispatched
                    .insert((node, entry.clone(), *commit_log_offset));
            }
            Event::ReadBack {
                entry,
                topic,
                queue_id,
                queue_offset,
                ..
            } => {
                let own = entry.topic == *topic
                    && entry.queue_id == *queue_id
                    && entry.offset == *queue_offset;
                if !own {
                    self.read.push((at, event.clone()));
                }
            }
            Event::ReadBackNoRecord { .. } => self.read.push((at, event.clone())),
            _ => {}
        }
    }
}

impl MisplacedFacts {
    /// Where the read-back found message `id` of `queue` through an entry of that queue below
    /// its record's queue offset: (node read, entry offset, record's queue offset).
    pub fn entries_below<'a>(
        &'a self,
        id: MessageId,
        queue: &'a Queue,
    ) -> impl Iterator<Item = (NodeId, u64, u64)> + 'a {
        self.read.iter().filter_map(move |(_, event)| match event {
            Event::ReadBack {
                broker,
                replica,
                entry,
                topic,
                queue_id,
                queue_offset,
                id: Some(read),
                ..
            } if *read == id
                && (broker, topic, *queue_id) == (&queue.0, &queue.1, queue.2)
                && entry.topic == *topic
                && entry.queue_id == *queue_id
                && entry.offset < *queue_offset =>
            {
                Some((*replica, entry.offset, *queue_offset))
            }
            _ => None,
        })
    }
}

//! The facts misplaced ConsumeQueue entries are judged from: what the auditor read through
//! each entry (`ReadBack` with its `entry`; `ReadBackNoRecord`), and one of the two known
//! causes, the out-of-order dispatches the store reported (`ConsumeQueueMisplaced`); the
//! other, rotted commitlog bytes, is in the brokers' timelines.

use model::event::{Event, QueueEntry};
use model::{NodeId, Time};
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

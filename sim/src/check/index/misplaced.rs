//! The facts misplaced ConsumeQueue entries are judged from: what the auditor read through
//! each entry (`ReadBack` with its `entry`; `ReadBackNoRecord`), and the two known causes, the
//! out-of-order dispatches the store reported (`ConsumeQueueMisplaced`) and rotted commitlog
//! bytes (`Corrupted`, recorded by the harness).

use crate::history::SimEvent;
use model::event::{Event, QueueEntry};
use model::{NodeId, Time};
use std::collections::BTreeSet;

/// A misplaced dispatch the store reported: on which node, which entry, which record.
type Dispatched = (NodeId, QueueEntry, u64);

#[derive(Default)]
pub(in crate::check) struct MisplacedFacts {
    pub dispatched: BTreeSet<Dispatched>,
    /// Rotted commitlog bytes: the node and the byte's commitlog offset.
    rotted: BTreeSet<(NodeId, u64)>,
    /// Read-backs through an entry of another queue position, and entries that led to no
    /// record, in history order.
    pub read: Vec<(Time, Event)>,
}

impl MisplacedFacts {
    /// Whether a byte of `node`'s commitlog rotted in `from..to` (any byte: `None`).
    pub fn rotted(&self, node: NodeId, range: Option<(u64, u64)>) -> bool {
        let (from, to) = range.unwrap_or((0, u64::MAX));
        self.rotted.range((node, from)..(node, to)).next().is_some()
    }

    pub fn observe_sim(&mut self, node: NodeId, event: &SimEvent) {
        if let SimEvent::Corrupted { file, position } = event {
            // Commitlog files are named by their first byte's offset.
            let base = file
                .strip_prefix("store/commitlog/")
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(base) = base {
                self.rotted.insert((node, base + position));
            }
        }
    }

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

//! What consumers could read at the end: each topic's read queues and read permission on each
//! broker group, from the auditor's last routes (what clients learn from the name servers),
//! and the operator's topic updates as the brokers applied them.

use model::Time;
use model::event::Event;
use std::collections::BTreeMap;

#[derive(Default)]
pub(in crate::check) struct TopicFacts {
    /// (topic, broker) -> (read queues, readable), from the auditor's last routes.
    read_queues: BTreeMap<(String, String), (u32, bool)>,
    /// (topic, broker) -> the last update the broker applied: when, read queues, perm.
    updates: BTreeMap<(String, String), (Time, u32, u32)>,
}

impl TopicFacts {
    pub fn observe(&mut self, at: Time, event: &Event) {
        match event {
            Event::ReadQueues {
                topic,
                broker,
                read_queue_nums,
                readable,
            } => {
                let key = (topic.clone(), broker.clone());
                self.read_queues.insert(key, (*read_queue_nums, *readable));
            }
            Event::TopicUpdated {
                broker,
                topic,
                read_queue_nums,
                perm,
                ..
            } => {
                let key = (topic.clone(), broker.clone());
                self.updates.insert(key, (at, *read_queue_nums, *perm));
            }
            _ => {}
        }
    }

    /// Why no consumer could read `queue_id` of `topic` on `broker` at the end, if none could:
    /// the routes gave the group fewer read queues, or no read permission.
    pub fn unreadable(&self, topic: &str, broker: &str, queue_id: u32) -> Option<String> {
        let key = (topic.to_string(), broker.to_string());
        let (read_queues, readable) = *self.read_queues.get(&key)?;
        let why = if !readable {
            format!("{broker} lets no consumer read {topic} (no read permission)")
        } else if queue_id >= read_queues {
            let last = read_queues.saturating_sub(1);
            format!("{broker} lets consumers read only queues 0 to {last} of {topic}")
        } else {
            return None;
        };
        let since = self.updates.get(&key).map(|(at, read, perm)| {
            format!(" (update-topic applied at {at}: {read} read queues, perm {perm})")
        });
        Some(format!("{why}{}", since.unwrap_or_default()))
    }
}

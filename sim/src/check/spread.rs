//! How evenly producers' acknowledged messages spread over their topic's queues, per topic:
//! the queue-balance figure of the selectors (round-robin, random, hash of a sharding key).
//! Counted from the answers producers received (`SendOk`: broker and queue), over every
//! queue of the topic's route, so a queue no message reached counts as 0. Shown when some
//! producer of the scenario picks its queues with a selector.

use super::index::Index;
use crate::scenario::schema::SelectorName;
use serde::Serialize;
use std::collections::BTreeMap;

/// One topic's spread.
#[derive(Clone, Debug, Serialize)]
pub struct QueueSpread {
    pub topic: String,
    pub queues: u64,
    /// Acknowledged messages on the emptiest and the fullest queue.
    pub min: u64,
    pub max: u64,
}

pub(super) fn judge(index: &Index<'_>) -> Vec<QueueSpread> {
    let scenario = index.scenario;
    let selecting = scenario
        .producers
        .iter()
        .any(|p| p.selector != SelectorName::RoundRobin);
    if !selecting {
        return Vec::new();
    }
    let mut per_queue: BTreeMap<(&str, &str, u32), u64> = BTreeMap::new();
    for (_, record) in index.sends.messages() {
        let Some(ack) = record.ok.as_ref() else {
            continue;
        };
        *per_queue
            .entry((&record.topic, &ack.broker, ack.queue_id))
            .or_default() += 1;
    }
    let produced = scenario.producers.iter().map(|p| p.topic.as_str());
    let mut topics: Vec<&str> = produced.collect();
    topics.sort_unstable();
    topics.dedup();
    topics
        .into_iter()
        .filter_map(|name| {
            let topic = scenario.topics.iter().find(|t| t.name == name)?;
            let mut counts = Vec::new();
            for group in &topic.groups {
                let broker = scenario.broker_groups[*group].name.as_str();
                for queue in 0..topic.queues {
                    counts.push(per_queue.get(&(name, broker, queue)).copied().unwrap_or(0));
                }
            }
            Some(QueueSpread {
                topic: name.to_string(),
                queues: counts.len() as u64,
                min: counts.iter().copied().min()?,
                max: counts.iter().copied().max()?,
            })
        })
        .collect()
}

//! How evenly producers' acknowledged messages spread over their topic's queues, per topic:
//! the queue-balance figure of the selectors (round-robin, random, hash of a sharding key).
//! Counted from the answers producers received (`SendOk`: broker and queue), over every
//! queue of the topic's route, so a queue no message reached counts as 0; for a topic whose
//! producers hash sharding keys, also the fewest and most distinct keys per queue. Shown when
//! some producer of the scenario picks its queues with a selector, or some topic's queue
//! numbers differ or change (`update-topic`): queues read but never written show as 0.

use super::index::Index;
use crate::scenario::resolved::FaultSpec;
use crate::scenario::schema::SelectorName;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One topic's spread.
#[derive(Clone, Debug, Serialize)]
pub struct QueueSpread {
    pub topic: String,
    pub queues: u64,
    /// Acknowledged messages on the emptiest and the fullest queue.
    pub min: u64,
    pub max: u64,
    /// For a topic whose producers hash sharding keys: the fewest and most distinct keys a
    /// queue got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<(u64, u64)>,
}

/// A queue of a topic: (topic, broker, queue id).
type QueueKey<'a> = (&'a str, &'a str, u32);

pub(super) fn judge(index: &Index<'_>) -> Vec<QueueSpread> {
    let scenario = index.scenario;
    let selecting = scenario
        .producers
        .iter()
        .any(|p| p.selector != SelectorName::RoundRobin);
    let uneven = scenario
        .topics
        .iter()
        .any(|t| t.read_queues != t.write_queues);
    let updated = (scenario.faults.iter()).any(|f| matches!(f.spec, FaultSpec::UpdateTopic(_)));
    let numbered = uneven || updated;
    if !selecting && !numbered {
        return Vec::new();
    }
    let mut messages: BTreeMap<QueueKey<'_>, u64> = BTreeMap::new();
    let mut keys: BTreeMap<QueueKey<'_>, BTreeSet<&str>> = BTreeMap::new();
    for (_, record) in index.sends.messages() {
        let Some(ack) = record.ok.as_ref() else {
            continue;
        };
        let queue = (&*record.topic, &*ack.broker, ack.queue_id);
        *messages.entry(queue).or_default() += 1;
        if let Some(key) = &record.key {
            keys.entry(queue).or_default().insert(key);
        }
    }
    let mut topics: Vec<&str> = scenario
        .producers
        .iter()
        .map(|p| p.topic.as_str())
        .collect();
    topics.sort_unstable();
    topics.dedup();
    let spread = |name: &str| {
        let topic = scenario.topics.iter().find(|t| t.name == name)?;
        let (mut counts, mut key_counts) = (Vec::new(), Vec::new());
        for group in &topic.groups {
            let broker = scenario.broker_groups[*group].name.as_str();
            for queue in 0..topic.queues {
                let at = (name, broker, queue);
                counts.push(messages.get(&at).copied().unwrap_or(0));
                key_counts.push(keys.get(&at).map_or(0, |k| k.len() as u64));
            }
        }
        let (min, max) = range(&counts)?;
        Some(QueueSpread {
            topic: name.to_string(),
            queues: counts.len() as u64,
            min,
            max,
            keys: range(&key_counts).filter(|_| hashed(index, name)),
        })
    };
    topics.into_iter().filter_map(spread).collect()
}

/// The smallest and the largest value.
fn range(values: &[u64]) -> Option<(u64, u64)> {
    Some((*values.iter().min()?, *values.iter().max()?))
}

/// Whether every producer of the topic hashes sharding keys.
fn hashed(index: &Index<'_>, topic: &str) -> bool {
    let mut producers = index.scenario.producers.iter().filter(|p| p.topic == topic);
    producers.all(|p| p.selector == SelectorName::HashKey)
}

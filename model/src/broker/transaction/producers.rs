//! Which producers a broker knows per group (`ProducerManager`): learned from heartbeats,
//! forgotten when the connection closes or after 120 s of silence. Only the transaction check
//! uses it, to pick the producer it asks (`getAvailableChannel`, round-robin).

use crate::ids::NodeId;
use crate::time::Time;
use std::collections::BTreeMap;

/// A producer connection silent this long is dropped (`CHANNEL_EXPIRED_TIMEOUT`).
const CHANNEL_EXPIRED_MS: u64 = 120_000;

#[derive(Clone, Debug, Default)]
pub struct Producers {
    /// group -> connection -> last heartbeat.
    groups: BTreeMap<String, BTreeMap<NodeId, Time>>,
    /// `positiveAtomicCounter`: shared by every group.
    counter: u64,
}

impl Producers {
    pub fn heartbeat(&mut self, now: Time, from: NodeId, groups: &[String]) {
        for group in groups {
            let previous = self
                .groups
                .entry(group.clone())
                .or_default()
                .insert(from, now);
            crate::invariant!(
                previous.is_none_or(|last| last <= now),
                "txn-producer-heartbeat-time-forward",
                "{from:?} of {group} heard at {now:?} after {previous:?}"
            );
        }
    }

    pub fn remove_channel(&mut self, channel: NodeId) {
        for channels in self.groups.values_mut() {
            channels.remove(&channel);
        }
        self.groups.retain(|_, channels| !channels.is_empty());
    }

    /// `scanNotActiveChannel`: drops connections silent too long; returns them.
    pub fn expire(&mut self, now: Time) -> Vec<NodeId> {
        let mut expired = Vec::new();
        for channels in self.groups.values_mut() {
            channels.retain(|node, last| {
                let alive = last.plus_ms(CHANNEL_EXPIRED_MS) >= now;
                if !alive {
                    expired.push(*node);
                }
                alive
            });
        }
        self.groups.retain(|_, channels| !channels.is_empty());
        expired
    }

    /// `getAvailableChannel`: the next of the group's connections, round-robin.
    pub fn available_channel(&mut self, group: &str) -> Option<NodeId> {
        let channels = self.groups.get(group)?;
        crate::invariant!(
            !channels.is_empty(),
            "txn-producer-group-has-channels",
            "{group} is known with no connection"
        );
        self.counter += 1;
        let index = (self.counter % channels.len() as u64) as usize;
        channels.keys().nth(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_rotate_and_expire() {
        let mut producers = Producers::default();
        let group = vec!["g".to_string()];
        producers.heartbeat(Time::ZERO, NodeId(1), &group);
        producers.heartbeat(Time::from_ms(60_000), NodeId(2), &group);
        let first = producers.available_channel("g");
        let second = producers.available_channel("g");
        assert_ne!(first, second);
        assert_eq!(producers.expire(Time::from_ms(121_000)), vec![NodeId(1)]);
        assert_eq!(producers.available_channel("g"), Some(NodeId(2)));
        producers.remove_channel(NodeId(2));
        assert_eq!(producers.available_channel("g"), None);
    }
}

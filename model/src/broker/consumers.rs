//! Which consumers a broker knows per group (`ConsumerManager`, `ClientHousekeepingService`):
//! learned from heartbeats, forgotten when the connection closes or after 120 s of silence.
//! Every change is announced to the group's remaining consumers
//! (`NOTIFY_CONSUMER_IDS_CHANGED`), which rebalance at once.

use crate::ids::NodeId;
use crate::protocol::HeartBeat;
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};

/// A consumer connection silent this long is dropped (`CHANNEL_EXPIRED_TIMEOUT`).
pub const CHANNEL_EXPIRED_MS: u64 = 120_000;

#[derive(Clone, Debug)]
struct Channel {
    client_id: String,
    last_update: Time,
}

#[derive(Clone, Debug, Default)]
pub struct Consumers {
    /// group -> connection -> client.
    groups: BTreeMap<String, BTreeMap<NodeId, Channel>>,
}

impl Consumers {
    /// Records a heartbeat. Returns the groups whose membership changed.
    pub fn heartbeat(&mut self, now: Time, from: NodeId, heartbeat: &HeartBeat) -> Vec<String> {
        let mut changed = Vec::new();
        for consumer in &heartbeat.consumers {
            let channels = self.groups.entry(consumer.group.clone()).or_default();
            let channel = Channel {
                client_id: heartbeat.client_id.clone(),
                last_update: now,
            };
            let previous = channels.insert(from, channel);
            if previous.is_none_or(|p| p.client_id != heartbeat.client_id) {
                changed.push(consumer.group.clone());
            }
        }
        changed
    }

    /// A connection closed (or expired). Returns the groups it was in.
    pub fn remove_channel(&mut self, channel: NodeId) -> Vec<String> {
        let mut changed = Vec::new();
        for (group, channels) in self.groups.iter_mut() {
            if channels.remove(&channel).is_some() {
                changed.push(group.clone());
            }
        }
        self.groups.retain(|_, channels| !channels.is_empty());
        changed
    }

    /// Connections silent for too long (`scanNotActiveChannel`).
    pub fn expired(&self, now: Time) -> Vec<NodeId> {
        let mut expired = BTreeSet::new();
        for channels in self.groups.values() {
            for (node, channel) in channels {
                if channel.last_update.plus_ms(CHANNEL_EXPIRED_MS) < now {
                    expired.insert(*node);
                }
            }
        }
        expired.into_iter().collect()
    }

    /// The group's consumer ids, sorted (`getAllClientId`).
    pub fn client_ids(&self, group: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .groups
            .get(group)
            .map(|channels| channels.values().map(|c| c.client_id.clone()).collect())
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The group's connections, to notify.
    pub fn channels(&self, group: &str) -> Vec<NodeId> {
        self.groups
            .get(group)
            .map(|channels| channels.keys().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ConsumerData;

    fn heartbeat(client: &str) -> HeartBeat {
        HeartBeat {
            client_id: client.into(),
            producer_groups: vec![],
            consumers: vec![ConsumerData {
                group: "g".into(),
                broadcasting: false,
                topics: vec!["t".into()],
            }],
        }
    }

    #[test]
    fn membership_changes_are_reported_once() {
        let mut consumers = Consumers::default();
        assert_eq!(
            consumers.heartbeat(Time::ZERO, NodeId(1), &heartbeat("c1")),
            vec!["g"]
        );
        assert!(
            consumers
                .heartbeat(Time::from_ms(30_000), NodeId(1), &heartbeat("c1"))
                .is_empty()
        );
        consumers.heartbeat(Time::ZERO, NodeId(2), &heartbeat("c2"));
        assert_eq!(consumers.client_ids("g"), vec!["c1", "c2"]);
        assert_eq!(consumers.remove_channel(NodeId(1)), vec!["g"]);
        assert_eq!(consumers.client_ids("g"), vec!["c2"]);
        assert!(consumers.expired(Time::from_ms(120_000)).is_empty());
        assert_eq!(consumers.expired(Time::from_ms(120_001)), vec![NodeId(2)]);
    }
}

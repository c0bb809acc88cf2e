//! Which consumers a broker knows per group (`ConsumerManager`, `ClientHousekeepingService`):
//! learned from heartbeats, forgotten when the connection closes or after 120 s of silence.
//! Every change is announced to the group's remaining consumers
//! (`NOTIFY_CONSUMER_IDS_CHANGED`), which rebalance at once.
//!
//! A group also has one subscription per topic (`ConsumerGroupInfo.updateSubscription`): the
//! newest `subVersion` any instance's heartbeat carried. Instances that subscribe differently
//! are all filtered by that one at the broker.

use crate::filter::SubscriptionData;
use crate::ids::NodeId;
use crate::protocol::{ConsumerData, HeartBeat};
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};

/// A consumer connection silent this long is dropped (`CHANNEL_EXPIRED_TIMEOUT`).
pub const CHANNEL_EXPIRED_MS: u64 = 120_000;

#[derive(Clone, Debug)]
struct Channel {
    client_id: String,
    last_update: Time,
}

/// `ConsumerGroupInfo`.
#[derive(Clone, Debug, Default)]
struct GroupInfo {
    /// connection -> client.
    channels: BTreeMap<NodeId, Channel>,
    /// topic -> subscription.
    subscriptions: BTreeMap<String, SubscriptionData>,
}

impl GroupInfo {
    /// `updateSubscription`: a new topic is taken, a known one only from a newer
    /// `subVersion`, and a topic the heartbeat no longer names is dropped. Returns whether
    /// the set of topics changed.
    fn update_subscriptions(&mut self, consumer: &ConsumerData) -> bool {
        let mut updated = false;
        for sub in &consumer.subscriptions {
            match self.subscriptions.get_mut(&sub.topic) {
                None => {
                    self.subscriptions.insert(sub.topic.clone(), sub.clone());
                    updated = true;
                }
                Some(old) if sub.sub_version > old.sub_version => *old = sub.clone(),
                Some(_) => {}
            }
            let kept = &self.subscriptions[&sub.topic];
            crate::invariant!(
                kept.topic == sub.topic && kept.sub_version >= sub.sub_version,
                "consumers-subscription-newest-version-kept",
                "{} at version {} kept {} at version {}",
                sub.topic,
                sub.sub_version,
                kept.topic,
                kept.sub_version
            );
        }
        let before = self.subscriptions.len();
        let named = |topic: &String| consumer.subscriptions.iter().any(|s| s.topic == *topic);
        self.subscriptions.retain(|topic, _| named(topic));
        crate::invariant!(
            self.subscriptions.len() <= consumer.subscriptions.len(),
            "consumers-subscriptions-only-named-topics",
            "{} topics kept from a heartbeat naming {}",
            self.subscriptions.len(),
            consumer.subscriptions.len()
        );
        updated || self.subscriptions.len() != before
    }
}

#[derive(Clone, Debug, Default)]
pub struct Consumers {
    groups: BTreeMap<String, GroupInfo>,
}

impl Consumers {
    /// Records a heartbeat. Returns the groups whose membership or topics changed.
    pub fn heartbeat(&mut self, now: Time, from: NodeId, heartbeat: &HeartBeat) -> Vec<String> {
        let mut changed = Vec::new();
        for consumer in &heartbeat.consumers {
            let info = self.groups.entry(consumer.group.clone()).or_default();
            let channel = Channel {
                client_id: heartbeat.client_id.clone(),
                last_update: now,
            };
            let previous = info.channels.insert(from, channel);
            crate::invariant!(
                previous.as_ref().is_none_or(|p| p.last_update <= now),
                "consumers-heartbeat-time-forward",
                "{from:?} heard at {now:?} after {:?}",
                previous.as_ref().map(|p| p.last_update)
            );
            let joined = previous.is_none_or(|p| p.client_id != heartbeat.client_id);
            if info.update_subscriptions(consumer) || joined {
                changed.push(consumer.group.clone());
            }
        }
        changed
    }

    /// The group's subscription to a topic, if a heartbeat brought one
    /// (`findSubscriptionData`); `None` for a group the broker does not know.
    pub fn subscription(&self, group: &str, topic: &str) -> Option<Option<&SubscriptionData>> {
        let info = self.group(group)?;
        let found = info.subscriptions.get(topic);
        crate::invariant!(
            found.is_none_or(|sub| sub.topic == topic),
            "consumers-subscription-under-its-topic",
            "{group} filters {topic} by a subscription to {:?}",
            found.map(|sub| &sub.topic)
        );
        Some(found)
    }

    /// A known group: one with a connection (the last one to go takes the group with it).
    fn group(&self, group: &str) -> Option<&GroupInfo> {
        let info = self.groups.get(group)?;
        crate::invariant!(
            !info.channels.is_empty(),
            "consumers-known-group-has-a-channel",
            "{group} is known with no connection"
        );
        Some(info)
    }

    /// Whether `channel` is one of the group's connections.
    pub fn has_channel(&self, group: &str, channel: NodeId) -> bool {
        self.group(group)
            .is_some_and(|info| info.channels.contains_key(&channel))
    }

    /// A connection closed (or expired). Returns the groups it was in.
    pub fn remove_channel(&mut self, channel: NodeId) -> Vec<String> {
        let mut changed = Vec::new();
        for (group, info) in self.groups.iter_mut() {
            if info.channels.remove(&channel).is_some() {
                changed.push(group.clone());
            }
        }
        self.groups.retain(|_, info| !info.channels.is_empty());
        changed
    }

    /// Connections silent for too long (`scanNotActiveChannel`).
    pub fn expired(&self, now: Time) -> Vec<NodeId> {
        let mut expired = BTreeSet::new();
        for info in self.groups.values() {
            for (node, channel) in &info.channels {
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
            .group(group)
            .map(|info| {
                info.channels
                    .values()
                    .map(|c| c.client_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The connection of the group's consumer `client_id` (`findChannel`).
    pub fn channel_of(&self, group: &str, client_id: &str) -> Option<NodeId> {
        let info = self.group(group)?;
        let mut channels = info.channels.iter();
        channels
            .find(|(_, channel)| channel.client_id == client_id)
            .map(|(node, _)| *node)
    }

    /// The group's connections, to notify.
    pub fn channels(&self, group: &str) -> Vec<NodeId> {
        self.group(group)
            .map(|info| info.channels.keys().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribed(client: &str, expression: &str, sub_version: u64) -> HeartBeat {
        HeartBeat {
            client_id: client.into(),
            producer_groups: vec![],
            consumers: vec![ConsumerData {
                group: "g".into(),
                broadcasting: false,
                subscriptions: vec![SubscriptionData::build("t", expression, sub_version)],
            }],
        }
    }

    fn heartbeat(client: &str) -> HeartBeat {
        subscribed(client, "*", 0)
    }

    #[test]
    fn the_newest_subscription_wins() {
        let mut consumers = Consumers::default();
        assert_eq!(consumers.subscription("g", "t"), None);
        consumers.heartbeat(Time::ZERO, NodeId(1), &subscribed("c1", "TagA", 5));
        consumers.heartbeat(Time::ZERO, NodeId(2), &subscribed("c2", "TagB", 9));
        consumers.heartbeat(Time::ZERO, NodeId(1), &subscribed("c1", "TagA", 5));
        let sub = consumers.subscription("g", "t").flatten().unwrap();
        assert_eq!(sub.sub_string, "TagB");
        assert_eq!(consumers.subscription("g", "other"), Some(None));
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

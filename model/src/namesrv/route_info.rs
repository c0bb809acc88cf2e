//! The name server's tables (`RouteInfoManager`): which broker groups exist, their addresses,
//! which topics they host, and when each broker address last registered.

use crate::event::RemovalReason;
use crate::ids::NodeId;
use crate::protocol::route::{BrokerData, MASTER_ID, QueueData, TopicConfig, TopicRouteData};
use crate::protocol::{RegisterBroker, RegisterResult};
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};

/// A broker address silent this long is removed by the scan (`BROKER_CHANNEL_EXPIRED_TIME`).
pub const BROKER_CHANNEL_EXPIRED_MS: u64 = 120_000;

/// A broker address the tables dropped, as reported to the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedBroker {
    pub broker_name: String,
    pub broker_id: u64,
    pub addr: NodeId,
    pub reason: RemovalReason,
    pub last_update: Time,
}

#[derive(Clone, Debug)]
struct BrokerLiveInfo {
    last_update: Time,
    ha_addr: NodeId,
}

#[derive(Clone, Debug, Default)]
pub struct RouteInfo {
    /// topic -> broker name -> queue data.
    topic_queue_table: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// broker name -> addresses by broker id.
    broker_addr_table: BTreeMap<String, BrokerData>,
    /// cluster -> broker names.
    cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
    /// broker address -> liveness.
    broker_live_table: BTreeMap<NodeId, BrokerLiveInfo>,
}

impl RouteInfo {
    /// Records a registration. Returns the answer and whether this address is new.
    pub fn register(
        &mut self,
        now: Time,
        addr: NodeId,
        register: &RegisterBroker,
    ) -> (RegisterResult, bool) {
        self.cluster_addr_table
            .entry(register.cluster.clone())
            .or_default()
            .insert(register.broker_name.clone());

        let broker_data = self
            .broker_addr_table
            .entry(register.broker_name.clone())
            .or_insert_with(|| BrokerData {
                cluster: register.cluster.clone(),
                broker_name: register.broker_name.clone(),
                broker_addrs: BTreeMap::new(),
            });
        // The same address must appear under one id only (a slave switched to master).
        broker_data
            .broker_addrs
            .retain(|id, existing| *existing != addr || *id == register.broker_id);
        let old_addr = broker_data.broker_addrs.insert(register.broker_id, addr);
        let first = old_addr.is_none();

        if register.broker_id == MASTER_ID {
            for topic in &register.topics {
                self.create_and_update_queue_data(&register.broker_name, topic);
            }
        }

        let previous = self.broker_live_table.insert(
            addr,
            BrokerLiveInfo {
                last_update: now,
                ha_addr: register.ha_addr,
            },
        );
        crate::invariant!(
            previous.as_ref().is_none_or(|p| p.last_update <= now),
            "namesrv-registration-time-monotonic",
            "{addr:?} registered at {now:?}, after a registration at {:?}",
            previous.map(|p| p.last_update)
        );
        self.check_group(&register.broker_name);

        let mut result = RegisterResult::default();
        if register.broker_id != MASTER_ID {
            let master = self
                .broker_addr_table
                .get(&register.broker_name)
                .and_then(BrokerData::master);
            if let Some(master) = master
                && let Some(live) = self.broker_live_table.get(&master)
            {
                result.master_addr = Some(master);
                result.ha_addr = Some(live.ha_addr);
            }
        }
        (result, first)
    }

    fn create_and_update_queue_data(&mut self, broker_name: &str, topic: &TopicConfig) {
        let queue_data = QueueData {
            broker_name: broker_name.to_string(),
            read_queue_nums: topic.read_queue_nums,
            write_queue_nums: topic.write_queue_nums,
            perm: topic.perm,
        };
        self.topic_queue_table
            .entry(topic.name.clone())
            .or_default()
            .insert(broker_name.to_string(), queue_data);
    }

    /// A broker group the tables list has an address, each address once and alive.
    fn check_group(&self, broker_name: &str) {
        let Some(data) = self.broker_addr_table.get(broker_name) else {
            return;
        };
        let addrs = &data.broker_addrs;
        crate::invariant!(
            !addrs.is_empty(),
            "namesrv-listed-group-has-an-address",
            "{broker_name} is listed without any address"
        );
        crate::invariant!(
            addrs
                .values()
                .all(|a| addrs.values().filter(|b| *b == a).count() == 1),
            "namesrv-addr-under-one-broker-id",
            "{broker_name} lists an address under two ids: {addrs:?}"
        );
        crate::invariant!(
            addrs
                .values()
                .all(|a| self.broker_live_table.contains_key(a)),
            "namesrv-listed-addr-is-live",
            "{broker_name} lists an address the live table has dropped: {addrs:?}"
        );
    }

    /// The route of a topic (`pickupTopicRouteData`), or `None` if no broker hosts it.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let queue_datas = self.topic_queue_table.get(topic)?;
        let broker_datas: Vec<BrokerData> = queue_datas
            .keys()
            .filter_map(|name| self.broker_addr_table.get(name).cloned())
            .collect();
        crate::invariant!(
            !queue_datas.is_empty(),
            "namesrv-topic-has-queue-data",
            "{topic} is in the topic table without any queue data"
        );
        crate::invariant!(
            broker_datas.len() == queue_datas.len(),
            "namesrv-queue-data-has-broker",
            "{topic}: {} groups hold queues, {} of them are listed",
            queue_datas.len(),
            broker_datas.len()
        );
        if queue_datas.is_empty() || broker_datas.is_empty() {
            return None;
        }
        Some(TopicRouteData {
            queue_datas: queue_datas.values().cloned().collect(),
            broker_datas,
        })
    }

    /// Removes every broker address silent for longer than the expiry (`scanNotActiveBroker`).
    pub fn scan_not_active(&mut self, now: Time) -> Vec<RemovedBroker> {
        let expired: Vec<NodeId> = self
            .broker_live_table
            .iter()
            .filter(|(_, live)| live.last_update.plus_ms(BROKER_CHANNEL_EXPIRED_MS) < now)
            .map(|(addr, _)| *addr)
            .collect();
        let removed = expired
            .into_iter()
            .filter_map(|addr| {
                crate::probe!(BROKER_EXPIRED);
                self.remove_addr(addr, RemovalReason::Expired)
            })
            .collect();
        crate::invariant!(
            self.broker_live_table
                .values()
                .all(|live| live.last_update.plus_ms(BROKER_CHANNEL_EXPIRED_MS) >= now),
            "namesrv-scan-leaves-no-expired",
            "a broker silent for over {BROKER_CHANNEL_EXPIRED_MS} ms is still live at {now:?}"
        );
        removed
    }

    /// The connection from `addr` closed (`onChannelDestroy`): drop it at once.
    pub fn on_channel_destroy(&mut self, addr: NodeId) -> Option<RemovedBroker> {
        self.remove_addr(addr, RemovalReason::ChannelClosed)
    }

    fn remove_addr(&mut self, addr: NodeId, reason: RemovalReason) -> Option<RemovedBroker> {
        let live = self.broker_live_table.remove(&addr)?;
        let (broker_name, broker_id) = self.broker_addr_table.values_mut().find_map(|data| {
            let id = data
                .broker_addrs
                .iter()
                .find(|(_, a)| **a == addr)
                .map(|(id, _)| *id)?;
            data.broker_addrs.remove(&id);
            Some((data.broker_name.clone(), id))
        })?;
        let group_gone = self
            .broker_addr_table
            .get(&broker_name)
            .is_some_and(|data| data.broker_addrs.is_empty());
        if group_gone {
            self.broker_addr_table.remove(&broker_name);
            for names in self.cluster_addr_table.values_mut() {
                names.remove(&broker_name);
            }
            self.cluster_addr_table.retain(|_, names| !names.is_empty());
            for queues in self.topic_queue_table.values_mut() {
                queues.remove(&broker_name);
            }
            self.topic_queue_table
                .retain(|_, queues| !queues.is_empty());
        }
        crate::invariant!(
            self.broker_addr_table
                .values()
                .all(|data| data.broker_addrs.values().all(|a| *a != addr)),
            "namesrv-removed-addr-unlisted",
            "{addr:?} removed from {broker_name} (id {broker_id}) but still listed"
        );
        crate::invariant!(
            !group_gone
                || self
                    .topic_queue_table
                    .values()
                    .all(|q| !q.contains_key(&broker_name)),
            "namesrv-gone-group-hosts-no-topic",
            "{broker_name} has no address left but still holds queues"
        );
        self.check_group(&broker_name);
        Some(RemovedBroker {
            broker_name,
            broker_id,
            addr,
            reason,
            last_update: live.last_update,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::route::perm;

    fn register(name: &str, id: u64, topics: &[&str]) -> RegisterBroker {
        RegisterBroker {
            cluster: "c".into(),
            broker_name: name.into(),
            broker_id: id,
            ha_addr: NodeId(90),
            topics: topics
                .iter()
                .map(|t| TopicConfig {
                    name: t.to_string(),
                    read_queue_nums: 4,
                    write_queue_nums: 4,
                    perm: perm::READ_WRITE,
                })
                .collect(),
        }
    }

    #[test]
    fn route_lists_every_registered_broker_of_a_topic() {
        let mut info = RouteInfo::default();
        let (_, first) = info.register(Time::ZERO, NodeId(1), &register("broker-a", 0, &["t"]));
        assert!(first);
        let (_, again) = info.register(Time::ZERO, NodeId(1), &register("broker-a", 0, &["t"]));
        assert!(!again);
        info.register(Time::ZERO, NodeId(2), &register("broker-b", 0, &["t"]));
        let route = info.route("t").unwrap();
        assert_eq!(route.queue_datas.len(), 2);
        assert_eq!(route.broker_datas.len(), 2);
        assert!(info.route("missing").is_none());
    }

    #[test]
    fn expiry_needs_more_than_120_seconds_of_silence() {
        let mut info = RouteInfo::default();
        info.register(
            Time::from_ms(1_000),
            NodeId(1),
            &register("broker-a", 0, &["t"]),
        );
        assert!(info.scan_not_active(Time::from_ms(121_000)).is_empty());
        let removed = info.scan_not_active(Time::from_ms(121_001));
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].reason, RemovalReason::Expired);
        assert_eq!(removed[0].last_update, Time::from_ms(1_000));
        assert!(info.route("t").is_none());
    }

    #[test]
    fn a_listed_address_missing_from_the_live_table_violates_an_invariant() {
        let (name, detail) = crate::invariant::fired(|| {
            let mut info = RouteInfo::default();
            info.register(Time::ZERO, NodeId(1), &register("broker-a", 0, &["t"]));
            // The live table loses the master behind the address table's back.
            info.broker_live_table.remove(&NodeId(1));
            info.register(Time::ZERO, NodeId(2), &register("broker-a", 1, &["t"]));
        });
        assert_eq!(name, "namesrv-listed-addr-is-live");
        assert!(detail.starts_with("broker-a "), "{detail}");
    }

    #[test]
    fn a_slave_keeps_the_group_routable_without_its_master() {
        let mut info = RouteInfo::default();
        info.register(Time::ZERO, NodeId(1), &register("broker-a", 0, &["t"]));
        let (result, _) = info.register(Time::ZERO, NodeId(2), &register("broker-a", 1, &["t"]));
        assert_eq!(result.master_addr, Some(NodeId(1)));
        assert_eq!(result.ha_addr, Some(NodeId(90)));

        let removed = info.on_channel_destroy(NodeId(1)).unwrap();
        assert_eq!(
            (removed.broker_id, removed.reason),
            (0, RemovalReason::ChannelClosed)
        );
        let route = info.route("t").unwrap();
        assert_eq!(route.broker_datas[0].master(), None);
        assert_eq!(route.broker_datas[0].broker_addrs.len(), 1);
        assert!(info.on_channel_destroy(NodeId(1)).is_none());
    }
}

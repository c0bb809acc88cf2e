//! Route figures: how fast name servers drop a broker, and clients' routes follow.
//!
//! - `removal_after_kill`: from a broker process's kill to a name server dropping it because
//!   its connection closed.
//! - `removal_after_silence`: from a broker's last registration reaching a name server to that
//!   name server dropping it for silence (RocketMQ: more than 120 s, checked every 10 s).
//! - `route_catch_up`: from the name server that answered a client dropping a broker to the
//!   client's cached route dropping it (one refresh interval, 30 s, at most).

use crate::history::{History, SimEvent, Stop};
use model::event::{Event, RemovalReason};
use model::{NodeId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize)]
pub struct RouteFigures {
    pub removal_after_kill_ms: Vec<u64>,
    pub removal_after_silence_ms: Vec<u64>,
    pub route_catch_up_ms: Vec<u64>,
}

pub fn analyse(history: &History) -> RouteFigures {
    let mut figures = RouteFigures::default();
    // The last kill of each node, and each name server's latest removal of (broker, id).
    let mut killed_at: BTreeMap<NodeId, Time> = BTreeMap::new();
    let mut removed_at: BTreeMap<(NodeId, String, u64), Time> = BTreeMap::new();
    // Each client's current route per topic: (broker, id) pairs.
    let mut routes: BTreeMap<(NodeId, String), Vec<(String, u64)>> = BTreeMap::new();
    for entry in history.entries() {
        if let Some(SimEvent::Stopped { how: Stop::Kill }) = entry.sim()
            && let Some(node) = entry.node
        {
            killed_at.insert(node, entry.at);
        }
        let (Some(event), Some(node)) = (entry.model(), entry.node) else {
            continue;
        };
        match event {
            Event::BrokerRemoved {
                broker,
                broker_id,
                addr,
                reason,
                last_update,
            } => {
                removed_at.insert((node, broker.clone(), *broker_id), entry.at);
                match reason {
                    RemovalReason::ChannelClosed => {
                        if let Some(kill) = killed_at.get(addr) {
                            figures.removal_after_kill_ms.push(entry.at.ms_since(*kill));
                        }
                    }
                    RemovalReason::Expired => {
                        figures
                            .removal_after_silence_ms
                            .push(entry.at.ms_since(*last_update));
                    }
                }
            }
            Event::BrokerRegistered {
                broker, broker_id, ..
            } => {
                removed_at.remove(&(node, broker.clone(), *broker_id));
            }
            Event::RouteChanged {
                topic,
                name_server,
                brokers,
            } => {
                let now: Vec<(String, u64)> = brokers
                    .iter()
                    .flat_map(|b| b.ids.iter().map(|id| (b.name.clone(), *id)))
                    .collect();
                let before = routes
                    .insert((node, topic.clone()), now.clone())
                    .unwrap_or_default();
                for gone in before.iter().filter(|pair| !now.contains(pair)) {
                    if let Some(removed) = removed_at.get(&(*name_server, gone.0.clone(), gone.1)) {
                        figures.route_catch_up_ms.push(entry.at.ms_since(*removed));
                    }
                }
            }
            _ => {}
        }
    }
    figures
}

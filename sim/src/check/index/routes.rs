//! How fast name servers dropped brokers and clients' routes followed, measured as the history
//! goes: kills (the harness), removals and registrations (the name servers), route changes
//! (the clients).

use crate::history::{SimEvent, Stop};
use model::event::{Event, RemovalReason};
use model::{NodeId, Time};
use std::collections::BTreeMap;

#[derive(Default)]
pub(in crate::check) struct RouteFacts {
    pub removal_after_kill_ms: Vec<u64>,
    pub removal_after_silence_ms: Vec<u64>,
    pub route_catch_up_ms: Vec<u64>,
    /// The last kill of each node.
    killed_at: BTreeMap<NodeId, Time>,
    /// Each name server's latest removal of (broker, id).
    removed_at: BTreeMap<(NodeId, String, u64), Time>,
    /// Each client's current route per topic: (broker, id) pairs.
    routes: BTreeMap<(NodeId, String), Vec<(String, u64)>>,
}

impl RouteFacts {
    pub fn observe_sim(&mut self, at: Time, node: NodeId, event: &SimEvent) {
        if let SimEvent::Stopped { how: Stop::Kill } = event {
            self.killed_at.insert(node, at);
        }
    }

    pub fn observe(&mut self, at: Time, node: NodeId, event: &Event) {
        match event {
            Event::BrokerRemoved {
                broker,
                broker_id,
                addr,
                reason,
                last_update,
            } => {
                self.removed_at
                    .insert((node, broker.clone(), *broker_id), at);
                match reason {
                    RemovalReason::ChannelClosed => {
                        if let Some(kill) = self.killed_at.get(addr) {
                            self.removal_after_kill_ms.push(at.ms_since(*kill));
                        }
                    }
                    RemovalReason::Expired => {
                        self.removal_after_silence_ms
                            .push(at.ms_since(*last_update));
                    }
                }
            }
            Event::BrokerRegistered {
                broker, broker_id, ..
            } => {
                self.removed_at.remove(&(node, broker.clone(), *broker_id));
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
                let before = self.routes.insert((node, topic.clone()), now.clone());
                for gone in before
                    .unwrap_or_default()
                    .iter()
                    .filter(|p| !now.contains(p))
                {
                    if let Some(removed) =
                        self.removed_at.get(&(*name_server, gone.0.clone(), gone.1))
                    {
                        self.route_catch_up_ms.push(at.ms_since(*removed));
                    }
                }
            }
            _ => {}
        }
    }
}

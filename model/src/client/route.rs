//! The client's route cache and name server choice (the route half of `MQClientInstance` and
//! `NettyRemotingClient`'s name server channel).
//!
//! A client talks to one name server, chosen round-robin from a random start, and keeps it
//! until a call to it fails (a timeout closes the socket in 4.9.x); a call whose connection is
//! refused tries the next name server at once, each at most once. Every 30 s it asks for the
//! route of each topic it uses and replaces its cached route whole when the answer differs;
//! an answer of "no such topic" keeps the old route.

use crate::event::{Event, RouteBroker};
use crate::ids::NodeId;
use crate::node::Context;
use crate::protocol::TopicRouteData;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct RouteCache {
    name_servers: Vec<NodeId>,
    /// The name server in use, if its channel is believed healthy.
    chosen: Option<NodeId>,
    /// Round-robin cursor (`namesrvIndex`), seeded randomly on first use.
    cursor: Option<u64>,
    routes: BTreeMap<String, TopicRouteData>,
}

impl RouteCache {
    pub fn new(name_servers: Vec<NodeId>) -> RouteCache {
        RouteCache {
            name_servers,
            ..RouteCache::default()
        }
    }

    /// The name server to ask next (`getAndCreateNameserverChannel`).
    pub fn name_server(&mut self, ctx: &mut Context<'_>) -> Option<NodeId> {
        if self.name_servers.is_empty() {
            return None;
        }
        if let Some(chosen) = self.chosen {
            return Some(chosen);
        }
        let cursor = match self.cursor {
            Some(cursor) => cursor + 1,
            None => ctx.random_below(999),
        };
        self.cursor = Some(cursor);
        let chosen = self.name_servers[(cursor % self.name_servers.len() as u64) as usize];
        self.chosen = Some(chosen);
        Some(chosen)
    }

    pub fn name_server_count(&self) -> usize {
        self.name_servers.len()
    }

    /// A call to `name_server` failed: its channel is closed and the next call moves on.
    pub fn name_server_failed(&mut self, ctx: &mut Context<'_>, name_server: NodeId) {
        if self.chosen == Some(name_server) {
            self.chosen = None;
        }
        ctx.close_connection(name_server);
    }

    pub fn route(&self, topic: &str) -> Option<&TopicRouteData> {
        self.routes.get(topic)
    }

    /// Stores an answer; returns whether the route changed (and reports the change).
    pub fn update(
        &mut self,
        ctx: &mut Context<'_>,
        topic: &str,
        name_server: NodeId,
        route: TopicRouteData,
    ) -> bool {
        if self.routes.get(topic) == Some(&route) {
            return false;
        }
        check_route(topic, &route);
        let brokers = route
            .broker_datas
            .iter()
            .map(|broker| RouteBroker {
                name: broker.broker_name.clone(),
                ids: broker.broker_addrs.keys().copied().collect(),
            })
            .collect();
        ctx.emit(Event::RouteChanged {
            topic: topic.to_string(),
            name_server,
            brokers,
        });
        self.routes.insert(topic.to_string(), route);
        true
    }

    /// Every broker address any cached route mentions, by broker name (`brokerAddrTable`).
    pub fn broker_addrs(&self, broker_name: &str) -> Option<&BTreeMap<u64, NodeId>> {
        self.routes
            .values()
            .find_map(|route| route.broker(broker_name))
            .map(|broker| &broker.broker_addrs)
    }

    /// Every broker address in any cached route, each once, in address order.
    pub fn all_broker_addrs(&self) -> Vec<NodeId> {
        let mut addrs: Vec<NodeId> = self
            .routes
            .values()
            .flat_map(|route| route.broker_datas.iter())
            .flat_map(|broker| broker.broker_addrs.values().copied())
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }

    /// Every master address (broker id 0) in any cached route, each once, in address order.
    pub fn master_addrs(&self) -> Vec<NodeId> {
        let mut addrs: Vec<NodeId> = (self.routes.values())
            .flat_map(|route| route.broker_datas.iter())
            .filter_map(|broker| broker.broker_addrs.get(&0).copied())
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }
}

/// A route as a name server builds it: each broker group once, each queue data of a listed
/// group, each address under one broker id of one group.
fn check_route(topic: &str, route: &TopicRouteData) {
    let mut names: Vec<&str> = route
        .broker_datas
        .iter()
        .map(|b| b.broker_name.as_str())
        .collect();
    names.sort_unstable();
    crate::invariant!(
        names.windows(2).all(|w| w[0] < w[1]),
        "route-broker-names-unique",
        "{topic}: a broker group listed twice in {names:?}"
    );
    crate::invariant!(
        route
            .queue_datas
            .iter()
            .all(|qd| names.binary_search(&qd.broker_name.as_str()).is_ok()),
        "route-queue-data-of-listed-broker",
        "{topic}: queue data of a broker group the route does not list ({names:?})"
    );
    let mut addrs: Vec<NodeId> = route
        .broker_datas
        .iter()
        .flat_map(|b| b.broker_addrs.values().copied())
        .collect();
    let listed = addrs.len();
    addrs.sort_unstable();
    addrs.dedup();
    crate::invariant!(
        addrs.len() == listed,
        "route-broker-addrs-distinct",
        "{topic}: {listed} broker addresses listed, only {} distinct",
        addrs.len()
    );
}

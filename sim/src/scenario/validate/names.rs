//! Node names: how fault fields name nodes (exact names, `prefix*`, a producer group, a
//! DLedger group's `@leader` or `@followers`, a list) and the check that no two nodes share a
//! name.

use crate::fault::aim::Pick;
use crate::scenario::error::did_you_mean;
use crate::scenario::resolved::{BrokerGroup, NodeDecl};
use crate::scenario::schema::Names;
use model::NodeId;

/// Resolves node names: exact names, `prefix*` patterns, producer group names, `*`, or a
/// DLedger group's role when a fault fires (`<group>@leader`: its members, narrowed then).
pub(super) struct NodeNames<'a> {
    pub(super) nodes: &'a [NodeDecl],
    pub(super) broker_groups: &'a [BrokerGroup],
    pub(super) producer_groups: Vec<(String, Vec<NodeId>)>,
}

impl NodeNames<'_> {
    pub(super) fn resolve(&self, name: &str) -> Result<Vec<NodeId>, (String, Option<String>)> {
        if let Some((group, _)) = Pick::parse(name) {
            return self.dledger_members(group);
        }
        let ids: Vec<NodeId> = if let Some(prefix) = name.strip_suffix('*') {
            self.nodes
                .iter()
                .enumerate()
                .filter(|(_, node)| node.name.starts_with(prefix))
                .map(|(i, _)| NodeId(i as u16))
                .collect()
        } else if let Some(index) = self.nodes.iter().position(|node| node.name == name) {
            vec![NodeId(index as u16)]
        } else if let Some((_, ids)) = self.producer_groups.iter().find(|(g, _)| g == name) {
            ids.clone()
        } else {
            Vec::new()
        };
        if ids.is_empty() {
            let names = self.nodes.iter().map(|node| node.name.as_str());
            let hint = match did_you_mean(name, names) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "nodes are {}",
                    self.nodes
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err((format!("no node named `{name}`"), Some(hint)));
        }
        Ok(ids)
    }

    /// The members of the DLedger group `group`.
    fn dledger_members(&self, group: &str) -> Result<Vec<NodeId>, (String, Option<String>)> {
        let dledger = self.broker_groups.iter().filter(|g| g.is_dledger());
        let names: Vec<&str> = dledger.clone().map(|g| g.name.as_str()).collect();
        if let Some(found) = dledger.clone().find(|g| g.name == group) {
            return Ok(found.nodes.clone());
        }
        let message = format!("no DLedger group named `{group}`");
        let hint = match names.is_empty() {
            true => "`@leader` and `@followers` name the roles of a group with replication = \"dledger\"".to_string(),
            false => format!("DLedger groups are {}", names.join(", ")),
        };
        Err((message, Some(hint)))
    }

    pub(super) fn resolve_all(
        &self,
        names: &Names,
    ) -> Result<Vec<NodeId>, (String, Option<String>)> {
        let names = names.to_vec();
        if names.is_empty() {
            return Err(("must name at least one node".into(), None));
        }
        let mut ids = Vec::new();
        for name in names {
            for id in self.resolve(&name)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }
}

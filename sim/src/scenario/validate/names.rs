//! Node names: how fault fields name nodes (exact names, `prefix*`, a producer group, a
//! broker group's `@leader` or `@followers`, a list) and the check that no two nodes share a
//! name.

use crate::fault::aim::Pick;
use crate::scenario::error::did_you_mean;
use crate::scenario::resolved::{BrokerGroup, NodeDecl};
use crate::scenario::schema::Names;
use model::NodeId;

/// Resolves node names: exact names, `prefix*` patterns, producer group names, `*`, or a
/// broker group's role (`<group>@leader`): a classic group's master or slaves, a DLedger
/// group's members (narrowed to the role when the fault fires).
pub(super) struct NodeNames<'a> {
    pub(super) nodes: &'a [NodeDecl],
    pub(super) broker_groups: &'a [BrokerGroup],
    pub(super) producer_groups: Vec<(String, Vec<NodeId>)>,
}

impl NodeNames<'_> {
    pub(super) fn resolve(&self, name: &str) -> Result<Vec<NodeId>, (String, Option<String>)> {
        if let Some((group, pick)) = Pick::parse(name) {
            return self.role_members(group, pick);
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

    /// The nodes `<group>@leader` or `<group>@followers` names: a classic group's master or
    /// slaves (its master is the one the file declares: it changes only by an operator), or
    /// every member of a DLedger group, whose leader is known only when the fault fires.
    fn role_members(
        &self,
        group: &str,
        pick: Pick,
    ) -> Result<Vec<NodeId>, (String, Option<String>)> {
        let Some(found) = self.broker_groups.iter().find(|g| g.name == group) else {
            let names: Vec<&str> = self.broker_groups.iter().map(|g| g.name.as_str()).collect();
            let message = format!("no broker group named `{group}`");
            let hint = did_you_mean(group, names.iter().copied())
                .map(|n| format!("did you mean `{n}{}`?", pick.suffix()))
                .unwrap_or_else(|| format!("the broker groups are {}", names.join(", ")));
            return Err((message, Some(hint)));
        };
        let (master, slaves) = found.nodes.split_first().expect("a group has a master");
        match (found.is_dledger(), pick) {
            (true, _) => Ok(found.nodes.clone()),
            (false, Pick::Leader) => Ok(vec![*master]),
            (false, Pick::Followers) if !slaves.is_empty() => Ok(slaves.to_vec()),
            (false, Pick::Followers) => Err((
                format!("broker group `{group}` has no slaves to follow its master"),
                Some("give the group `slaves = 1` or more".into()),
            )),
        }
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

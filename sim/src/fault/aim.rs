//! Faults aimed at a DLedger group's roles as they are when the fault fires: a node field
//! may name `<group>@leader` (the member that last announced its leadership) or
//! `<group>@followers` (the other members). Which member leads is known only during the run,
//! so such a fault is planned when it fires: the supervisor narrows each aimed list to the
//! members holding the role then ([`narrowed`]) and plans the fault as written.

use crate::scenario::resolved::{Fault, FaultSpec};
use model::NodeId;

/// The role a name aims at.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    Leader,
    Followers,
}

impl Pick {
    pub fn suffix(self) -> &'static str {
        match self {
            Pick::Leader => "@leader",
            Pick::Followers => "@followers",
        }
    }

    pub fn other(self) -> Pick {
        match self {
            Pick::Leader => Pick::Followers,
            Pick::Followers => Pick::Leader,
        }
    }

    /// The group a name like `broker-a@leader` aims at, and the role.
    pub fn parse(name: &str) -> Option<(&str, Pick)> {
        [Pick::Leader, Pick::Followers]
            .into_iter()
            .find_map(|pick| Some((name.strip_suffix(pick.suffix())?, pick)))
    }
}

/// One field of a fault that names a DLedger group's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aim {
    /// The `[[fault]]` field (`node`, `a`, `b`, `from`, `to`).
    pub field: &'static str,
    pub group: String,
    /// Every member of the group: the field's list holds them all until the fault fires.
    pub members: Vec<NodeId>,
    pub pick: Pick,
}

impl Aim {
    /// Whether `node` stays in the list when `leader` leads.
    fn keeps(&self, node: NodeId, leader: NodeId) -> bool {
        !self.members.contains(&node) || ((node == leader) == (self.pick == Pick::Leader))
    }
}

/// The fault as it fires, its aimed lists narrowed to the members holding their roles (with
/// the leaders named in its description); or why it cannot fire (no member of the group has
/// led yet, or no member holds the role).
pub fn narrowed(
    fault: &Fault,
    leader_of: impl Fn(&str) -> Option<(NodeId, String)>,
) -> Result<Fault, String> {
    let mut fault = fault.clone();
    let mut named: Vec<String> = Vec::new();
    for aim in &fault.aims {
        let Some((leader, name)) = leader_of(&aim.group) else {
            return Err(format!("no member of {} has led yet", aim.group));
        };
        if let Some(list) = list_mut(&mut fault.spec, aim.field) {
            list.retain(|node| aim.keeps(*node, leader));
            if list.is_empty() {
                let (group, pick) = (&aim.group, aim.pick.suffix());
                return Err(format!("no member of {group} is {group}{pick}"));
            }
        }
        let line = format!("{}@leader={name}", aim.group);
        if !named.contains(&line) {
            named.push(line);
        }
    }
    fault.description = format!("{} ({})", fault.description, named.join(", "));
    fault.aims.clear();
    Ok(fault)
}

/// The node list a field fills in a fault's spec (`isolate`'s `node` fills side `a`).
fn list_mut<'a>(spec: &'a mut FaultSpec, field: &str) -> Option<&'a mut Vec<NodeId>> {
    match (spec, field) {
        (FaultSpec::Node { candidates, .. }, "node")
        | (FaultSpec::SlowDisk { candidates, .. }, "node")
        | (FaultSpec::BitRot { candidates }, "node")
        | (FaultSpec::Clock { candidates, .. }, "node") => Some(candidates),
        (FaultSpec::Partition { a, .. }, "a" | "node") => Some(a),
        (FaultSpec::Partition { b, .. }, "b") => Some(b),
        (
            FaultSpec::Drop { from, .. }
            | FaultSpec::Delay { from, .. }
            | FaultSpec::Bandwidth { from, .. },
            "from",
        ) => from.as_mut(),
        (
            FaultSpec::Drop { to, .. }
            | FaultSpec::Delay { to, .. }
            | FaultSpec::Bandwidth { to, .. },
            "to",
        ) => to.as_mut(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::Action;
    use crate::scenario::resolved::FaultSpec;
    use model::NodeId;

    const CHURN: &str = r#"
name = "aims"
summary = "s"
teaches = "t"
duration = "60s"

[cluster]
name_servers = 1

[[cluster.broker_group]]
name = "broker-a"
replication = "dledger"
peers = 3

[[topic]]
name = "orders"
queues = 1

[[producer]]
group = "p"
topic = "orders"
messages = 10

[[fault]]
at = "10s"
for = "5s"
kind = "partition"
a = ["broker-a@leader"]
b = ["broker-a@followers"]

[[fault]]
at = "20s"
kind = "isolate"
node = "broker-a@followers"
"#;

    fn members(scenario: &crate::scenario::Scenario) -> Vec<NodeId> {
        scenario.broker_groups[0].nodes.clone()
    }

    #[test]
    fn a_partition_of_the_leader_cuts_it_from_the_members_that_follow_when_it_fires() {
        let scenario = crate::scenario::parse(CHURN, "aims.toml").expect("valid");
        let all = members(&scenario);
        let leader = all[1];
        let fault = super::narrowed(&scenario.faults[0], |_| Some((leader, "n1".into())))
            .expect("a leader is known");
        let FaultSpec::Partition { a, b, .. } = &fault.spec else {
            panic!("a partition");
        };
        assert_eq!(a, &[leader]);
        assert_eq!(b, &[all[0], all[2]]);
        assert!(fault.description.ends_with("(broker-a@leader=n1)"));
    }

    #[test]
    fn isolating_the_followers_cuts_them_from_the_leader_too() {
        let scenario = crate::scenario::parse(CHURN, "aims.toml").expect("valid");
        let all = members(&scenario);
        let fault = super::narrowed(&scenario.faults[1], |_| Some((all[2], "n2".into())))
            .expect("a leader is known");
        let FaultSpec::Partition { a, b, .. } = &fault.spec else {
            panic!("an isolation is a partition");
        };
        assert_eq!(a, &[all[0], all[1]]);
        assert!(b.contains(&all[2]) && !b.contains(&all[0]) && !b.contains(&all[1]));
    }

    #[test]
    fn without_a_leader_an_aimed_fault_does_not_fire_and_says_why() {
        let scenario = crate::scenario::parse(CHURN, "aims.toml").expect("valid");
        let refused = super::narrowed(&scenario.faults[0], |_| None);
        assert_eq!(refused.unwrap_err(), "no member of broker-a has led yet");
    }

    #[test]
    fn an_aimed_fault_is_planned_when_it_fires() {
        let scenario = crate::scenario::parse(CHURN, "aims.toml").expect("valid");
        let plan = crate::cluster::plan(&scenario, 7);
        assert!(
            plan.actions
                .iter()
                .all(|t| matches!(t.action, Action::Aimed(_)))
        );
        assert_eq!(
            plan.actions.len(),
            2,
            "one action per fault, its end planned later"
        );
    }
}

//! An operator's role switches in a classic master/slave group: `promote` restarts a slave as
//! its group's master (broker id 0), `demote` turns a master into a slave of its group (it
//! restarts, or comes back, as one). Neither heals. A DLedger group elects its own master:
//! both are refused on its members.

use super::{Kind, Planning, Refusal, Resolve, Swarmed};
use crate::runtime::Action;
use crate::scenario::resolved::{FaultSpec, NodeFault, NodeRole};
use model::NodeId;

pub const PROMOTE: Kind = Kind {
    name: "promote",
    effect: "an operator restarts the slave `node` as its group's master (broker id 0)",
    fields: &["node"],
    resolve: |r| switch(r, true),
    swarm: Swarmed::Never(OPERATOR),
};

pub const DEMOTE: Kind = Kind {
    name: "demote",
    effect: "an operator reconfigures the master `node` as a slave: it restarts (or comes back) as one",
    fields: &["node"],
    resolve: |r| switch(r, false),
    swarm: Swarmed::Never(OPERATOR),
};

const OPERATOR: &str = "an operator's action, not a fault seeds draw: declare it as [[fault]]";

fn switch(r: &Resolve<'_>, promote: bool) -> Result<FaultSpec, Refusal> {
    if r.fault.node.is_none() {
        return Err(r.missing("node"));
    }
    r.lasts_forever("a role switch stays")?;
    let candidates = r.required_nodes("node", &r.fault.node)?;
    not_in_dledger_group(r, &candidates)?;
    let wrong = candidates.iter().find(|id| match r.role(**id) {
        NodeRole::Broker { broker_id, .. } => (broker_id == 0) == promote,
        _ => true,
    });
    if let Some(wrong) = wrong {
        let (message, hint) = match promote {
            true => (
                "is not a slave: only a slave can be promoted",
                "slaves are named <group>-s1, ...",
            ),
            false => (
                "is not a master: only a master can be demoted",
                "a master is named after its group",
            ),
        };
        let message = format!("`{}` {message}", r.name(*wrong));
        return Err(Refusal::new("node", message).hint(hint));
    }
    Ok(FaultSpec::Node {
        fault: NodeFault::SwitchRole,
        candidates,
    })
}

/// Refuses a switch of a DLedger group's member: the group, not an operator, picks its master.
fn not_in_dledger_group(r: &Resolve<'_>, candidates: &[NodeId]) -> Result<(), Refusal> {
    let member = candidates
        .iter()
        .find_map(|id| Some((*id, r.dledger_group(*id)?)));
    let Some((node, group)) = member else {
        return Ok(());
    };
    let kind = r.fault.kind.name();
    let message = format!(
        "`{}` is a member of the DLedger group `{group}`, which elects its own master: an \
         operator cannot {kind} it",
        r.name(node)
    );
    Err(Refusal::new("node", message).hint("promote and demote switch classic master/slave groups"))
}

/// The operator switches the node's role at the fault's start, for good.
pub(super) fn plan(planning: &mut Planning<'_>, node: NodeId) {
    let switch = Action::SwitchRole {
        node,
        fault: planning.fault.index,
        description: planning.fault.description.clone(),
    };
    planning.push(planning.at, switch);
}

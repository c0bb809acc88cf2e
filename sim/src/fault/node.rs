//! Faults of a node's process or machine: `kill` (the process dies, the page cache survives),
//! `shutdown` (a clean stop), `power-off` (dirty pages lost, the last page may tear),
//! `os-crash` (dirty pages lost, no torn page), `disk-loss` (the machine comes back empty, or
//! never) and `pause` (the process stops running
//! for a while, as a GC stall or SIGSTOP).

use super::{Aim, Kind, Planning, Refusal, Resolve, Swarmed};
use crate::history::Stop;
use crate::runtime::Action;
use crate::scenario::resolved::{FaultSpec, NodeFault};
use model::NodeId;

pub const KILL: Kind = Kind {
    name: "kill",
    effect: "process dies: memory gone, page cache kept, peers' connections reset at once",
    fields: &["node"],
    resolve: |r| stop(r, NodeFault::Kill),
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| hit(aim, NodeFault::Kill),
    },
};

pub const SHUTDOWN: Kind = Kind {
    name: "shutdown",
    effect: "clean stop: a consumer persists offsets and unregisters, a broker commits its buffers and offset tables; then it exits",
    fields: &["node"],
    resolve: |r| stop(r, NodeFault::Shutdown),
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| hit(aim, NodeFault::Shutdown),
    },
};

pub const POWER_OFF: Kind = Kind {
    name: "power-off",
    effect: "machine loses power: silence; dirty pages lost; a page being flushed may tear; with `returns = false` it never comes back, its disk kept unread",
    fields: &["node", "returns"],
    resolve: |r| {
        let returns = r.fault.returns.unwrap_or(true);
        stop(r, NodeFault::PowerOff { returns })
    },
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| hit(aim, NodeFault::PowerOff { returns: true }),
    },
};

pub const OS_CRASH: Kind = Kind {
    name: "os-crash",
    effect: "the OS panics and the machine reboots: dirty pages lost, but the writes the disk controller had received complete (no torn page); silence until it is back",
    fields: &["node"],
    resolve: |r| stop(r, NodeFault::OsCrash),
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| hit(aim, NodeFault::OsCrash),
    },
};

pub const DISK_LOSS: Kind = Kind {
    name: "disk-loss",
    effect: "the machine comes back with an empty disk (or never)",
    fields: &["node", "returns"],
    resolve: |r| {
        let returns = r.fault.returns.unwrap_or(true);
        stop(r, NodeFault::DiskLoss { returns })
    },
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| hit(aim, NodeFault::DiskLoss { returns: true }),
    },
};

pub const PAUSE: Kind = Kind {
    name: "pause",
    effect: "the process stops running (GC stall, SIGSTOP) for `for` (required), then resumes",
    fields: &["node"],
    resolve: |r| {
        let spec = stop(r, NodeFault::Pause)?;
        if r.fault.lasts.is_none() {
            let message = "a pause needs `for`: how long the node stays stopped";
            return Err(Refusal::new("kind", message));
        }
        Ok(spec)
    },
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| hit(aim, NodeFault::Pause),
    },
};

/// A swarm's fault of its target, with nothing more to draw.
fn hit(aim: &Aim<'_>, fault: NodeFault) -> (FaultSpec, String) {
    let candidates = vec![aim.target];
    (FaultSpec::Node { fault, candidates }, String::new())
}

/// A fault of the node (or one node drawn per seed) that `node` names.
fn stop(r: &Resolve<'_>, fault: NodeFault) -> Result<FaultSpec, Refusal> {
    let candidates = r.required_nodes("node", &r.fault.node)?;
    Ok(FaultSpec::Node { fault, candidates })
}

/// Stops (and restarts at the end) or pauses (and resumes) the node drawn; or switches its
/// role (`role`).
pub(super) fn plan(planning: &mut Planning<'_>, fault: NodeFault, candidates: &[NodeId]) {
    let node = planning.draw_node(candidates);
    let (at, end) = (planning.at, planning.end);
    let how = match fault {
        NodeFault::Pause => {
            planning.push(at, Action::Pause { node });
            if let Some(end) = end {
                planning.push(end, Action::Resume { node });
            }
            return;
        }
        NodeFault::SwitchRole => return super::role::plan(planning, node),
        NodeFault::Kill => Stop::Kill,
        NodeFault::Shutdown => Stop::Shutdown,
        NodeFault::PowerOff { .. } => Stop::PowerOff,
        NodeFault::OsCrash => Stop::OsCrash,
        NodeFault::DiskLoss { .. } => Stop::DiskLoss,
    };
    planning.push(at, Action::Stop { node, how });
    let gone = matches!(
        fault,
        NodeFault::DiskLoss { returns: false } | NodeFault::PowerOff { returns: false }
    );
    if gone {
        planning.never_return.push(node);
    } else if let Some(end) = end {
        planning.push(end, Action::Start { node });
    }
}

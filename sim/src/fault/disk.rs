//! Faults of a node's disk: `slow-disk` (every fsync takes longer) and `bit-rot` (one byte of
//! a broker's newest commitlog file changes on the media, and never heals).

use super::{Kind, Planning, Refusal, Resolve, Swarmed};
use crate::runtime::{Action, Effect};
use crate::scenario::resolved::{FaultSpec, NodeRole};
use model::NodeId;
use model::time::format_ms;

pub const SLOW_DISK: Kind = Kind {
    name: "slow-disk",
    effect: "fsyncs take that much longer",
    fields: &["node", "extra"],
    resolve: |r| {
        if r.fault.node.is_none() {
            return Err(r.missing("node"));
        }
        let extra = r.fault.extra.ok_or_else(|| r.missing("extra"))?;
        if extra.min != extra.max {
            return Err(Refusal::new(
                "extra",
                "a slow disk takes one fixed extra time",
            ));
        }
        let candidates = r.required_nodes("node", &r.fault.node)?;
        let extra_ms = extra.min.0;
        Ok(FaultSpec::SlowDisk {
            candidates,
            extra_ms,
        })
    },
    swarm: Swarmed::Drawn {
        on_disk: true,
        draw: |stream, aim| {
            let extra_ms = stream.between(500, 8_000);
            let candidates = vec![aim.target];
            let detail = format!(" extra={}", format_ms(extra_ms));
            (
                FaultSpec::SlowDisk {
                    candidates,
                    extra_ms,
                },
                detail,
            )
        },
    },
};

pub const BIT_ROT: Kind = Kind {
    name: "bit-rot",
    effect: "one byte of the broker's newest commitlog file changes on the media",
    fields: &["node"],
    resolve: bit_rot,
    swarm: Swarmed::Drawn {
        on_disk: true,
        draw: |_, aim| {
            let candidates = vec![aim.target];
            (FaultSpec::BitRot { candidates }, String::new())
        },
    },
};

fn bit_rot(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    if r.fault.node.is_none() {
        return Err(r.missing("node"));
    }
    r.lasts_forever("bit rot does not heal")?;
    let candidates = r.required_nodes("node", &r.fault.node)?;
    let not_broker = candidates
        .iter()
        .find(|id| !matches!(r.role(**id), NodeRole::Broker { .. }));
    if let Some(node) = not_broker {
        let message = format!(
            "`{}` is not a broker: only brokers keep a commitlog",
            r.name(*node)
        );
        return Err(Refusal::new("node", message));
    }
    Ok(FaultSpec::BitRot { candidates })
}

/// The drawn node's fsyncs take `extra_ms` longer, until the end.
pub(super) fn plan_slow(planning: &mut Planning<'_>, candidates: &[NodeId], extra_ms: u64) {
    let node = planning.draw_node(candidates);
    let fault = planning.fault.index;
    let slow = Action::Effect(Effect::SlowDisk {
        node,
        fault,
        extra_ms,
        description: planning.fault.description.clone(),
    });
    planning.push(planning.at, slow);
    if let Some(end) = planning.end {
        planning.push(end, Action::Effect(Effect::SlowDiskOff { node, fault }));
    }
}

/// A byte of the drawn broker's newest commitlog file rots at the start.
pub(super) fn plan_bit_rot(planning: &mut Planning<'_>, candidates: &[NodeId]) {
    let node = planning.draw_node(candidates);
    let rot = Action::Effect(Effect::BitRot {
        node,
        fault: planning.fault.index,
        dir: model::broker::store::commit_log::DIR.to_string(),
        description: planning.fault.description.clone(),
    });
    planning.push(planning.at, rot);
}

//! Faults of a machine's wall clock: `clock-skew` (the clock stands `offset` from the others'
//! while the fault lasts) and `clock-jump` (the clock steps by `by` and stays there, as an NTP
//! step or an operator's `date -s` does). RocketMQ 4.9.8 reads the wall clock for store
//! timestamps, the checkpoint, recovery's choice of a starting file, retention's `deleteWhen`
//! and files' mtimes, the delay service's due times, index file names and the transaction
//! check's ages: every one of them moves with the clock here (`Context::wall_clock_ms`).

use super::{Kind, Planning, Refusal, Resolve, Swarmed};
use crate::runtime::{Action, Effect};
use crate::scenario::resolved::FaultSpec;
use model::NodeId;

pub const CLOCK_SKEW: Kind = Kind {
    name: "clock-skew",
    effect: "the node's wall clock stands `offset` from true time (`\"-5m\"`, `\"+90s\"`) while it lasts",
    fields: &["node", "offset"],
    resolve: |r| {
        let offset = r.fault.offset.ok_or_else(|| r.missing("offset"))?;
        let candidates = clock_nodes(r)?;
        Ok(FaultSpec::Clock {
            candidates,
            by_ms: offset.0,
            undone: true,
        })
    },
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |stream, aim| {
            let minutes = stream.between(1, 120) as i64;
            let by_ms = if stream.below(2) == 0 { 1 } else { -1 } * minutes * 60_000;
            let detail = format!(" offset={}m", by_ms / 60_000);
            let spec = FaultSpec::Clock {
                candidates: vec![aim.target],
                by_ms,
                undone: true,
            };
            (spec, detail)
        },
    },
};

pub const CLOCK_JUMP: Kind = Kind {
    name: "clock-jump",
    effect: "the node's wall clock steps by `by` (`\"+72h\"`, `\"-1h\"`) and stays there",
    fields: &["node", "by"],
    resolve: |r| {
        let by = r.fault.by.ok_or_else(|| r.missing("by"))?;
        r.lasts_forever("a clock that jumped stays where it jumped to")?;
        let candidates = clock_nodes(r)?;
        Ok(FaultSpec::Clock {
            candidates,
            by_ms: by.0,
            undone: false,
        })
    },
    swarm: Swarmed::Never("a jump of hours outlives the run; use clock-skew in swarms"),
};

fn clock_nodes(r: &Resolve<'_>) -> Result<Vec<NodeId>, Refusal> {
    if r.fault.node.is_none() {
        return Err(r.missing("node"));
    }
    r.required_nodes("node", &r.fault.node)
}

/// The drawn node's clock steps at the start, and back at the end if the fault is undone.
pub(super) fn plan(planning: &mut Planning<'_>, candidates: &[NodeId], by_ms: i64, undone: bool) {
    let node = planning.draw_node(candidates);
    let fault = planning.fault.index;
    let step = Action::Effect(Effect::ClockStep {
        node,
        fault,
        by_ms,
        description: Some(planning.fault.description.clone()),
    });
    planning.push(planning.at, step);
    if let (true, Some(end)) = (undone, planning.end) {
        let back = Effect::ClockStep {
            node,
            fault,
            by_ms: -by_ms,
            description: None,
        };
        planning.push(end, Action::Effect(back));
    }
}

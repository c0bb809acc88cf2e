//! Swarm testing: each seed draws its own fault schedule from the scenario's `[swarm]` atlas,
//! as TigerBeetle's VOPR and FoundationDB's simulation do. A seed first enables a random
//! subset of the fault kinds (so some seeds hammer one mechanism and others mix many), then
//! draws how many faults it has, and for each one its kind, target, start and length.
//!
//! What each kind draws beyond its target is the kind's own (`crate::fault`, `Swarmed`).
//! The draws come from their own named stream (`faults/swarm`), so the hand-placed faults of
//! the same file keep their draws. The plan is a pure function of (scenario, seed): the report
//! prints it, and a replay of the seed gets the same one.

use crate::fault;
use crate::rng::Stream;
use crate::scenario::Scenario;
use crate::scenario::resolved::{Fault, NodeRole, Swarm};
use crate::scenario::schema::FaultKind;
use crate::scenario::units::MillisRange;
use model::NodeId;
use model::time::format_ms;

/// The faults seed `seed` draws, numbered after the file's own; none without `[swarm]`.
pub fn draw(scenario: &Scenario, seed: u64) -> Vec<Fault> {
    let Some(swarm) = &scenario.swarm else {
        return Vec::new();
    };
    let mut stream = Stream::new(seed, "faults/swarm");
    let enabled = enabled_kinds(&mut stream, &swarm.kinds);
    let count = stream.between(u64::from(swarm.min_faults), u64::from(swarm.max_faults));
    (0..count as usize)
        .map(|i| {
            let kind = enabled[stream.below(enabled.len() as u64) as usize];
            one_fault(
                &mut stream,
                scenario,
                swarm,
                kind,
                scenario.faults.len() + i,
            )
        })
        .collect()
}

/// A random non-empty subset of the atlas: each kind is on with probability 1/2.
fn enabled_kinds(stream: &mut Stream, kinds: &[FaultKind]) -> Vec<FaultKind> {
    let mut enabled: Vec<FaultKind> = kinds
        .iter()
        .copied()
        .filter(|_| stream.below(2) == 1)
        .collect();
    if enabled.is_empty() {
        enabled.push(kinds[stream.below(kinds.len() as u64) as usize]);
    }
    enabled
}

fn one_fault(
    stream: &mut Stream,
    scenario: &Scenario,
    swarm: &Swarm,
    kind: FaultKind,
    index: usize,
) -> Fault {
    let at = stream.between(swarm.window.min.0, swarm.window.max.0);
    let lasts = stream.between(swarm.lasts.min.0, swarm.lasts.max.0);
    let fault::Swarmed::Drawn { on_disk, draw } =
        fault::kind(kind.name()).expect("registered").swarm
    else {
        unreachable!("validate keeps {} out of the swarm", kind.name())
    };
    let target = pick_target(stream, scenario, swarm, on_disk);
    let aim = fault::Aim {
        target,
        nodes: &scenario.nodes,
        requests: &swarm.requests,
    };
    let (spec, detail) = draw(stream, &aim);
    let description = format!(
        "swarm: {} {}{detail} at {} for {}",
        kind.name(),
        scenario.nodes[target.index()].name,
        format_ms(at),
        format_ms(lasts)
    );
    Fault {
        index,
        at: MillisRange::fixed(at),
        lasts_ms: Some(lasts),
        phase: Default::default(),
        spec,
        description,
        aims: Vec::new(),
    }
}

/// A target: a disk fault only means something on a broker's commitlog, so slow disks and rot
/// pick among the targets that are brokers (any target if there are none).
fn pick_target(stream: &mut Stream, scenario: &Scenario, swarm: &Swarm, on_disk: bool) -> NodeId {
    let brokers: Vec<NodeId> = swarm
        .targets
        .iter()
        .copied()
        .filter(|node| matches!(scenario.nodes[node.index()].role, NodeRole::Broker { .. }))
        .collect();
    let pool = if on_disk && !brokers.is_empty() {
        &brokers
    } else {
        &swarm.targets
    };
    pool[stream.below(pool.len() as u64) as usize]
}

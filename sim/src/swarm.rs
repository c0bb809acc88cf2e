//! Swarm testing: each seed draws its own fault schedule from the scenario's `[swarm]` atlas,
//! as TigerBeetle's VOPR and FoundationDB's simulation do. A seed first enables a random
//! subset of the fault kinds (so some seeds hammer one mechanism and others mix many), then
//! draws how many faults it has, and for each one its kind, target, start and length.
//!
//! The draws come from their own named stream (`faults/swarm`), so the hand-placed faults of
//! the same file keep their draws. The plan is a pure function of (scenario, seed): the report
//! prints it, and a replay of the seed gets the same one.

use crate::ratio::Ratio;
use crate::rng::Stream;
use crate::scenario::Scenario;
use crate::scenario::resolved::{Fault, FaultSpec, NodeFault, NodeRole, Swarm};
use crate::scenario::schema::FaultKind;
use crate::scenario::units::{Millis, MillisRange};
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
    let target = pick_target(stream, scenario, swarm, kind);
    let name = |node: NodeId| scenario.nodes[node.index()].name.clone();
    let node = |fault: NodeFault| FaultSpec::Node {
        fault,
        candidates: vec![target],
    };
    let (spec, detail) = match kind {
        FaultKind::Kill => (node(NodeFault::Kill), String::new()),
        FaultKind::Shutdown => (node(NodeFault::Shutdown), String::new()),
        FaultKind::PowerOff => (node(NodeFault::PowerOff), String::new()),
        FaultKind::DiskLoss => (node(NodeFault::DiskLoss { returns: true }), String::new()),
        FaultKind::Pause => (node(NodeFault::Pause), String::new()),
        FaultKind::BitRot => (
            FaultSpec::BitRot {
                candidates: vec![target],
            },
            String::new(),
        ),
        FaultKind::SlowDisk => {
            let extra_ms = stream.between(500, 8_000);
            let detail = format!(" extra={}", format_ms(extra_ms));
            let spec = FaultSpec::SlowDisk {
                candidates: vec![target],
                extra_ms,
            };
            (spec, detail)
        }
        FaultKind::Partition => {
            let rest: Vec<NodeId> = (0..scenario.nodes.len())
                .map(|i| NodeId(i as u16))
                .filter(|n| *n != target && scenario.nodes[n.index()].name != "auditor")
                .collect();
            let spec = FaultSpec::Partition {
                a: vec![target],
                b: rest,
                one_way: false,
            };
            (spec, " from every other node".to_string())
        }
        FaultKind::DropRequest | FaultKind::DropResponse => drop(stream, kind, target),
        FaultKind::Delay => {
            let max = stream.between(20, 2_000);
            let spec = FaultSpec::Delay {
                from: None,
                to: Some(vec![target]),
                codes: Vec::new(),
                extra: MillisRange {
                    min: Millis(max / 2),
                    max: Millis(max),
                },
            };
            (
                spec,
                format!(" extra={}..{}", format_ms(max / 2), format_ms(max)),
            )
        }
        FaultKind::Promote | FaultKind::Demote | FaultKind::Bandwidth => {
            unreachable!("validate keeps {kind:?} out of the swarm")
        }
    };
    let description = format!(
        "swarm: {} {}{detail} at {} for {}",
        kind.name(),
        name(target),
        format_ms(at),
        format_ms(lasts)
    );
    Fault {
        index,
        at: MillisRange::fixed(at),
        lasts_ms: Some(lasts),
        spec,
        description,
    }
}

/// A target for `kind`: a disk fault only means something on a broker's commitlog, so slow
/// disks and rot pick among the targets that are brokers (any target if there are none).
fn pick_target(stream: &mut Stream, scenario: &Scenario, swarm: &Swarm, kind: FaultKind) -> NodeId {
    let on_disk = matches!(kind, FaultKind::SlowDisk | FaultKind::BitRot);
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

/// A drop of packets to (requests) or from (responses) the target, with a drawn probability.
fn drop(stream: &mut Stream, kind: FaultKind, target: NodeId) -> (FaultSpec, String) {
    let tenths = stream.between(1, 10);
    let probability = Ratio::new(tenths, 10).expect("a ratio of tenths");
    let (direction, from, to) = if kind == FaultKind::DropRequest {
        (crate::net::Direction::Request, None, Some(vec![target]))
    } else {
        (crate::net::Direction::Response, Some(vec![target]), None)
    };
    let spec = FaultSpec::Drop {
        direction,
        from,
        to,
        codes: Vec::new(),
        probability,
    };
    (spec, format!(" p={tenths}/10"))
}

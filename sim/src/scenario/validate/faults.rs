//! A `[[fault]]` checked and resolved: its timing, the fields its kind takes, its request
//! codes and nodes; the kind itself resolves the rest (`crate::fault`). Also the one-line
//! description the history and reports use, and the refusal of faults that do nothing.

use super::names::NodeNames;
use super::{Checker, at};
use crate::fault::{Kind, Refusal, Resolve};
use crate::scenario::error::{ScenarioError, did_you_mean};
use crate::scenario::resolved::{
    ConsumerGroup, Fault, FaultSpec, NodeFault, NodeRole, Producer, Topic,
};
use crate::scenario::schema::{FaultPhase, FaultSection, Names};
use crate::scenario::units::Millis;
use model::protocol::RequestCode;

pub(super) fn validate_fault(
    check: &Checker<'_>,
    names: &NodeNames<'_>,
    (topics, producers, consumers): (&[Topic], &[Producer], &[ConsumerGroup]),
    index: usize,
    fault: &FaultSection,
    phases: Phases,
) -> Result<Fault, Box<ScenarioError>> {
    let refuse = |refusal: Refusal| {
        check.error(
            &at("fault", index, refusal.field),
            refusal.message,
            refusal.hint,
        )
    };
    let kind = fault.kind.0;
    timing(fault, phases).map_err(refuse)?;
    fields_taken(fault, kind).map_err(refuse)?;
    let resolve = Resolve {
        fault,
        nodes: names.nodes,
        groups: names.broker_groups,
        topics,
        producers,
        consumers,
        names: &|list: &Names| names.resolve_all(list),
        codes: request_codes(&fault.request).map_err(refuse)?,
        aims: Default::default(),
    };
    let spec = (kind.resolve)(&resolve).map_err(refuse)?;
    not_the_auditor(&spec, &resolve).map_err(refuse)?;
    ends_in_the_drain(fault, &spec).map_err(refuse)?;
    Ok(Fault {
        index,
        at: fault.at,
        lasts_ms: fault.lasts.map(|d| d.0),
        phase: fault.phase.unwrap_or_default(),
        spec,
        description: describe(fault, names),
        aims: resolve.aims.into_inner(),
    })
}

/// How long the phases a fault may happen in last: the run (`duration`) and the drain
/// (`drain_timeout`).
#[derive(Copy, Clone, Debug)]
pub(super) struct Phases {
    pub run: Millis,
    pub drain: Millis,
}

/// A fault starts within its phase and, if it ends, lasts a while; a drain fault also ends
/// within the drain.
fn timing(fault: &FaultSection, phases: Phases) -> Result<(), Refusal> {
    if fault.lasts == Some(Millis(0)) {
        return Err(Refusal::new("for", "must be longer than 0s"));
    }
    if fault.phase != Some(FaultPhase::Drain) {
        if fault.at.max >= phases.run {
            let message = format!(
                "starts at {} but the run phase ends at {}",
                fault.at.max, phases.run
            );
            let hint = "raise `duration`, start earlier, or set phase = \"drain\" to count \
                        `at` from the heal";
            return Err(Refusal::new("at", message).hint(hint));
        }
        return Ok(());
    }
    let ends = fault.at.max.0 + fault.lasts.map_or(0, |lasts| lasts.0);
    if ends >= phases.drain.0 {
        let field = if fault.lasts.is_some() { "for" } else { "at" };
        let message = format!(
            "ends {} into the drain, but the drain times out {} after the heal",
            Millis(ends),
            phases.drain
        );
        let hint = "end it sooner, or raise `drain_timeout`";
        return Err(Refusal::new(field, message).hint(hint));
    }
    Ok(())
}

/// Nothing heals after the drain: a drain fault that would last until a heal needs `for`.
fn ends_in_the_drain(fault: &FaultSection, spec: &FaultSpec) -> Result<(), Refusal> {
    let drain = fault.phase == Some(FaultPhase::Drain);
    if drain && fault.lasts.is_none() && spec.ends() {
        let message = "a drain fault needs `for`: no heal follows the drain";
        return Err(Refusal::new("for", message).hint("say how long it lasts"));
    }
    Ok(())
}

/// Anything set that the kind does not take is a mistake worth naming.
fn fields_taken(fault: &FaultSection, kind: &Kind) -> Result<(), Refusal> {
    let set = [
        ("node", fault.node.is_some()),
        ("returns", fault.returns.is_some()),
        ("a", fault.a.is_some()),
        ("b", fault.b.is_some()),
        ("one_way", fault.one_way.is_some()),
        ("from", fault.from.is_some()),
        ("to", fault.to.is_some()),
        ("request", fault.request.is_some()),
        ("probability", fault.probability.is_some()),
        ("extra", fault.extra.is_some()),
        ("rate", fault.rate.is_some()),
        ("topic", fault.topic.is_some()),
        ("read_queues", fault.read_queues.is_some()),
        ("write_queues", fault.write_queues.is_some()),
        ("perm", fault.perm.is_some()),
        ("brokers", fault.brokers.is_some()),
        ("group", fault.group.is_some()),
        ("timestamp", fault.timestamp.is_some()),
        ("force", fault.force.is_some()),
        ("key", fault.key.is_some()),
    ];
    let kind_name = kind.name;
    let stray = set
        .iter()
        .find(|(field, present)| *present && !kind.fields.contains(field));
    match stray {
        Some((field, _)) => {
            Err(
                Refusal::new(field, format!("does not apply to a {kind_name} fault")).hint(
                    format!("a {kind_name} fault takes: {}", kind.fields.join(", ")),
                ),
            )
        }
        None => Ok(()),
    }
}

/// The request codes `request` names, by their RocketMQ names (none: every code).
pub(super) fn request_codes(request: &Option<Names>) -> Result<Vec<RequestCode>, Refusal> {
    let Some(list) = request else {
        return Ok(Vec::new());
    };
    if list.to_vec().is_empty() {
        let refusal = Refusal::new("request", "must name at least one request code");
        return Err(refusal.hint("leave `request` out to match every code"));
    }
    let code = |name: String| {
        RequestCode::from_name(&name).ok_or_else(|| {
            let hint = did_you_mean(&name, RequestCode::names())
                .map(|near| format!("did you mean `{near}`?"))
                .unwrap_or_else(|| format!("codes are {}", RequestCode::names().join(", ")));
            Refusal::new("request", format!("no request code `{name}`")).hint(hint)
        })
    };
    list.to_vec().into_iter().map(code).collect()
}

/// The auditor reads the results back after the run: no fault may hit it.
fn not_the_auditor(spec: &FaultSpec, resolve: &Resolve<'_>) -> Result<(), Refusal> {
    let (FaultSpec::Node { candidates, .. }
    | FaultSpec::SlowDisk { candidates, .. }
    | FaultSpec::BitRot { candidates }
    | FaultSpec::Clock { candidates, .. }) = spec
    else {
        return Ok(());
    };
    match candidates
        .iter()
        .find(|id| resolve.role(**id) == NodeRole::Auditor)
    {
        Some(auditor) => Err(Refusal::new(
            "node",
            format!(
                "`{}` reads the results back after the run and cannot be faulted",
                resolve.name(*auditor)
            ),
        )),
        None => Ok(()),
    }
}

/// Rejects a fault that certainly does nothing: a kill, shutdown or pause aimed at a node that
/// another fault certainly has down at that moment (both on one node, at fixed times). Such a
/// file says something it does not mean. A power-off or disk loss of a stopped node is kept:
/// it applies to the machine (its page cache, its disk).
pub(super) fn no_fault_without_effect(
    check: &Checker<'_>,
    faults: &[Fault],
    nodes: &[crate::scenario::resolved::NodeDecl],
    duration: Millis,
) -> Result<(), Box<ScenarioError>> {
    let fixed_node = |fault: &Fault| match &fault.spec {
        FaultSpec::Node {
            fault: kind,
            candidates,
        } if candidates.len() == 1 && fault.at.min == fault.at.max && fault.aims.is_empty() => {
            Some((
                *kind,
                candidates[0],
                fault.origin_ms(duration.0) + fault.at.min.0,
            ))
        }
        _ => None,
    };
    for down in faults {
        let Some((kind, node, from)) = fixed_node(down) else {
            continue;
        };
        if matches!(kind, NodeFault::Pause | NodeFault::SwitchRole) {
            continue;
        }
        let until = match (down.lasts_ms, down.phase) {
            (Some(lasts), _) => from + lasts,
            (None, FaultPhase::Run) => duration.0,
            (None, FaultPhase::Drain) => continue, // a machine gone for good
        };
        for other in faults.iter().filter(|f| f.index != down.index) {
            let Some((other_kind, other_node, at)) = fixed_node(other) else {
                continue;
            };
            let needs_process = matches!(
                other_kind,
                NodeFault::Kill | NodeFault::Shutdown | NodeFault::Pause
            );
            if other_node == node && needs_process && from < at && at < until {
                return Err(check.error(
                    &at_path(other.index),
                    format!(
                        "`{}` at {} hits {}, which fault[{}] has down from {} to {}: it would do nothing",
                        other.description,
                        Millis(at),
                        nodes[node.index()].name,
                        down.index,
                        Millis(from),
                        Millis(until)
                    ),
                    Some("move it outside that window, or drop it".into()),
                ));
            }
        }
    }
    Ok(())
}

fn at_path(index: usize) -> Vec<crate::scenario::error::Step> {
    at("fault", index, "at")
}

fn describe(fault: &FaultSection, _names: &NodeNames<'_>) -> String {
    let list = |names: &Option<Names>| names.as_ref().map(|n| n.to_vec().join("|"));
    let mut parts = vec![fault.kind.name().to_string()];
    for (label, value) in [
        ("node", list(&fault.node)),
        ("a", list(&fault.a)),
        ("b", list(&fault.b)),
        ("from", list(&fault.from)),
        ("to", list(&fault.to)),
        ("request", list(&fault.request)),
    ] {
        if let Some(value) = value {
            parts.push(format!("{label}={value}"));
        }
    }
    if let Some(p) = fault.probability {
        parts.push(format!("p={p}"));
    }
    if let Some(extra) = fault.extra {
        parts.push(format!("extra={extra}"));
    }
    if let Some(rate) = fault.rate {
        parts.push(format!("rate={}B/s", rate.bytes_per_second));
    }
    if let Some(topic) = &fault.topic {
        parts.push(format!("topic={topic}"));
    }
    for (label, value) in [
        ("read", fault.read_queues),
        ("write", fault.write_queues),
        ("perm", fault.perm.map(u32::from)),
    ] {
        if let Some(value) = value {
            parts.push(format!("{label}={value}"));
        }
    }
    if let Some(brokers) = &fault.brokers {
        parts.push(format!("brokers={}", brokers.join("|")));
    }
    if let Some(lasts) = fault.lasts {
        parts.push(format!("for={lasts}"));
    }
    if fault.phase == Some(FaultPhase::Drain) {
        parts.push("in the drain".to_string());
    }
    parts.join(" ")
}

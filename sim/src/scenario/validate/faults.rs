//! Fault tables: which fields each kind takes, their nodes and request codes, and the
//! one-line description the history and reports use.

use super::names::NodeNames;
use super::{Checker, at};
use crate::net::Direction;
use crate::ratio::Ratio;
use crate::scenario::error::{ScenarioError, did_you_mean};
use crate::scenario::resolved::{Fault, FaultSpec, NodeFault, NodeRole};
use crate::scenario::schema::{FaultKind, FaultSection, Names};
use crate::scenario::units::Millis;
use model::NodeId;
use model::protocol::RequestCode;

pub(super) fn validate_fault(
    check: &Checker<'_>,
    names: &NodeNames<'_>,
    index: usize,
    fault: &FaultSection,
    duration: Millis,
) -> Result<Fault, Box<ScenarioError>> {
    let path = |field: &str| at("fault", index, field);
    let fail = |field: &str, (message, hint): (String, Option<String>)| {
        check.error(&path(field), message, hint)
    };
    if fault.at.max >= duration {
        return Err(check.error(
            &path("at"),
            format!(
                "starts at {} but the run phase ends at {duration}",
                fault.at.max
            ),
            Some("faults happen during the run phase; raise `duration` or start earlier".into()),
        ));
    }
    if fault.lasts == Some(Millis(0)) {
        return Err(check.error(&path("for"), "must be longer than 0s", None));
    }

    // Which fields each kind takes; anything else set is a mistake worth naming.
    let allowed: &[&str] = match fault.kind {
        FaultKind::Kill | FaultKind::Shutdown | FaultKind::PowerOff | FaultKind::Pause => &["node"],
        FaultKind::DiskLoss => &["node", "returns"],
        FaultKind::Partition => &["a", "b", "one_way"],
        FaultKind::DropRequest | FaultKind::DropResponse => {
            &["from", "to", "request", "probability"]
        }
        FaultKind::Delay => &["from", "to", "request", "extra"],
        FaultKind::Bandwidth => &["from", "to", "request", "rate"],
        FaultKind::SlowDisk => &["node", "extra"],
        FaultKind::BitRot | FaultKind::Promote | FaultKind::Demote => &["node"],
    };
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
    ];
    let kind_name = format!("{:?}", fault.kind);
    for (field, present) in set {
        if present && !allowed.contains(&field) {
            return Err(check.error(
                &path(field),
                format!("does not apply to a {kind_name} fault"),
                Some(format!("a {kind_name} fault takes: {}", allowed.join(", "))),
            ));
        }
    }
    let required = |field: &str, value: bool| {
        if value {
            Ok(())
        } else {
            Err(check.error(
                &path("kind"),
                format!("a {kind_name} fault needs `{field}`"),
                None,
            ))
        }
    };
    let nodes_of = |field: &str,
                    names_field: &Option<Names>|
     -> Result<Option<Vec<NodeId>>, Box<ScenarioError>> {
        match names_field {
            None => Ok(None),
            Some(list) => names
                .resolve_all(list)
                .map(Some)
                .map_err(|e| fail(field, e)),
        }
    };
    let codes = match &fault.request {
        None => Vec::new(),
        Some(list) if list.to_vec().is_empty() => {
            return Err(check.error(
                &path("request"),
                "must name at least one request code",
                Some("leave `request` out to match every code".into()),
            ));
        }
        Some(list) => {
            let mut codes = Vec::new();
            for name in list.to_vec() {
                match RequestCode::from_name(&name) {
                    Some(code) => codes.push(code),
                    None => {
                        let hint = did_you_mean(&name, RequestCode::names())
                            .map(|near| format!("did you mean `{near}`?"))
                            .unwrap_or_else(|| {
                                format!("codes are {}", RequestCode::names().join(", "))
                            });
                        return Err(check.error(
                            &path("request"),
                            format!("no request code `{name}`"),
                            Some(hint),
                        ));
                    }
                }
            }
            codes
        }
    };

    let spec = match fault.kind {
        FaultKind::Kill
        | FaultKind::Shutdown
        | FaultKind::PowerOff
        | FaultKind::Pause
        | FaultKind::DiskLoss => {
            required("node", fault.node.is_some())?;
            let candidates = nodes_of("node", &fault.node)?.unwrap_or_default();
            let node_fault = match fault.kind {
                FaultKind::Kill => NodeFault::Kill,
                FaultKind::Shutdown => NodeFault::Shutdown,
                FaultKind::PowerOff => NodeFault::PowerOff,
                FaultKind::Pause => NodeFault::Pause,
                _ => NodeFault::DiskLoss {
                    returns: fault.returns.unwrap_or(true),
                },
            };
            if node_fault == NodeFault::Pause && fault.lasts.is_none() {
                return Err(check.error(
                    &path("kind"),
                    "a pause needs `for`: how long the node stays stopped",
                    None,
                ));
            }
            FaultSpec::Node {
                fault: node_fault,
                candidates,
            }
        }
        FaultKind::Partition => {
            required("a", fault.a.is_some())?;
            required("b", fault.b.is_some())?;
            let a = nodes_of("a", &fault.a)?.unwrap_or_default();
            let b = nodes_of("b", &fault.b)?.unwrap_or_default();
            if let Some(both) = a.iter().find(|id| b.contains(id)) {
                return Err(check.error(
                    &path("b"),
                    format!("`{}` is on both sides", names.nodes[both.index()].name),
                    None,
                ));
            }
            FaultSpec::Partition {
                a,
                b,
                one_way: fault.one_way.unwrap_or(false),
            }
        }
        FaultKind::DropRequest | FaultKind::DropResponse => FaultSpec::Drop {
            direction: if fault.kind == FaultKind::DropRequest {
                Direction::Request
            } else {
                Direction::Response
            },
            from: nodes_of("from", &fault.from)?,
            to: nodes_of("to", &fault.to)?,
            codes,
            probability: fault.probability.unwrap_or(Ratio::ONE),
        },
        FaultKind::Delay => {
            required("extra", fault.extra.is_some())?;
            FaultSpec::Delay {
                from: nodes_of("from", &fault.from)?,
                to: nodes_of("to", &fault.to)?,
                codes,
                extra: fault.extra.expect("required"),
            }
        }
        FaultKind::Bandwidth => {
            required("rate", fault.rate.is_some())?;
            FaultSpec::Bandwidth {
                from: nodes_of("from", &fault.from)?,
                to: nodes_of("to", &fault.to)?,
                codes,
                bytes_per_second: fault.rate.expect("required").bytes_per_second,
            }
        }
        FaultKind::SlowDisk => {
            required("node", fault.node.is_some())?;
            required("extra", fault.extra.is_some())?;
            let extra = fault.extra.expect("required");
            if extra.min != extra.max {
                return Err(check.error(
                    &path("extra"),
                    "a slow disk takes one fixed extra time",
                    None,
                ));
            }
            FaultSpec::SlowDisk {
                candidates: nodes_of("node", &fault.node)?.unwrap_or_default(),
                extra_ms: extra.min.0,
            }
        }
        FaultKind::BitRot => {
            required("node", fault.node.is_some())?;
            if fault.lasts.is_some() {
                return Err(check.error(&path("for"), "bit rot does not heal: remove `for`", None));
            }
            FaultSpec::BitRot {
                candidates: nodes_of("node", &fault.node)?.unwrap_or_default(),
            }
        }
        FaultKind::Promote | FaultKind::Demote => {
            required("node", fault.node.is_some())?;
            if fault.lasts.is_some() {
                return Err(check.error(&path("for"), "a role switch stays: remove `for`", None));
            }
            let candidates = nodes_of("node", &fault.node)?.unwrap_or_default();
            let promote = fault.kind == FaultKind::Promote;
            let wrong = candidates
                .iter()
                .find(|id| match names.nodes[id.index()].role {
                    NodeRole::Broker { broker_id, .. } => (broker_id == 0) == promote,
                    _ => true,
                });
            if let Some(wrong) = wrong {
                let (message, hint) = if promote {
                    (
                        "is not a slave: only a slave can be promoted",
                        "slaves are named <group>-s1, ...",
                    )
                } else {
                    (
                        "is not a master: only a master can be demoted",
                        "a master is named after its group",
                    )
                };
                return Err(check.error(
                    &path("node"),
                    format!("`{}` {message}", names.nodes[wrong.index()].name),
                    Some(hint.into()),
                ));
            }
            FaultSpec::Node {
                fault: NodeFault::SwitchRole,
                candidates,
            }
        }
    };
    if let FaultSpec::BitRot { candidates } = &spec
        && let Some(not_broker) = candidates
            .iter()
            .find(|id| !matches!(names.nodes[id.index()].role, NodeRole::Broker { .. }))
    {
        return Err(check.error(
            &path("node"),
            format!(
                "`{}` is not a broker: only brokers keep a commitlog",
                names.nodes[not_broker.index()].name
            ),
            None,
        ));
    }
    if let FaultSpec::Node { candidates, .. }
    | FaultSpec::SlowDisk { candidates, .. }
    | FaultSpec::BitRot { candidates } = &spec
        && let Some(auditor) = candidates
            .iter()
            .find(|id| names.nodes[id.index()].role == NodeRole::Auditor)
    {
        return Err(check.error(
            &path("node"),
            format!(
                "`{}` reads the results back after the run and cannot be faulted",
                names.nodes[auditor.index()].name
            ),
            None,
        ));
    }
    let description = describe(fault, names);
    Ok(Fault {
        index,
        at: fault.at,
        lasts_ms: fault.lasts.map(|d| d.0),
        spec,
        description,
    })
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
        } if candidates.len() == 1 && fault.at.min == fault.at.max => {
            Some((*kind, candidates[0], fault.at.min.0))
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
        let until = down.lasts_ms.map_or(duration.0, |lasts| from + lasts);
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
    let mut parts = vec![format!("{:?}", fault.kind).to_lowercase()];
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
    if let Some(lasts) = fault.lasts {
        parts.push(format!("for={lasts}"));
    }
    parts.join(" ")
}

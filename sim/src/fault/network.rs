//! Faults of the network between nodes: `partition` (two sides cannot reach each other, or
//! one cannot reach the other), `isolate` (some nodes cut off from all others), `drop-request` and `drop-response` (packets vanish, a lost ACK
//! among them), `delay` (packets take longer) and `bandwidth` (a link's packets share a cap).
//! Each may be narrowed by sender (`from`), receiver (`to`) and RocketMQ request code.

use super::{Aim, Kind, Refusal, Resolve, Swarmed};
use crate::net::{Direction, NodeSet, Rule, Selector};
use crate::ratio::Ratio;
use crate::rng::Stream;
use crate::scenario::resolved::{FaultSpec, NodeDecl, NodeRole};
use crate::scenario::units::{Millis, MillisRange};
use model::NodeId;
use model::protocol::RequestCode;
use model::time::format_ms;

pub const PARTITION: Kind = Kind {
    name: "partition",
    effect: "packets between the sides vanish (with `one_way`, only those from `a` to `b`)",
    fields: &["a", "b", "one_way"],
    resolve: partition,
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| (cut_off(aim), " from every other node".to_string()),
    },
};

pub const ISOLATE: Kind = Kind {
    name: "isolate",
    effect: "the nodes `node` names can reach no other node, nor any other node them",
    fields: &["node"],
    resolve: |r| {
        let a = r.required_nodes("node", &r.fault.node)?;
        let mut b = everyone_else(r.nodes, &a);
        let inverse: Vec<super::aim::Aim> = (r.aims.borrow().iter())
            .map(|aim| super::aim::Aim {
                field: "b",
                pick: aim.pick.other(),
                ..aim.clone()
            })
            .collect();
        for aim in inverse {
            for member in &aim.members {
                if !b.contains(member) {
                    b.push(*member);
                }
            }
            r.aims.borrow_mut().push(aim);
        }
        Ok(FaultSpec::Partition {
            a,
            b,
            one_way: false,
        })
    },
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |_, aim| (cut_off(aim), String::new()),
    },
};

/// A swarm's target cut off from every other node.
fn cut_off(aim: &Aim<'_>) -> FaultSpec {
    FaultSpec::Partition {
        a: vec![aim.target],
        b: everyone_else(aim.nodes, &[aim.target]),
        one_way: false,
    }
}

/// Every node but `these` and the auditor (which only reads back after the run).
fn everyone_else(nodes: &[NodeDecl], these: &[NodeId]) -> Vec<NodeId> {
    let all = (0..nodes.len()).map(|i| NodeId(i as u16));
    let others = all.filter(|n| !these.contains(n) && nodes[n.index()].role != NodeRole::Auditor);
    others.collect()
}

pub const DROP_REQUEST: Kind = Kind {
    name: "drop-request",
    effect: "matching requests vanish",
    fields: &["from", "to", "request", "probability"],
    resolve: |r| drop(r, Direction::Request),
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |stream, aim| drawn_drop(stream, Direction::Request, aim),
    },
};

pub const DROP_RESPONSE: Kind = Kind {
    name: "drop-response",
    effect: "matching responses vanish (a lost ACK)",
    fields: &["from", "to", "request", "probability"],
    resolve: |r| drop(r, Direction::Response),
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |stream, aim| drawn_drop(stream, Direction::Response, aim),
    },
};

pub const DELAY: Kind = Kind {
    name: "delay",
    effect: "matching packets take extra latency",
    fields: &["from", "to", "request", "extra"],
    resolve: |r| {
        let extra = r.fault.extra.ok_or_else(|| r.missing("extra"))?;
        Ok(FaultSpec::Delay {
            from: r.nodes_of("from", &r.fault.from)?,
            to: r.nodes_of("to", &r.fault.to)?,
            codes: r.codes.clone(),
            extra,
        })
    },
    swarm: Swarmed::Drawn {
        on_disk: false,
        draw: |stream, aim| {
            let max = stream.between(20, 2_000);
            let (codes, request) = drawn_code(stream, aim);
            let spec = FaultSpec::Delay {
                from: None,
                to: Some(vec![aim.target]),
                codes,
                extra: MillisRange {
                    min: Millis(max / 2),
                    max: Millis(max),
                },
            };
            let detail = format!(" extra={}..{}{request}", format_ms(max / 2), format_ms(max));
            (spec, detail)
        },
    },
};

pub const BANDWIDTH: Kind = Kind {
    name: "bandwidth",
    effect: "matching links are capped (`\"64KiB/s\"`)",
    fields: &["from", "to", "request", "rate"],
    resolve: |r| {
        let rate = r.fault.rate.ok_or_else(|| r.missing("rate"))?;
        Ok(FaultSpec::Bandwidth {
            from: r.nodes_of("from", &r.fault.from)?,
            to: r.nodes_of("to", &r.fault.to)?,
            codes: r.codes.clone(),
            bytes_per_second: rate.bytes_per_second,
        })
    },
    swarm: Swarmed::Never("bandwidth needs a rate: declare it as [[fault]]"),
};

fn partition(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    for (field, names) in [("a", &r.fault.a), ("b", &r.fault.b)] {
        if names.is_none() {
            return Err(r.missing(field));
        }
    }
    let a = r.required_nodes("a", &r.fault.a)?;
    let b = r.required_nodes("b", &r.fault.b)?;
    if let Some(both) = a.iter().find(|id| b.contains(id) && !r.aimed(**id)) {
        let message = format!("`{}` is on both sides", r.name(*both));
        return Err(Refusal::new("b", message));
    }
    let one_way = r.fault.one_way.unwrap_or(false);
    Ok(FaultSpec::Partition { a, b, one_way })
}

/// A swarm's drop of packets to (requests) or from (responses) its target, with a drawn
/// probability.
fn drawn_drop(stream: &mut Stream, direction: Direction, aim: &Aim<'_>) -> (FaultSpec, String) {
    let tenths = stream.between(1, 10);
    let probability = Ratio::new(tenths, 10).expect("a ratio of tenths");
    let (from, to) = match direction {
        Direction::Request => (None, Some(vec![aim.target])),
        Direction::Response => (Some(vec![aim.target]), None),
    };
    let (codes, request) = drawn_code(stream, aim);
    let spec = FaultSpec::Drop {
        direction,
        from,
        to,
        codes,
        probability,
    };
    (spec, format!(" p={tenths}/10{request}"))
}

/// The request code a swarm's drop or delay matches: one of the swarm's `requests`, drawn
/// only when it lists some (so swarms without the list draw as before); none matches all.
fn drawn_code(stream: &mut Stream, aim: &Aim<'_>) -> (Vec<RequestCode>, String) {
    if aim.requests.is_empty() {
        return (Vec::new(), String::new());
    }
    let code = aim.requests[stream.below(aim.requests.len() as u64) as usize];
    (vec![code], format!(" request={}", code.name()))
}

fn drop(r: &Resolve<'_>, direction: Direction) -> Result<FaultSpec, Refusal> {
    Ok(FaultSpec::Drop {
        direction,
        from: r.nodes_of("from", &r.fault.from)?,
        to: r.nodes_of("to", &r.fault.to)?,
        codes: r.codes.clone(),
        probability: r.fault.probability.unwrap_or(Ratio::ONE),
    })
}

/// The network rule a fault of this family sets, if it is one.
pub(super) fn rule(spec: &FaultSpec) -> Option<Rule> {
    let set = |nodes: &[NodeId]| NodeSet::of(nodes.iter().copied());
    let select =
        |from: &Option<Vec<NodeId>>, to: &Option<Vec<NodeId>>, codes: &[_], direction| Selector {
            from: from.as_deref().map(set),
            to: to.as_deref().map(set),
            codes: codes.to_vec(),
            direction,
        };
    Some(match spec {
        FaultSpec::Partition { a, b, one_way } => Rule::Partition {
            a: set(a),
            b: set(b),
            one_way: *one_way,
        },
        FaultSpec::Drop {
            direction,
            from,
            to,
            codes,
            probability,
        } => Rule::Drop {
            select: select(from, to, codes, Some(*direction)),
            probability: *probability,
        },
        FaultSpec::Delay {
            from,
            to,
            codes,
            extra,
        } => Rule::Delay {
            select: select(from, to, codes, None),
            extra_min_ms: extra.min.0,
            extra_max_ms: extra.max.0,
        },
        FaultSpec::Bandwidth {
            from,
            to,
            codes,
            bytes_per_second,
        } => Rule::Bandwidth {
            select: select(from, to, codes, None),
            bytes_per_second: *bytes_per_second,
        },
        FaultSpec::Node { .. }
        | FaultSpec::SlowDisk { .. }
        | FaultSpec::BitRot { .. }
        | FaultSpec::Clock { .. }
        | FaultSpec::UpdateTopic(_)
        | FaultSpec::Operator(_) => {
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::scenario::resolved::FaultSpec;

    #[test]
    fn an_isolated_node_is_cut_off_from_every_other_node_but_the_auditor() {
        let text = r#"
name = "isolate"
summary = "s"
teaches = "t"
duration = "30s"

[cluster]
name_servers = 2

[[cluster.broker_group]]
name = "broker-a"

[[topic]]
name = "orders"
queues = 1

[[producer]]
group = "p"
topic = "orders"
messages = 10

[[fault]]
at = "5s"
for = "5s"
kind = "isolate"
node = "broker-a"
"#;
        let scenario = crate::scenario::parse(text, "isolate.toml").expect("valid");
        let name = |n: &model::NodeId| scenario.nodes[n.index()].name.as_str();
        let FaultSpec::Partition { a, b, one_way } = &scenario.faults[0].spec else {
            panic!("an isolation is a partition");
        };
        let a: Vec<&str> = a.iter().map(name).collect();
        let b: Vec<&str> = b.iter().map(name).collect();
        assert_eq!(a, ["broker-a"]);
        assert_eq!(b, ["namesrv-0", "namesrv-1", "p-0"]);
        assert!(!one_way);
    }
}

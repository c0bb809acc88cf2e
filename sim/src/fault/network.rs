//! Faults of the network between nodes: `partition` (two sides cannot reach each other, or
//! one cannot reach the other), `drop-request` and `drop-response` (packets vanish, a lost ACK
//! among them), `delay` (packets take longer) and `bandwidth` (a link's packets share a cap).
//! Each may be narrowed by sender (`from`), receiver (`to`) and RocketMQ request code.

use super::{Kind, Refusal, Resolve};
use crate::net::{Direction, NodeSet, Rule, Selector};
use crate::ratio::Ratio;
use crate::scenario::resolved::FaultSpec;
use model::NodeId;

pub const PARTITION: Kind = Kind {
    name: "partition",
    fields: &["a", "b", "one_way"],
    resolve: partition,
};

pub const DROP_REQUEST: Kind = Kind {
    name: "drop-request",
    fields: &["from", "to", "request", "probability"],
    resolve: |r| drop(r, Direction::Request),
};

pub const DROP_RESPONSE: Kind = Kind {
    name: "drop-response",
    fields: &["from", "to", "request", "probability"],
    resolve: |r| drop(r, Direction::Response),
};

pub const DELAY: Kind = Kind {
    name: "delay",
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
};

pub const BANDWIDTH: Kind = Kind {
    name: "bandwidth",
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
};

fn partition(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    for (field, names) in [("a", &r.fault.a), ("b", &r.fault.b)] {
        if names.is_none() {
            return Err(r.missing(field));
        }
    }
    let a = r.required_nodes("a", &r.fault.a)?;
    let b = r.required_nodes("b", &r.fault.b)?;
    if let Some(both) = a.iter().find(|id| b.contains(id)) {
        let message = format!("`{}` is on both sides", r.name(*both));
        return Err(Refusal::new("b", message));
    }
    let one_way = r.fault.one_way.unwrap_or(false);
    Ok(FaultSpec::Partition { a, b, one_way })
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
        FaultSpec::Node { .. } | FaultSpec::SlowDisk { .. } | FaultSpec::BitRot { .. } => {
            return None;
        }
    })
}

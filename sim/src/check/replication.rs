//! Replication figures, per master: how far its slaves lagged over time (bytes of commitlog
//! and acknowledged messages not yet reported by a slave), the worst lag, the lag at each
//! moment the master went down (what an ASYNC_MASTER could lose then), and how often a slave
//! refused its master's data (a slave ahead of, or diverged from, its master).

use super::index::{Index, LagMark};
use crate::scenario::NodeRole;
use model::{NodeId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// Lag samples are kept at most this often.
const SAMPLE_EVERY_MS: u64 = 5_000;

/// The lag at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Lag {
    pub at_ms: u64,
    pub bytes: u64,
    pub messages: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplicaFigures {
    /// The master node.
    pub master: String,
    /// The lag every 5 s, from the slaves' reports.
    pub lag: Vec<Lag>,
    pub max_lag: Lag,
    /// The lag when the master stopped (kill, power loss, disk loss), one per stop.
    pub lag_at_stops: Vec<Lag>,
    /// Times a slave refused data that did not continue its log.
    pub mismatches: u64,
}

/// What a master acknowledged, in commitlog order: (offset just past the record, ack time).
type Acked = Vec<(u64, Time)>;

/// Per master with slaves: the lag over time, at its worst, and at each stop.
pub(super) fn judge(index: &Index<'_>) -> Vec<ReplicaFigures> {
    let scenario = index.scenario;
    let replicated =
        |group: &crate::scenario::BrokerGroup| group.nodes.len() >= 2 && !group.is_dledger();
    if !scenario.broker_groups.iter().any(replicated) {
        return Vec::new();
    }
    let acked = acked_by_node(index);
    let mut figures = Vec::new();
    for (node, spec) in scenario.nodes.iter().enumerate() {
        let NodeRole::Broker { group, .. } = spec.role else {
            continue;
        };
        // A DLedger group has no slave reports: its replication is its members' quorum.
        if !replicated(&scenario.broker_groups[group]) {
            continue;
        }
        let node = NodeId(node as u16);
        let Some(timeline) = index.brokers.timelines.get(&node) else {
            continue;
        };
        let acked = acked.get(&node).map_or(&[][..], Vec::as_slice);
        let mut figure = lags(&timeline.lag_marks, acked);
        figure.master = spec.name.clone();
        figure.mismatches = timeline.mismatches;
        // Slaves appear only if they became masters (and had slaves report to them).
        let declared_master = scenario.broker_groups[group].nodes[0] == node;
        if declared_master || !figure.lag.is_empty() {
            figures.push(figure);
        }
    }
    figures
}

/// What each node acknowledged, in commitlog order.
fn acked_by_node(index: &Index<'_>) -> BTreeMap<NodeId, Acked> {
    let mut acked: BTreeMap<NodeId, Acked> = BTreeMap::new();
    for (_, record) in index.sends.messages() {
        let Some(ack) = record.ack() else { continue };
        let end = ack.commit_log_offset + u64::from(ack.size);
        acked.entry(ack.store_host).or_default().push((end, ack.at));
    }
    for list in acked.values_mut() {
        list.sort_unstable();
    }
    acked
}

/// The lag at each report (sampled) and each stop of one master.
fn lags(marks: &[LagMark], acked: &[(u64, Time)]) -> ReplicaFigures {
    let mut figure = ReplicaFigures::default();
    // The furthest any slave reported.
    let mut reported = 0;
    for mark in marks {
        match *mark {
            LagMark::Report {
                at,
                offset,
                master_offset,
            } => {
                reported = reported.max(offset);
                let lag = lag_between(acked, reported, master_offset, at);
                if lag.bytes > figure.max_lag.bytes {
                    figure.max_lag = lag.clone();
                }
                let due = figure.lag.last();
                if due.is_none_or(|last| at.as_ms() >= last.at_ms + SAMPLE_EVERY_MS) {
                    figure.lag.push(lag);
                }
            }
            LagMark::Stop { at } => figure.lag_at_stops.push(lag_at_stop(acked, reported, at)),
        }
    }
    figure
}

/// While running: the records between the slaves' report and the master's end.
fn lag_between(acked: &[(u64, Time)], reported: u64, master_end: u64, at: Time) -> Lag {
    let from = acked.partition_point(|(end, _)| *end <= reported);
    let to = acked.partition_point(|(end, _)| *end <= master_end);
    Lag {
        at_ms: at.as_ms(),
        bytes: master_end.saturating_sub(reported),
        messages: to.saturating_sub(from) as u64,
    }
}

/// At a stop (rare): everything acknowledged by then past the report.
fn lag_at_stop(acked: &[(u64, Time)], reported: u64, at: Time) -> Lag {
    let behind = acked
        .iter()
        .filter(|(end, acked_at)| *end > reported && *acked_at <= at);
    let (count, furthest) = behind.fold((0, 0), |(n, max), (end, _)| (n + 1, max.max(*end)));
    Lag {
        at_ms: at.as_ms(),
        bytes: if count == 0 { 0 } else { furthest - reported },
        messages: count,
    }
}

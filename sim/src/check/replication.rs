//! Replication figures, per master: how far its slaves lagged over time (bytes of commitlog
//! and acknowledged messages not yet reported by a slave), the worst lag, the lag at each
//! moment the master went down (what an ASYNC_MASTER could lose then), and how often a slave
//! refused its master's data (a slave ahead of, or diverged from, its master).

use super::sends;
use crate::history::{History, SimEvent};
use crate::scenario::{NodeRole, Scenario};
use model::event::Event;
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

pub fn analyse(
    scenario: &Scenario,
    history: &History,
    sends: &sends::Analysis,
) -> Vec<ReplicaFigures> {
    let mut figures: BTreeMap<NodeId, ReplicaFigures> = BTreeMap::new();
    for (index, node) in scenario.nodes.iter().enumerate() {
        if let NodeRole::Broker { group, .. } = node.role
            && scenario.broker_groups[group].nodes.len() > 1
        {
            let figure = ReplicaFigures {
                master: node.name.clone(),
                ..ReplicaFigures::default()
            };
            figures.insert(NodeId(index as u16), figure);
        }
    }
    if figures.is_empty() {
        return Vec::new();
    }
    let mut acked: BTreeMap<NodeId, Acked> = BTreeMap::new();
    for ack in sends
        .records
        .iter()
        .flatten()
        .filter_map(|r| r.ok.as_ref().or(r.weak.as_ref()))
    {
        let end = ack.commit_log_offset + u64::from(ack.size);
        acked.entry(ack.store_host).or_default().push((end, ack.at));
    }
    for list in acked.values_mut() {
        list.sort_unstable();
    }
    // Per master: the furthest any slave reported.
    let mut reported: BTreeMap<NodeId, u64> = BTreeMap::new();
    let acked_of = |node: NodeId| acked.get(&node).map_or(&[][..], |l| l.as_slice());
    // While running: the records between the slaves' report and the master's end.
    let lag_between = |node: NodeId, reported: u64, master_end: u64, at: Time| -> Lag {
        let list = acked_of(node);
        let from = list.partition_point(|(end, _)| *end <= reported);
        let to = list.partition_point(|(end, _)| *end <= master_end);
        Lag {
            at_ms: at.as_ms(),
            bytes: master_end.saturating_sub(reported),
            messages: to.saturating_sub(from) as u64,
        }
    };
    // At a stop (rare): everything acknowledged by then past the report.
    let lag_at_stop = |node: NodeId, reported: u64, at: Time| -> Lag {
        let behind: Vec<u64> = acked_of(node)
            .iter()
            .filter(|(end, acked)| *end > reported && *acked <= at)
            .map(|(end, _)| *end)
            .collect();
        Lag {
            at_ms: at.as_ms(),
            bytes: behind.iter().max().map_or(0, |end| end - reported),
            messages: behind.len() as u64,
        }
    };
    for entry in history.entries() {
        let Some(node) = entry.node else { continue };
        if let Some(SimEvent::Stopped { .. }) = entry.sim() {
            if let Some(figure) = figures.get_mut(&node) {
                let lag = lag_at_stop(node, reported.get(&node).copied().unwrap_or(0), entry.at);
                figure.lag_at_stops.push(lag);
            }
            continue;
        }
        match entry.model() {
            Some(Event::Replicated {
                offset,
                master_offset,
                ..
            }) => {
                let Some(figure) = figures.get_mut(&node) else {
                    continue;
                };
                let furthest = reported.entry(node).or_insert(0);
                *furthest = (*furthest).max(*offset);
                let lag = lag_between(node, *furthest, *master_offset, entry.at);
                if lag.bytes > figure.max_lag.bytes {
                    figure.max_lag = lag.clone();
                }
                let due = figure
                    .lag
                    .last()
                    .is_none_or(|last| entry.at.as_ms() >= last.at_ms + SAMPLE_EVERY_MS);
                if due {
                    figure.lag.push(lag);
                }
            }
            Some(Event::ReplicaMismatch { broker, .. }) => {
                let master = scenario
                    .broker_groups
                    .iter()
                    .find(|g| g.name == *broker)
                    .map(|g| g.nodes[0]);
                if let Some(figure) = master.and_then(|m| figures.get_mut(&m)) {
                    figure.mismatches += 1;
                }
            }
            _ => {}
        }
    }
    // Slaves appear only if they became masters (and had slaves report to them).
    let masters: Vec<NodeId> = scenario.broker_groups.iter().map(|g| g.nodes[0]).collect();
    figures
        .into_iter()
        .filter(|(node, figure)| masters.contains(node) || !figure.lag.is_empty())
        .map(|(_, figure)| figure)
        .collect()
}

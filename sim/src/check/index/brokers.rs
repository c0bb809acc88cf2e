//! What happened to each broker node over time: its stops (recorded by the harness), its
//! rotted bytes (the disk plugin), its flushes and recoveries (the store), and what its slaves
//! reported holding (the master's HA service).

use crate::history::{SimEvent, Stop};
use crate::scenario::Scenario;
use model::event::Event;
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// The commitlog offset of a rotted byte at `position` of `file` (commitlog files are named
/// by their first byte's offset).
pub(in crate::check) fn rotted_offset(file: &str, position: u64) -> Option<u64> {
    let base = file.rsplit('/').next()?.parse::<u64>().ok()?;
    Some(base + position)
}

/// One broker node's timeline.
#[derive(Clone, Debug, Default)]
pub(in crate::check) struct BrokerTimeline {
    /// Whether its group has slaves: then a message survives its master if a slave has it.
    pub replicated_group: bool,
    /// What its slaves reported holding: (time, commitlog offset, slave).
    pub replicated: Vec<(Time, u64, NodeId)>,
    /// Where its group's slaves' copies of the log begin: (time, commitlog offset).
    pub replica_starts: Vec<(Time, u64)>,
    /// Rotted bytes: (time, commitlog offset).
    pub corruptions: Vec<(Time, u64)>,
    pub flushes: Vec<(Time, u64)>,
    pub stops: Vec<(Time, Stop)>,
    /// When an operator switched its role (promoted or demoted it).
    pub role_switches: Vec<Time>,
    /// (time, truncated bytes, max offset after recovery).
    pub recoveries: Vec<(Time, u64, u64)>,
    pub transient_pool: bool,
    /// Slave reports and stops in history order, for the lag at each moment.
    pub lag_marks: Vec<LagMark>,
    /// Times one of its group's slaves refused data that did not continue its log (counted
    /// on the group's declared master).
    pub mismatches: u64,
}

/// A moment the replication lag is measured at.
#[derive(Clone, Debug)]
pub(in crate::check) enum LagMark {
    /// A slave reported holding the log up to `offset` while the master's log ended at
    /// `master_offset`.
    Report {
        at: Time,
        offset: u64,
        master_offset: u64,
    },
    /// The node stopped.
    Stop { at: Time },
}

/// Every broker node's timeline, and each group's nodes.
pub(in crate::check) struct BrokerFacts {
    pub timelines: BTreeMap<NodeId, BrokerTimeline>,
    /// Each broker group's nodes, master first.
    pub groups: BTreeMap<String, Vec<NodeId>>,
}

impl BrokerFacts {
    pub fn new(scenario: &Scenario) -> BrokerFacts {
        let mut timelines: BTreeMap<NodeId, BrokerTimeline> = BTreeMap::new();
        let mut groups = BTreeMap::new();
        for spec in &scenario.broker_groups {
            groups.insert(spec.name.clone(), spec.nodes.clone());
            for node in &spec.nodes {
                let timeline = timelines.entry(*node).or_default();
                timeline.transient_pool = spec.transient_store_pool;
                timeline.replicated_group = spec.nodes.len() > 1;
            }
        }
        BrokerFacts { timelines, groups }
    }

    /// The timelines of a broker group's nodes.
    pub fn group_timelines<'a>(
        &'a self,
        group: &str,
    ) -> impl Iterator<Item = &'a BrokerTimeline> + 'a {
        self.groups
            .get(group)
            .into_iter()
            .flatten()
            .filter_map(|node| self.timelines.get(node))
    }

    /// Whether `node` was its group's master at `at`: the group's declared master until an
    /// operator switches it, a slave once one switches it, and so on.
    pub fn master_at(&self, group: &str, node: NodeId, at: Time) -> bool {
        let declared = self.groups.get(group).and_then(|nodes| nodes.first()) == Some(&node);
        let switches = self.timelines.get(&node).map_or(0, |t| {
            t.role_switches
                .iter()
                .filter(|switched| **switched <= at)
                .count()
        });
        declared ^ (switches % 2 == 1)
    }

    /// The first node of `group` other than `node` an operator promoted at or after `since`:
    /// (the node, when).
    pub fn promoted_after(&self, group: &str, node: NodeId, since: Time) -> Option<(NodeId, Time)> {
        let nodes = self
            .groups
            .get(group)?
            .iter()
            .filter(|other| **other != node);
        let promotions = nodes.filter_map(|other| {
            let switches = &self.timelines.get(other)?.role_switches;
            let at = switches
                .iter()
                .find(|at| **at >= since && self.master_at(group, *other, **at))?;
            Some((*other, *at))
        });
        promotions.min_by_key(|(_, at)| *at)
    }

    /// How far `slave` had reported holding `master`'s log by `by` (0: never).
    pub fn reported_by(&self, master: NodeId, slave: NodeId, by: Time) -> u64 {
        let timeline = self.timelines.get(&master);
        let reports = timeline.into_iter().flat_map(|t| &t.replicated);
        let reports = reports.filter(|(at, _, from)| *at <= by && *from == slave);
        reports.map(|(_, offset, _)| *offset).max().unwrap_or(0)
    }

    /// Whether a byte of `node`'s commitlog rotted in `from..to` (any byte: `None`).
    pub fn rotted(&self, node: NodeId, range: Option<(u64, u64)>) -> bool {
        let (from, to) = range.unwrap_or((0, u64::MAX));
        let timeline = self.timelines.get(&node);
        let mut corruptions = timeline.into_iter().flat_map(|t| &t.corruptions);
        corruptions.any(|(_, offset)| (from..to).contains(offset))
    }

    pub fn observe_sim(&mut self, at: Time, node: Option<NodeId>, event: &SimEvent) {
        let Some(timeline) = node.and_then(|node| self.timelines.get_mut(&node)) else {
            return;
        };
        match event {
            SimEvent::Stopped { how } => {
                timeline.stops.push((at, *how));
                timeline.lag_marks.push(LagMark::Stop { at });
            }
            SimEvent::RoleSwitched => timeline.role_switches.push(at),
            SimEvent::Corrupted { file, position } => {
                if let Some(offset) = rotted_offset(file, *position) {
                    timeline.corruptions.push((at, offset));
                }
            }
            _ => {}
        }
    }

    pub fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        if let Event::ReplicaStarted { broker, offset } = event {
            for node in self.groups.get(broker).into_iter().flatten() {
                if let Some(timeline) = self.timelines.get_mut(node) {
                    timeline.replica_starts.push((at, *offset));
                }
            }
            return;
        }
        if let Event::ReplicaMismatch { broker, .. } = event {
            let master = self.groups.get(broker).map(|nodes| nodes[0]);
            if let Some(timeline) = master.and_then(|m| self.timelines.get_mut(&m)) {
                timeline.mismatches += 1;
            }
            return;
        }
        let Some(timeline) = node.and_then(|node| self.timelines.get_mut(&node)) else {
            return;
        };
        match event {
            Event::Flushed { offset, .. } => timeline.flushes.push((at, *offset)),
            Event::Recovered {
                truncated_bytes,
                max_offset,
                ..
            } => timeline
                .recoveries
                .push((at, *truncated_bytes, *max_offset)),
            Event::Replicated {
                offset,
                slave,
                master_offset,
                ..
            } => {
                timeline.replicated.push((at, *offset, *slave));
                timeline.lag_marks.push(LagMark::Report {
                    at,
                    offset: *offset,
                    master_offset: *master_offset,
                });
            }
            _ => {}
        }
    }
}

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

/// Of positions a node reached over time (each a (time, position) through `key`), where a
/// loss just before each index in `resets` started them afresh: the first reached in
/// `[since, until)` whose highest position since the last reset is at or past `end`, as
/// (its index, the index of the one that set that highest position).
fn first_past<P>(
    positions: &[P],
    key: impl Fn(&P) -> (Time, u64),
    resets: &[usize],
    (since, until): (Time, Time),
    end: u64,
) -> Option<(usize, usize)> {
    let lo = positions.partition_point(|p| key(p).0 < since);
    let hi = positions.partition_point(|p| key(p).0 < until).max(lo);
    let start = resets
        .iter()
        .copied()
        .filter(|r| *r <= lo)
        .max()
        .unwrap_or(0);
    let mut best = start;
    let mut highest = Vec::with_capacity(hi - lo);
    for (i, p) in positions.iter().enumerate().take(hi).skip(start) {
        if i == start || resets.contains(&i) || key(&positions[best]).1 < key(p).1 {
            best = i;
        }
        if i >= lo {
            highest.push((i, best));
        }
    }
    let found = highest.partition_point(|(_, best)| key(&positions[*best]).1 < end);
    highest.get(found).copied()
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
    /// Its power and disk losses, which end what it had flushed and what its slaves held of
    /// its log as far as it knows.
    pub losses: Vec<Loss>,
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

impl BrokerTimeline {
    /// The furthest position its flushes had reported by `at` (0: none).
    pub fn flushed_by(&self, at: Time) -> u64 {
        let flushes = self.flushes.iter().take_while(|(t, _)| *t <= at);
        flushes.map(|(_, offset)| *offset).max().unwrap_or(0)
    }
}

/// A power or disk loss of a node, placed among its flushes and slave reports.
#[derive(Copy, Clone, Debug)]
pub(in crate::check) struct Loss {
    pub at: Time,
    pub how: Stop,
    /// How many of the node's `flushes` came before it in the history.
    pub flushes_before: usize,
    /// How many of the node's `replicated` reports came before it in the history.
    pub reports_before: usize,
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
pub(crate) struct BrokerFacts {
    pub(in crate::check) timelines: BTreeMap<NodeId, BrokerTimeline>,
    /// Each broker group's nodes, master first.
    pub(in crate::check) groups: BTreeMap<String, Vec<NodeId>>,
    /// Each DLedger group's leaderships as its members announced them: (time, node).
    leaderships: BTreeMap<String, Vec<(Time, NodeId)>>,
}

impl BrokerFacts {
    pub(crate) fn new(scenario: &Scenario) -> BrokerFacts {
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
        let leaderships = (scenario.broker_groups.iter())
            .filter(|spec| spec.is_dledger())
            .map(|spec| (spec.name.clone(), Vec::new()))
            .collect();
        BrokerFacts {
            timelines,
            groups,
            leaderships,
        }
    }

    /// The timelines of a broker group's nodes.
    pub(in crate::check) fn group_timelines<'a>(
        &'a self,
        group: &str,
    ) -> impl Iterator<Item = &'a BrokerTimeline> + 'a {
        self.group_nodes(group).map(|(_, timeline)| timeline)
    }

    /// A broker group's nodes with their timelines.
    pub(in crate::check) fn group_nodes<'a>(
        &'a self,
        group: &str,
    ) -> impl Iterator<Item = (NodeId, &'a BrokerTimeline)> + 'a {
        let nodes = self.groups.get(group).into_iter().flatten();
        nodes.filter_map(|node| Some((*node, self.timelines.get(node)?)))
    }

    /// Whether `node` was its group's master at `at`: the group's declared master until an
    /// operator switches it, a slave once one switches it, and so on. In a DLedger group, the
    /// member whose leadership was announced last by then, unless it stopped since.
    pub(in crate::check) fn master_at(&self, group: &str, node: NodeId, at: Time) -> bool {
        if let Some(leaderships) = self.leaderships.get(group) {
            let last = leaderships.iter().rfind(|(since, _)| *since <= at);
            let stopped = |since: Time| {
                let stops = self.timelines.get(&node).map_or(&[][..], |t| &t.stops[..]);
                stops.iter().any(|(stop, _)| (since..=at).contains(stop))
            };
            return last.is_some_and(|(since, leader)| *leader == node && !stopped(*since));
        }
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
    pub(in crate::check) fn promoted_after(
        &self,
        group: &str,
        node: NodeId,
        since: Time,
    ) -> Option<(NodeId, Time)> {
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
    pub(in crate::check) fn reported_by(&self, master: NodeId, slave: NodeId, by: Time) -> u64 {
        let timeline = self.timelines.get(&master);
        let reports = timeline.into_iter().flat_map(|t| &t.replicated);
        let reports = reports.filter(|(at, _, from)| *at <= by && *from == slave);
        reports.map(|(_, offset, _)| *offset).max().unwrap_or(0)
    }

    /// Whether `node` lost power while its log reached past what it had flushed, and its next
    /// recovery kept bytes past that flushed position: a page torn at the power loss may be
    /// among them.
    pub(in crate::check) fn kept_unflushed_tail(&self, node: NodeId) -> bool {
        let Some(timeline) = self.timelines.get(&node) else {
            return false;
        };
        let power_losses = timeline
            .stops
            .iter()
            .filter(|(_, how)| matches!(how, Stop::PowerOff | Stop::OsCrash));
        power_losses.into_iter().any(|(at, _)| {
            let recovery = timeline.recoveries.iter().find(|(t, _, _)| t >= at);
            recovery.is_some_and(|(_, _, max_offset)| *max_offset > timeline.flushed_by(*at))
        })
    }

    /// Whether a byte of `node`'s commitlog rotted in `from..to` (any byte: `None`).
    pub(in crate::check) fn rotted(&self, node: NodeId, range: Option<(u64, u64)>) -> bool {
        let (from, to) = range.unwrap_or((0, u64::MAX));
        let timeline = self.timelines.get(&node);
        let mut corruptions = timeline.into_iter().flat_map(|t| &t.corruptions);
        corruptions.any(|(_, offset)| (from..to).contains(offset))
    }

    /// The first power or disk loss of `node` at or after `since`: (when, how).
    pub(crate) fn loss_after(&self, node: NodeId, since: Time) -> Option<(Time, Stop)> {
        let timeline = self.timelines.get(&node)?;
        let loss = timeline.losses.iter().find(|loss| loss.at >= since)?;
        Some((loss.at, loss.how))
    }

    /// When `node`'s flushed position first passed `end` at or after `since`, by the end of
    /// the millisecond of its next loss.
    pub(crate) fn flushed_past(&self, node: NodeId, since: Time, end: u64) -> Option<Time> {
        let timeline = self.timelines.get(&node)?;
        let resets: Vec<usize> = timeline.losses.iter().map(|l| l.flushes_before).collect();
        let within = (since, self.until(node, since));
        let flushes = &timeline.flushes;
        let (found, _) = first_past(flushes, |flush| *flush, &resets, within, end)?;
        Some(flushes[found].0)
    }

    /// When a slave of `node` first reported holding its log past `end` at or after `since`,
    /// by the end of the millisecond of the node's next loss, and which slave's report set
    /// the position that did.
    pub(crate) fn replicated_past(
        &self,
        node: NodeId,
        since: Time,
        end: u64,
    ) -> Option<(Time, NodeId)> {
        let timeline = self.timelines.get(&node)?;
        let resets: Vec<usize> = timeline.losses.iter().map(|l| l.reports_before).collect();
        let within = (since, self.until(node, since));
        let reports = &timeline.replicated;
        let position = |(at, offset, _): &(Time, u64, NodeId)| (*at, *offset);
        let (found, best) = first_past(reports, position, &resets, within, end)?;
        Some((reports[found].0, reports[best].2))
    }

    /// Just past the millisecond of `node`'s first loss at or after `since` (no loss: never).
    fn until(&self, node: NodeId, since: Time) -> Time {
        self.loss_after(node, since)
            .map_or(Time::from_ms(u64::MAX), |(at, _)| at.plus_ms(1))
    }

    pub(crate) fn observe_sim(&mut self, at: Time, node: Option<NodeId>, event: &SimEvent) {
        let Some(timeline) = node.and_then(|node| self.timelines.get_mut(&node)) else {
            return;
        };
        match event {
            SimEvent::Stopped { how } => {
                timeline.stops.push((at, *how));
                if how.loses_page_cache() {
                    timeline.losses.push(Loss {
                        at,
                        how: *how,
                        flushes_before: timeline.flushes.len(),
                        reports_before: timeline.replicated.len(),
                    });
                }
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

    pub(crate) fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        if let Event::ReplicaStarted { broker, offset } = event {
            for node in self.groups.get(broker).into_iter().flatten() {
                if let Some(timeline) = self.timelines.get_mut(node) {
                    timeline.replica_starts.push((at, *offset));
                }
            }
            return;
        }
        if let (Event::DLedgerLeader { group, .. }, Some(node)) = (event, node) {
            let leaderships = self.leaderships.get_mut(group);
            leaderships.into_iter().for_each(|l| l.push((at, node)));
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

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: NodeId = NodeId(0);
    const SLAVE_1: NodeId = NodeId(1);
    const SLAVE_2: NodeId = NodeId(2);

    fn ms(at: u64) -> Time {
        Time::from_ms(at)
    }

    /// A group of a master and two slaves, with the master's flushes, its slaves' reports
    /// (slave, offset) and its stops, each at its time and in the order given.
    fn facts(events: &[(u64, Result<Event, Stop>)]) -> BrokerFacts {
        let nodes = vec![MASTER, SLAVE_1, SLAVE_2];
        let timelines = nodes.iter().map(|n| (*n, BrokerTimeline::default()));
        let mut facts = BrokerFacts {
            timelines: timelines.collect(),
            groups: BTreeMap::from([("broker-a".to_string(), nodes)]),
            leaderships: BTreeMap::new(),
        };
        for (at, event) in events {
            match event {
                Ok(event) => facts.observe(ms(*at), Some(MASTER), event),
                Err(how) => {
                    facts.observe_sim(ms(*at), Some(MASTER), &SimEvent::Stopped { how: *how })
                }
            }
        }
        facts
    }

    fn flushed(offset: u64) -> Result<Event, Stop> {
        let broker = "broker-a".to_string();
        Ok(Event::Flushed { broker, offset })
    }

    fn reported(slave: NodeId, offset: u64) -> Result<Event, Stop> {
        let broker = "broker-a".to_string();
        let master_offset = offset;
        Ok(Event::Replicated {
            broker,
            slave,
            offset,
            master_offset,
        })
    }

    #[test]
    fn a_position_passes_an_end_at_the_first_flush_whose_highest_position_does() {
        let facts = facts(&[(5, flushed(200)), (12, flushed(150)), (20, flushed(400))]);
        assert_eq!(facts.flushed_past(MASTER, ms(10), 180), Some(ms(12)));
        assert_eq!(facts.flushed_past(MASTER, ms(10), 300), Some(ms(20)));
        assert_eq!(facts.flushed_past(MASTER, ms(10), 500), None);
        assert_eq!(facts.flushed_past(SLAVE_1, ms(0), 1), None);
    }

    #[test]
    fn a_loss_starts_the_positions_afresh_and_ends_the_search_after_its_millisecond() {
        let facts = facts(&[
            (5, flushed(200)),
            (8, flushed(210)),
            (8, Err(Stop::PowerOff)),
            (8, flushed(100)),
            (12, flushed(150)),
            (15, Err(Stop::Kill)),
            (16, flushed(180)),
        ]);
        assert_eq!(
            facts.loss_after(MASTER, ms(3)),
            Some((ms(8), Stop::PowerOff))
        );
        assert_eq!(facts.loss_after(MASTER, ms(9)), None);
        assert_eq!(facts.flushed_past(MASTER, ms(3), 205), Some(ms(8)));
        assert_eq!(facts.flushed_past(MASTER, ms(3), 300), None);
        assert_eq!(facts.flushed_past(MASTER, ms(9), 180), Some(ms(16)));
        assert_eq!(facts.flushed_past(MASTER, ms(9), 200), None);
    }

    #[test]
    fn a_copy_is_credited_to_the_slave_that_first_reported_the_highest_position() {
        let facts = facts(&[
            (25, reported(SLAVE_1, 100)),
            (26, reported(SLAVE_2, 100)),
            (27, reported(SLAVE_2, 50)),
            (30, reported(SLAVE_2, 120)),
            (40, Err(Stop::DiskLoss)),
            (50, reported(SLAVE_1, 60)),
        ]);
        let past = |since, end| facts.replicated_past(MASTER, ms(since), end);
        assert_eq!(past(10, 100), Some((ms(25), SLAVE_1)));
        assert_eq!(past(27, 90), Some((ms(27), SLAVE_1)));
        assert_eq!(past(10, 110), Some((ms(30), SLAVE_2)));
        assert_eq!(past(41, 100), None);
        assert_eq!(past(41, 60), Some((ms(50), SLAVE_1)));
    }
}

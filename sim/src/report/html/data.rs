//! The report's payload: the run as compact JSON for the page's script. Lanes, faults,
//! restarts, DLedger leaders per term and witnesses here; arrows in `packets`, plots in
//! `series`, stories in `story`.

use super::{packets, series};
use crate::check::Anomaly;
use crate::history::{History, Phase, Recorded, SimEvent};
use crate::report::story::{Lives, Step, StepKind, numbered_anomalies, parse_id};
use crate::report::{Summary, replay_command};
use crate::run::RunResult;
use crate::scenario::{BrokerGroup, FaultSpec, NodeRole, Scenario};
use model::NodeId;
use model::event::Event;
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many bytes of life stories are embedded (the rest: `sim explain`).
const STORY_BYTES: usize = 4 << 20;

/// At most this many of the checker's witnesses become markers.
pub const MAX_WITNESSES: usize = 2_000;

/// One lane of the diagram.
#[derive(Serialize)]
pub struct Lane {
    pub name: String,
    /// `namesrv`, `broker`, `producer`, `consumer` or `auditor`.
    pub kind: &'static str,
    /// The lane's group: the broker group, the producer or consumer group.
    pub group: String,
}

/// A fault as a span (or, without an end, a moment) on a lane.
#[derive(Serialize)]
pub struct FaultSpan {
    pub node: u16,
    pub kind: String,
    pub from: u64,
    pub to: Option<u64>,
    pub label: String,
}

/// A checker witness, placed on the lane of the node it concerns.
#[derive(Serialize)]
pub struct Witness {
    pub kind: &'static str,
    pub message: Option<String>,
    pub at: u64,
    pub node: Option<u16>,
    pub cause: Option<&'static str>,
    pub explanation: String,
}

/// The anomalies of one kind and cause, counted, with the first one's story: what the checker
/// found, in words, at first glance.
#[derive(Serialize)]
pub struct CauseCount {
    pub kind: &'static str,
    pub cause: Option<&'static str>,
    pub count: usize,
    /// When the first and the last of them happened (a loss: its acknowledgement).
    pub first_ms: u64,
    pub last_ms: u64,
    pub example: String,
    /// The first of them among the witnesses (0-based), to select it.
    pub witness: Option<usize>,
}

/// What a SEND_OK from the group promises, in words, by its flush, role and replicas.
fn promise(group: &crate::scenario::resolved::BrokerGroup) -> String {
    use crate::scenario::schema::{FlushMode, MasterRole};
    let name = &group.name;
    if let Some(dledger) = &group.dledger {
        return format!(
            "a SEND_OK from {name} (DLedger, {} members) promises that a quorum holds the entry \
             in its page cache, flushed every {} ms",
            group.nodes.len(),
            dledger.flush_interval_ms
        );
    }
    let slaves = group.nodes.len() - 1;
    let (flush, disk) = match group.flush {
        FlushMode::Sync => ("SYNC_FLUSH", "the master's disk"),
        FlushMode::Async => ("ASYNC_FLUSH", "the master's page cache only"),
    };
    match (group.role, slaves) {
        (MasterRole::SyncMaster, 1..) => format!(
            "a SEND_OK from {name} ({flush}, SYNC_MASTER, {slaves} slave(s)) promises {disk} and \
             a slave's copy"
        ),
        _ => format!(
            "a SEND_OK from {name} ({flush}, ASYNC_MASTER, {slaves} slave(s)) promises {disk}"
        ),
    }
}

/// Every anomaly grouped by kind and cause, in the checker's order of first appearance.
fn causes(all: &[Anomaly], shown: &[Anomaly]) -> Vec<CauseCount> {
    let mut groups: Vec<CauseCount> = Vec::new();
    for a in all {
        let (kind, cause) = (a.kind.name(), a.cause);
        match groups
            .iter_mut()
            .find(|g| g.kind == kind && g.cause == cause)
        {
            Some(group) => {
                group.count += 1;
                group.first_ms = group.first_ms.min(a.at_ms);
                group.last_ms = group.last_ms.max(a.at_ms);
            }
            None => {
                let message = a
                    .message
                    .as_deref()
                    .map_or(String::new(), |m| format!("{m}: "));
                let witness = shown
                    .iter()
                    .position(|s| s.kind == a.kind && s.cause == a.cause && s.message == a.message);
                groups.push(CauseCount {
                    kind,
                    cause,
                    count: 1,
                    first_ms: a.at_ms,
                    last_ms: a.at_ms,
                    example: format!("{message}{}", a.explanation),
                    witness,
                });
            }
        }
    }
    groups
}

/// A member's leadership of its DLedger group in one term: from its announcement
/// (`DLedgerLeader`) until the group's next leader of a higher term or its node's stop,
/// whichever comes first; `to_ms: None` is the end of the run.
#[derive(Serialize)]
pub struct LeaderTerm {
    pub term: u64,
    /// The leader's lane (its node).
    pub lane: u16,
    /// The leader's node name (`<group>-n<k>`).
    pub member: String,
    pub from_ms: u64,
    pub to_ms: Option<u64>,
}

/// One DLedger group's leaders, term by term, for the lanes of its members.
#[derive(Serialize)]
pub struct GroupTerms {
    pub group: String,
    /// The lanes of the group's members, `<group>-n0` first.
    pub lanes: Vec<u16>,
    /// Every leadership announced, in the order announced.
    pub terms: Vec<LeaderTerm>,
}

#[derive(Serialize)]
pub struct Payload {
    pub summary: Summary,
    pub cell: Option<String>,
    /// The scenario's question (its `summary`) and its lesson (`teaches`), shown first.
    pub question: String,
    /// The questions users ask that this scenario answers (`report::questions`).
    pub asked: Vec<String>,
    pub teaches: String,
    pub replay: String,
    pub digest: String,
    pub text: String,
    pub end_ms: u64,
    pub lanes: Vec<Lane>,
    pub arrows: packets::Arrows,
    pub faults: Vec<FaultSpan>,
    pub restarts: Vec<(u16, u64)>,
    /// Per DLedger group (by name), who led it in which term.
    pub leader_terms: Vec<GroupTerms>,
    pub witnesses: Vec<Witness>,
    /// Every anomaly, grouped by kind and cause.
    pub causes: Vec<CauseCount>,
    /// What a SEND_OK from each broker group promises, by the group's settings.
    pub promises: BTreeMap<String, String>,
    /// Anomalies the checker reported (markers: the first `MAX_WITNESSES`).
    pub witnesses_total: usize,
    pub stories: BTreeMap<String, Vec<Step>>,
    pub stories_total: usize,
    pub plots: series::Plots,
    /// The operation timeline's bars.
    pub ops: super::ops::Operations,
}

/// Builds the payload of a finished run (`None` if it crashed: there is no history to draw).
pub fn payload(scenario: &Scenario, run: &RunResult) -> Option<Payload> {
    let finished = run.result.as_ref().ok()?;
    let outcome = &finished.outcome;
    let summary = Summary::of(scenario, run);
    let packets = outcome.packets.as_deref();
    let lives = Lives::build(
        scenario,
        &outcome.history,
        packets,
        &finished.report.anomalies,
    );
    let all = &finished.report.anomalies;
    let shown = numbered_anomalies(finished, MAX_WITNESSES);
    let witnesses = witnesses(&shown, &lives);
    let (stories, stories_total) = stories(&lives, &witnesses);
    Some(Payload {
        cell: scenario.cell.clone(),
        question: scenario.summary.clone(),
        asked: (crate::report::questions::of(&scenario.name))
            .map(|q| match q.asked {
                Some(issue) => format!("{} (apache/rocketmq {issue})", q.question),
                None => q.question.to_string(),
            })
            .collect(),
        teaches: scenario.teaches.clone(),
        replay: replay_command(scenario, run.seed),
        digest: outcome.digest.clone(),
        text: text_without_wall_clock(&crate::report::render(scenario, run), outcome),
        end_ms: outcome.end.as_ms(),
        lanes: lanes(scenario),
        arrows: packets::arrows(packets.unwrap_or(&[])),
        faults: faults(scenario, run.seed, &outcome.history),
        restarts: restarts(&outcome.history),
        leader_terms: leader_terms(scenario, &outcome.history),
        witnesses,
        causes: causes(all, &shown),
        promises: (scenario.broker_groups.iter())
            .map(|g| (g.name.clone(), promise(g)))
            .collect(),
        witnesses_total: all.len(),
        stories,
        stories_total,
        plots: series::plots(scenario, &outcome.history),
        ops: super::ops::operations(&outcome.history),
        summary,
    })
}

/// The text report with its wall-clock figures (wall time, speed) left out, so that the page
/// is the same for the same seed.
fn text_without_wall_clock(text: &str, outcome: &crate::runtime::Outcome) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with("simulated ") && line.contains(" wall ") {
            let simulated = model::time::format_ms(outcome.end.as_ms());
            let (events, digest) = (outcome.events_handled, &outcome.digest);
            out.push_str(&format!(
                "simulated {simulated}  events {events}  digest {digest}"
            ));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn lanes(scenario: &Scenario) -> Vec<Lane> {
    let lane = |name: &str, kind, group: String| Lane {
        name: name.to_string(),
        kind,
        group,
    };
    scenario
        .nodes
        .iter()
        .map(|node| match node.role {
            NodeRole::NameServer => lane(&node.name, "namesrv", "name servers".into()),
            NodeRole::Broker { group, .. } => lane(
                &node.name,
                "broker",
                scenario.broker_groups[group].name.clone(),
            ),
            NodeRole::Producer { producer, .. } => lane(
                &node.name,
                "producer",
                scenario.producers[producer].group.clone(),
            ),
            NodeRole::Consumer { group, .. } => lane(
                &node.name,
                "consumer",
                scenario.consumers[group].group.clone(),
            ),
            NodeRole::Auditor => lane(&node.name, "auditor", "auditor".into()),
            NodeRole::Operator => lane(&node.name, "operator", "operator".into()),
        })
        .collect()
}

/// The kind of each fault (the file's, then the swarm's), as scenario files name it, and the
/// nodes a network rule touches.
fn fault_table(scenario: &Scenario, seed: u64) -> BTreeMap<usize, (String, Vec<NodeId>)> {
    let mut table = BTreeMap::new();
    let drawn = crate::swarm::draw(scenario, seed);
    for fault in scenario.faults.iter().chain(&drawn) {
        let nodes = match &fault.spec {
            FaultSpec::Partition { a, b, .. } => [a.clone(), b.clone()].concat(),
            FaultSpec::Drop { from, to, .. }
            | FaultSpec::Delay { from, to, .. }
            | FaultSpec::Bandwidth { from, to, .. } => ends(from, to),
            _ => Vec::new(),
        };
        // Descriptions start with the kind (a swarm's after "swarm: ").
        let described = fault.description.trim_start_matches("swarm: ");
        let kind = described.split_whitespace().next().unwrap_or("fault");
        table.insert(fault.index, (kind.to_string(), nodes));
    }
    table
}

/// Faults that happen at a moment rather than last: drawn as points.
const MOMENTS: [&str; 5] = ["bit-rot", "promote", "demote", "update-topic", "query-keys"];

fn ends(from: &Option<Vec<NodeId>>, to: &Option<Vec<NodeId>>) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = from.iter().chain(to).flatten().copied().collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// Stops (until the next start), pauses, and every fault rule, as spans on their lanes.
fn faults(scenario: &Scenario, seed: u64, history: &History) -> Vec<FaultSpan> {
    let table = fault_table(scenario, seed);
    let everyone: Vec<NodeId> = (0..scenario.nodes.len() as u16).map(NodeId).collect();
    let mut spans: Vec<FaultSpan> = Vec::new();
    let mut open: BTreeMap<(u16, String), usize> = BTreeMap::new();
    let mut rules: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for entry in history.entries() {
        let Recorded::Sim(event) = &entry.event else {
            continue;
        };
        let at = entry.at.as_ms();
        let node = entry.node.map(|n| n.0);
        let begin = |node: u16, kind: String, label: String, spans: &mut Vec<FaultSpan>| {
            spans.push(FaultSpan {
                node,
                kind,
                from: at,
                to: None,
                label,
            });
            spans.len() - 1
        };
        match (event, node) {
            (SimEvent::Stopped { how }, Some(n)) => {
                let i = begin(n, how.name().into(), how.name().into(), &mut spans);
                open.insert((n, "down".into()), i);
            }
            (SimEvent::Started, Some(n)) => close(&mut spans, open.remove(&(n, "down".into())), at),
            (SimEvent::Paused, Some(n)) => {
                let i = begin(n, "pause".into(), "paused".into(), &mut spans);
                open.insert((n, "pause".into()), i);
            }
            (SimEvent::Resumed, Some(n)) => {
                close(&mut spans, open.remove(&(n, "pause".into())), at)
            }
            (SimEvent::FaultOn { fault, description }, _) => {
                let (kind, targets) = table.get(fault).cloned().unwrap_or_default();
                let targets = match node {
                    Some(n) => vec![NodeId(n)],
                    None if targets.is_empty() => everyone.clone(),
                    None => targets,
                };
                let ids = targets
                    .iter()
                    .map(|t| begin(t.0, kind.clone(), description.clone(), &mut spans))
                    .collect();
                rules.insert(*fault, ids);
            }
            (SimEvent::FaultOff { fault }, _) => {
                for i in rules.remove(fault).unwrap_or_default() {
                    close(&mut spans, Some(i), at);
                }
            }
            // A fault that lasts until the heal ends there.
            (SimEvent::Phase { phase: Phase::Heal }, _) => {
                for i in std::mem::take(&mut rules).into_values().flatten() {
                    if !MOMENTS.contains(&spans[i].kind.as_str()) {
                        close(&mut spans, Some(i), at);
                    }
                }
            }
            _ => {}
        }
    }
    // Stops nobody ended last until the end; moments (bit rot, a role switch) stay points.
    let end = history.end().as_ms();
    for i in open.into_values() {
        close(&mut spans, Some(i), end);
    }
    spans
}

fn close(spans: &mut [FaultSpan], index: Option<usize>, at: u64) {
    if let Some(span) = index.and_then(|i| spans.get_mut(i)) {
        span.to = Some(at.max(span.from));
    }
}

/// Every start after the first boot.
fn restarts(history: &History) -> Vec<(u16, u64)> {
    let mut stopped = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for entry in history.entries() {
        let Some(node) = entry.node else { continue };
        match entry.sim() {
            Some(SimEvent::Stopped { .. }) => {
                stopped.insert(node);
            }
            Some(SimEvent::Started) if stopped.remove(&node) => {
                out.push((node.0, entry.at.as_ms()))
            }
            _ => {}
        }
    }
    out
}

/// Every DLedger group's leaders per term, from the members' `DLedgerLeader` announcements
/// and the harness's stops.
fn leader_terms(scenario: &Scenario, history: &History) -> Vec<GroupTerms> {
    let mut groups: BTreeMap<&str, GroupTerms> = scenario
        .broker_groups
        .iter()
        .filter(|group| group.is_dledger())
        .map(|group| (group.name.as_str(), GroupTerms::of(group)))
        .collect();
    if groups.is_empty() {
        return Vec::new();
    }
    for entry in history.entries() {
        let at = entry.at.as_ms();
        match (&entry.event, entry.node) {
            (
                Recorded::Model(Event::DLedgerLeader {
                    group,
                    member,
                    term,
                }),
                node,
            ) => {
                if let Some(terms) = groups.get_mut(group.as_str()) {
                    let lane = node.map(|n| n.0).or_else(|| terms.member_lane(member));
                    if let Some(lane) = lane {
                        terms.elected(scenario, lane, *term, at);
                    }
                }
            }
            (Recorded::Sim(SimEvent::Stopped { .. }), Some(node)) => {
                for terms in groups.values_mut() {
                    terms.stopped(node.0, at);
                }
            }
            _ => {}
        }
    }
    groups.into_values().collect()
}

impl GroupTerms {
    /// A group with no leader yet.
    fn of(group: &BrokerGroup) -> GroupTerms {
        GroupTerms {
            group: group.name.clone(),
            lanes: group.nodes.iter().map(|n| n.0).collect(),
            terms: Vec::new(),
        }
    }

    /// The lane of DLedger member `n<k>` (the `k`-th node of the group).
    fn member_lane(&self, member: &str) -> Option<u16> {
        let k: usize = member.strip_prefix('n')?.parse().ok()?;
        self.lanes.get(k).copied()
    }

    /// `lane` leads from `at` in `term`: the leaders of lower terms still open end here.
    fn elected(&mut self, scenario: &Scenario, lane: u16, term: u64, at: u64) {
        for open in self.terms.iter_mut().filter(|t| t.to_ms.is_none()) {
            if open.term < term {
                open.to_ms = Some(at);
            }
        }
        let member = scenario
            .nodes
            .get(usize::from(lane))
            .map_or_else(|| format!("node {lane}"), |node| node.name.clone());
        self.terms.push(LeaderTerm {
            term,
            lane,
            member,
            from_ms: at,
            to_ms: None,
        });
    }

    /// `lane`'s node stopped at `at`: its leadership, if any, ends here.
    fn stopped(&mut self, lane: u16, at: u64) {
        for open in self.terms.iter_mut() {
            if open.lane == lane && open.to_ms.is_none() {
                open.to_ms = Some(at);
            }
        }
    }
}

/// The summary's witnesses, each on the lane of the message's last step before the witness.
fn witnesses(anomalies: &[Anomaly], lives: &Lives) -> Vec<Witness> {
    anomalies
        .iter()
        .map(|a| {
            let story = a
                .message
                .as_deref()
                .and_then(parse_id)
                .and_then(|id| lives.story(id));
            let node = story.and_then(|steps| {
                // A loss belongs to the broker that stored the message.
                let stored = steps.iter().find(|s| s.kind == StepKind::Store);
                if a.kind.name().starts_with("lost") && stored.is_some() {
                    return stored.and_then(|s| s.node);
                }
                let placed = steps.iter().filter(|s| s.node.is_some());
                let before = placed.clone().rfind(|s| s.at_ms <= a.at_ms);
                before.or(placed.clone().next()).and_then(|s| s.node)
            });
            Witness {
                kind: a.kind.name(),
                message: a.message.clone(),
                at: a.at_ms,
                node,
                cause: a.cause,
                explanation: a.explanation.clone(),
            }
        })
        .collect()
}

/// Every witness's story, then every message's in id order while they fit in `STORY_BYTES`;
/// and how many messages the run had.
fn stories(lives: &Lives, witnesses: &[Witness]) -> (BTreeMap<String, Vec<Step>>, usize) {
    let mut out = BTreeMap::new();
    let mut bytes = 0;
    let first = witnesses
        .iter()
        .filter_map(|w| w.message.as_deref().and_then(parse_id));
    for id in first.chain(lives.ids()) {
        let key = id.to_string();
        if bytes > STORY_BYTES || out.contains_key(&key) {
            continue;
        }
        if let Some(steps) = lives.story(id) {
            bytes += steps.iter().map(|s| s.text.len() + 60).sum::<usize>();
            out.insert(key, steps);
        }
    }
    (out, lives.ids().count())
}

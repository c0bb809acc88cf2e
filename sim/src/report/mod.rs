//! What a run reports: the [`Summary`] (stable, serializable: the JSON output and the golden
//! snapshots), its human rendering, and the files `--out` writes.

pub mod diff;
pub mod export;
pub mod html;
pub mod questions;
pub mod story;
mod text;
pub mod unmeasured;

pub use text::render;

use crate::check::{
    Anomaly, ExpectationResult, GroupFigures, ReplicaFigures, RouteFigures, SendFigures, Verdict,
    describe_samples,
};
use crate::exit::Exit;
use crate::run::RunResult;
use crate::scenario::Scenario;
use serde::{Serialize, Serializer};
use std::io::Write as _;

/// How many witnesses of each anomaly kind a summary keeps.
pub const WITNESSES_PER_KIND: usize = 5;

/// Route figures as ranges, for reading and for snapshots.
#[derive(Clone, Debug, Serialize)]
pub struct RouteSummary {
    pub removal_after_kill: String,
    pub removal_after_silence: String,
    pub route_catch_up: String,
}

impl RouteSummary {
    pub fn has_samples(&self) -> bool {
        [
            &self.removal_after_kill,
            &self.removal_after_silence,
            &self.route_catch_up,
        ]
        .iter()
        .any(|s| s.as_str() != "none")
    }

    fn of(routes: &RouteFigures) -> RouteSummary {
        RouteSummary {
            removal_after_kill: describe_samples(&routes.removal_after_kill_ms),
            removal_after_silence: describe_samples(&routes.removal_after_silence_ms),
            route_catch_up: describe_samples(&routes.route_catch_up_ms),
        }
    }
}

/// The invariant summary of one run: everything but wall-clock figures. A run whose read-back
/// did not finish serializes the figures it could not measure as `null` (`unmeasured`).
#[derive(Clone, Debug, Serialize)]
#[serde(remote = "Self")]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub verdict: Verdict,
    /// Why the verdict is unknown, or the panic that ended the run.
    pub problem: Option<String>,
    pub simulated_ms: u64,
    pub expectations: Vec<ExpectationResult>,
    pub sends: Option<SendFigures>,
    pub consumers: Vec<GroupFigures>,
    pub routes: Option<RouteSummary>,
    /// Per master with slaves: replication lag.
    pub replication: Vec<ReplicaFigures>,
    /// Witnesses, a few of each kind.
    pub anomalies: Vec<Anomaly>,
    pub anomaly_totals: Vec<(String, usize)>,
    /// `anomalies` keeps a few of each kind and some kind had more: `anomaly_totals` counts
    /// them all, and `--out` writes every one to `anomalies.jsonl`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub anomalies_truncated: bool,
    /// The run ended before the read-back finished: what is stored, and so every loss figure,
    /// could not be measured (the counts are what was seen, not what is true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unmeasured: bool,
    /// The faults this seed drew from the scenario's `[swarm]`, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub swarm: Vec<String>,
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !self.unmeasured {
            return Summary::serialize(self, serializer);
        }
        let value = Summary::serialize(self, serde_json::value::Serializer);
        let mut value = value.map_err(serde::ser::Error::custom)?;
        unmeasured::forget(&mut value);
        value.serialize(serializer)
    }
}

/// The faults a seed drew from the scenario's `[swarm]` (empty without one).
pub fn swarm_plan(scenario: &Scenario, seed: u64) -> Vec<String> {
    crate::swarm::draw(scenario, seed)
        .into_iter()
        .map(|fault| fault.description)
        .collect()
}

/// The replay command of a seed.
pub fn replay_command(scenario: &Scenario, seed: u64) -> String {
    replay_line(&scenario.file, scenario.cell.as_deref(), seed)
}

/// The command that replays `seed` of the scenario in `file` (one cell of it, if given).
pub fn replay_line(file: &str, cell: Option<&str>, seed: u64) -> String {
    match cell {
        Some(cell) => format!("sim run {file} --cell {cell} --seed {seed}"),
        None => format!("sim run {file} --seed {seed}"),
    }
}

impl Summary {
    pub fn of(scenario: &Scenario, run: &RunResult) -> Summary {
        match &run.result {
            Err(panic) => Summary {
                scenario: scenario.name.clone(),
                seed: run.seed,
                verdict: Verdict::Fail,
                problem: Some(match panic.invariant {
                    Some(_) => format!("the model broke an invariant: {panic}"),
                    None => format!("the simulation panicked: {panic}"),
                }),
                simulated_ms: 0,
                expectations: Vec::new(),
                sends: None,
                consumers: Vec::new(),
                routes: None,
                replication: Vec::new(),
                anomalies: Vec::new(),
                anomaly_totals: Vec::new(),
                anomalies_truncated: false,
                unmeasured: true,
                swarm: swarm_plan(scenario, run.seed),
            },
            Ok(finished) => {
                let report = &finished.report;
                let unmeasured = finished.outcome.ending != crate::history::Ending::Complete;
                let mut totals: Vec<(String, usize)> = Vec::new();
                let figures = if unmeasured {
                    unmeasured::figures()
                } else {
                    Vec::new()
                };
                let measured =
                    |a: &&Anomaly| !unmeasured || !unmeasured::witness_unmeasured(a.kind, &figures);
                for anomaly in report.anomalies.iter().filter(measured) {
                    let name = anomaly.kind.name().to_string();
                    match totals.iter_mut().find(|(kind, _)| *kind == name) {
                        Some((_, count)) => *count += 1,
                        None => totals.push((name, 1)),
                    }
                }
                // A message the read-back never reached is not a witness of a loss.
                let mut anomalies = witnesses(&report.anomalies);
                anomalies.retain(|a| measured(&a));
                let total: usize = totals.iter().map(|(_, count)| count).sum();
                let anomalies_truncated = anomalies.len() < total;
                Summary {
                    scenario: scenario.name.clone(),
                    seed: run.seed,
                    verdict: report.verdict,
                    problem: report.liveness.clone(),
                    simulated_ms: finished.outcome.end.as_ms(),
                    expectations: report.expectations.clone(),
                    sends: Some(report.sends.clone()),
                    consumers: report.consumers.clone(),
                    routes: Some(RouteSummary::of(&report.routes)),
                    replication: report.replication.clone(),
                    anomalies,
                    anomaly_totals: totals,
                    anomalies_truncated,
                    unmeasured,
                    swarm: swarm_plan(scenario, run.seed),
                }
            }
        }
    }
}

/// A few witnesses of each anomaly kind, taken in turn from each of its causes (so that a
/// rare cause shows beside a common one), in the checker's order.
fn witnesses(anomalies: &[Anomaly]) -> Vec<Anomaly> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut start = 0;
    while start < anomalies.len() {
        let kind = anomalies[start].kind;
        let end = start
            + anomalies[start..]
                .iter()
                .take_while(|a| a.kind == kind)
                .count();
        // Per cause, in order of first appearance: the positions of its anomalies.
        let mut causes: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
        for (index, anomaly) in anomalies.iter().enumerate().take(end).skip(start) {
            match causes.iter_mut().find(|(c, _)| *c == anomaly.cause) {
                Some((_, list)) => list.push(index),
                None => causes.push((anomaly.cause, vec![index])),
            }
        }
        let mut picked = Vec::new();
        let mut round = 0;
        while picked.len() < WITNESSES_PER_KIND && picked.len() < end - start {
            for (_, list) in &causes {
                if let Some(index) = list.get(round)
                    && picked.len() < WITNESSES_PER_KIND
                {
                    picked.push(*index);
                }
            }
            round += 1;
        }
        picked.sort_unstable();
        chosen.extend(picked);
        start = end;
    }
    chosen.into_iter().map(|i| anomalies[i].clone()).collect()
}

/// `anomalies.jsonl`: every anomaly of a kind `anomaly_totals` counts (an unfinished
/// read-back's unmeasured kinds are left out, as in the summary), in the checker's order.
fn write_anomalies(
    dir: &std::path::Path,
    summary: &Summary,
    anomalies: &[Anomaly],
) -> std::io::Result<()> {
    let counted = |a: &&Anomaly| {
        summary
            .anomaly_totals
            .iter()
            .any(|(k, _)| k == a.kind.name())
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("anomalies.jsonl"))?);
    for anomaly in anomalies.iter().filter(counted) {
        serde_json::to_writer(&mut out, anomaly).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// The exit code of a run: pass, fail, liveness (did not drain, or over budget), a violated
/// model invariant, or a bug (the simulation panicked).
pub fn exit_code(run: &RunResult) -> Exit {
    match &run.result {
        Err(crash) if crash.invariant.is_some() => Exit::Invariant,
        Err(_) => Exit::Bug,
        Ok(finished) => match finished.report.verdict {
            Verdict::Pass => Exit::Pass,
            Verdict::Fail => Exit::Fail,
            Verdict::Unknown => Exit::Liveness,
        },
    }
}

/// Writes `summary.json`, `anomalies.jsonl` (every anomaly the summary counts, one a line),
/// `history.jsonl`, (if kept) `trace.log`, `report.html`, `history.edn` and `shiviz.log` into
/// `dir`.
pub fn write_files(
    dir: &std::path::Path,
    scenario: &Scenario,
    run: &RunResult,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let summary = Summary::of(scenario, run);
    let mut json = serde_json::to_value(&summary).map_err(std::io::Error::other)?;
    if let (Ok(finished), Some(object)) = (&run.result, json.as_object_mut()) {
        object.insert("digest".into(), finished.outcome.digest.clone().into());
        object.insert("events".into(), finished.outcome.events_handled.into());
        object.insert("replay".into(), replay_command(scenario, run.seed).into());
    }
    let text = serde_json::to_string_pretty(&json).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("summary.json"), text + "\n")?;
    if let Ok(finished) = &run.result {
        write_anomalies(dir, &summary, &finished.report.anomalies)?;
        let mut history =
            std::io::BufWriter::new(std::fs::File::create(dir.join("history.jsonl"))?);
        finished
            .outcome
            .history
            .write_jsonl(&finished.outcome.names, &mut history)?;
        if let Some(trace) = &finished.outcome.trace {
            std::fs::write(dir.join("trace.log"), trace.join("\n") + "\n")?;
        }
        if let Some(page) = html::render(scenario, run) {
            std::fs::write(dir.join("report.html"), page)?;
        }
        let outcome = &finished.outcome;
        let mut edn = std::io::BufWriter::new(std::fs::File::create(dir.join("history.edn"))?);
        export::edn::write(&outcome.history, &mut edn)?;
        edn.flush()?;
        let mut log = std::io::BufWriter::new(std::fs::File::create(dir.join("shiviz.log"))?);
        let packets = outcome.packets.as_deref().unwrap_or(&[]);
        export::shiviz::write(&outcome.names, &outcome.history, packets, &mut log)?;
        log.flush()?;
    }
    Ok(())
}

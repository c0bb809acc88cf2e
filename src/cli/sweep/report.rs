//! A sweep's closing summary, as text or JSON, from its totals and what it needs to know of
//! the scenario (`Header`); `sim merge` prints the same summary from shard files.

use super::totals::{Totals, cause_names};
use serde::{Deserialize, Serialize};
use sim::report::replay_line;
use sim::scenario::Scenario;
use std::time::Duration;

/// What a sweep's summary says of its scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    /// The path the scenario was read from, as given (replay lines use it).
    pub file: String,
    pub cell: Option<String>,
    pub has_consumers: bool,
}

impl Header {
    pub fn of(scenario: &Scenario) -> Header {
        Header {
            name: scenario.name.clone(),
            file: scenario.file.clone(),
            cell: scenario.cell.clone(),
            has_consumers: !scenario.consumers.is_empty(),
        }
    }

    fn replay(&self, seed: u64) -> String {
        replay_line(&self.file, self.cell.as_deref(), seed)
    }
}

/// How the seeds were run: wall time and workers.
pub struct Effort {
    pub wall: Duration,
    pub jobs: usize,
}

impl Effort {
    fn speed(&self, totals: &Totals) -> f64 {
        totals.simulated_ms as f64 / (self.wall.as_secs_f64() * 1000.0).max(1e-9)
    }
}

/// Prints the summary.
pub fn print(header: &Header, totals: &Totals, effort: &Effort, json: bool) {
    if json {
        outln!("{}", json_report(header, totals, effort));
    } else {
        text_report(header, totals, effort);
    }
}

/// The figures only measured seeds contribute to.
const LOSS_KEYS: [&str; 7] = [
    "seeds_with_loss",
    "lost",
    "lost_unconfirmed",
    "lost_unexplained",
    "duplicated",
    "recovered",
    "consumers",
];

fn json_report(header: &Header, t: &Totals, effort: &Effort) -> String {
    let c = &t.consumers;
    let mut out = serde_json::json!({
        "scenario": header.name,
        "seeds": t.seeds,
        "jobs": effort.jobs,
        "wall_ms": effort.wall.as_millis() as u64,
        "simulated_ms": t.simulated_ms,
        "speed": effort.speed(t),
        "pass": t.pass,
        "fail": t.fail,
        "unknown": t.unknown,
        "panic": t.panic,
        "invariant": t.invariant,
        "unmeasured": t.unmeasured,
        "seeds_with_loss": t.seeds_with_loss,
        "lost": t.lost,
        "lost_unconfirmed": t.lost_unconfirmed,
        "lost_unexplained": t.lost_unexplained,
        "duplicated": t.duplicated,
        "recovered": t.recovered,
        "consumers": header.has_consumers.then(|| serde_json::json!({
            "seeds_with_redelivery": t.seeds_with_redelivery,
            "redelivered": c.redelivered,
            "redelivered_by_cause": cause_names().iter().zip(c.causes).map(|(name, count)| {
                (name.to_string(), serde_json::json!(count))
            }).collect::<serde_json::Map<_, _>>(),
            "seeds_with_reordering": t.seeds_with_reordering,
            "reordered": c.reordered,
            "rewinds": c.rewinds,
            "skipped": c.skipped,
            "dead_lettered": c.dead_lettered,
            "abandoned": c.abandoned,
        })),
        "median_p99_send_latency_ms": t.median_p99_ms(),
        "per_seed": t.per_seed_sorted().iter().map(|s| serde_json::json!({
            "seed": s.seed, "verdict": s.exit_code.verdict(), "digest": s.digest,
        })).collect::<Vec<_>>(),
        "failing_count": t.failing_count,
        "failing": t.failing.iter().map(|r| serde_json::json!({
            "seed": r.seed, "exit_code": r.exit_code.code(), "replay": header.replay(r.seed),
            "expectations": r.failed_expectations, "problem": r.problem,
        })).collect::<Vec<_>>(),
    });
    if t.measured() == 0 {
        // No seed measured them: unknown, not zero.
        for key in LOSS_KEYS {
            out[key] = serde_json::Value::Null;
        }
    }
    serde_json::to_string_pretty(&out).unwrap_or_default()
}

fn text_report(header: &Header, t: &Totals, effort: &Effort) {
    outln!(
        "{}: {} seeds on {} workers in {:.2}s wall ({:.0}x real time)",
        header.name,
        t.seeds,
        effort.jobs,
        effort.wall.as_secs_f64(),
        effort.speed(t)
    );
    outln!(
        "  pass {}  fail {}  unknown {}  panic {}  invariant {}",
        t.pass,
        t.fail,
        t.unknown,
        t.panic,
        t.invariant
    );
    if t.measured() == 0 {
        outln!("  losses and consumer figures: unknown (no seed's read-back finished)");
    } else {
        if t.unmeasured > 0 {
            outln!(
                "  not measured {}: their read-back did not finish; the figures below count the other {}",
                t.unmeasured,
                t.measured()
            );
        }
        measured_lines(header, t);
    }
    failing_lines(header, t);
}

/// The losses and consumer figures of the measured seeds.
fn measured_lines(header: &Header, t: &Totals) {
    outln!(
        "  seeds with loss {}  lost {}  lost_unconfirmed {}  lost_unexplained {}  duplicated {}  recovered {}",
        t.seeds_with_loss,
        t.lost,
        t.lost_unconfirmed,
        t.lost_unexplained,
        t.duplicated,
        t.recovered
    );
    if header.has_consumers {
        consumer_line(t);
    }
}

fn failing_lines(header: &Header, t: &Totals) {
    if !t.failing.is_empty() {
        outln!("failing seeds:");
        for r in t.failing.iter().take(25) {
            let why = r
                .problem
                .clone()
                .unwrap_or_else(|| r.failed_expectations.join("; "));
            outln!("  {}   # {why}", header.replay(r.seed));
        }
        if t.failing_count > 25 {
            outln!("  ... and {} more", t.failing_count - 25);
        }
    }
}

fn consumer_line(t: &Totals) {
    let c = &t.consumers;
    let causes: Vec<String> = cause_names()
        .iter()
        .zip(c.causes)
        .filter(|(_, total)| *total > 0)
        .map(|(name, total)| format!("{} {total}", name.replace('_', " ")))
        .collect();
    outln!(
        "  consumers: redelivered {} in {} seeds ({})  reordered {} in {} seeds  rewinds {}  skipped {}  dead-lettered {}  abandoned {}",
        c.redelivered,
        t.seeds_with_redelivery,
        if causes.is_empty() {
            "none".to_string()
        } else {
            causes.join(", ")
        },
        c.reordered,
        t.seeds_with_reordering,
        c.rewinds,
        c.skipped,
        c.dead_lettered,
        c.abandoned
    );
}

/// Which coverage probes the seeds reached, and how many seeds reached each (`--coverage`).
pub fn coverage(totals: &Totals, json: bool) {
    let probes = model::probe::ALL.iter().enumerate().map(|(index, probe)| {
        let seeds = totals.probe_seeds.get(index).copied().unwrap_or(0);
        (probe, seeds)
    });
    let probes: Vec<_> = probes.collect();
    if json {
        let list: Vec<serde_json::Value> = probes
            .iter()
            .map(|(probe, seeds)| {
                serde_json::json!({ "probe": probe.name, "rare": probe.rare, "seeds": seeds })
            })
            .collect();
        let out = serde_json::json!({ "coverage": list });
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return;
    }
    let reached = probes.iter().filter(|(_, seeds)| *seeds > 0).count();
    outln!("coverage: {reached} of {} probes reached", probes.len());
    for (probe, seeds) in probes {
        let rare = if probe.rare { " (rare)" } else { "" };
        let mark = if seeds == 0 { "never" } else { "" };
        outln!(
            "  {:<24} {seeds:>6} seeds {mark:<5} {}{rare}",
            probe.name,
            probe.what
        );
    }
}

//! Running a scenario for one seed, end to end: build the cluster and the plan, run them on a
//! fresh thread (so no state leaks between seeds), and check the history.

use crate::check::{self, Report};
use crate::cluster;
use crate::disk::DiskConfig;
use crate::runtime::{self, Outcome, Setup};
use crate::scenario::Scenario;
use model::Time;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Keep a line per handled event (for `trace.log` and determinism diffs).
    pub keep_trace: bool,
    /// Count the handled events by kind (`Outcome::event_kinds`, for `sim bench`).
    pub count_event_kinds: bool,
}

/// A finished run: what happened and what the checker made of it.
pub struct Finished {
    pub outcome: Outcome,
    pub report: Report,
    /// Wall-clock time the checker took (part of the run's `wall`).
    pub check_wall: Duration,
}

/// A run that did not finish: a model invariant was violated, or something panicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The violated invariant's name (see `model::invariant`), or `None` for another panic.
    pub invariant: Option<String>,
    /// What the invariant or the panic said.
    pub message: String,
    /// The node step it happened in: (simulated time, node name).
    pub step: Option<(Time, String)>,
}

impl Crash {
    fn of(message: String, step: Option<(Time, String)>) -> Crash {
        match model::invariant::parse(&message) {
            Some((name, detail)) => Crash {
                invariant: Some(name.to_string()),
                message: detail.to_string(),
                step,
            },
            None => Crash {
                invariant: None,
                message,
                step,
            },
        }
    }
}

impl std::fmt::Display for Crash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.invariant {
            Some(name) => write!(f, "invariant {name} violated")?,
            None => f.write_str("panic")?,
        }
        if let Some((at, node)) = &self.step {
            write!(f, " on {node} at {at}")?;
        }
        write!(f, ": {}", self.message)
    }
}

pub struct RunResult {
    pub seed: u64,
    /// The run, or how it crashed (a violated model invariant, or a panic).
    pub result: Result<Finished, Crash>,
    /// Wall-clock time of the simulation and the check.
    pub wall: Duration,
}

impl RunResult {
    /// Simulated milliseconds per wall-clock millisecond.
    pub fn speed(&self) -> Option<f64> {
        let finished = self.result.as_ref().ok()?;
        let wall_ms = self.wall.as_secs_f64() * 1000.0;
        (wall_ms > 0.0).then(|| finished.outcome.end.as_ms() as f64 / wall_ms)
    }
}

fn setup(scenario: &Scenario, seed: u64, options: &RunOptions) -> Setup {
    let plan = cluster::plan(scenario, seed);
    Setup {
        seed,
        nodes: cluster::nodes(scenario, seed, &plan.never_return),
        plan,
        latency_min_ms: scenario.latency.min.0,
        latency_max_ms: scenario.latency.max.0,
        disk: DiskConfig {
            flush_latency_min_ms: scenario.flush_latency.min.0,
            flush_latency_max_ms: scenario.flush_latency.max.0,
            capacities: cluster::disk_capacities(scenario),
            ..DiskConfig::default()
        },
        progress: Arc::new(cluster::ScenarioProgress::of(scenario)),
        keep_trace: options.keep_trace,
        count_event_kinds: options.count_event_kinds,
        event_budget: scenario.budget.events,
        promises: cluster::promise_watch(scenario),
    }
}

/// Runs one seed on a fresh thread and checks it.
pub fn run(scenario: &Scenario, seed: u64, options: &RunOptions) -> RunResult {
    let scenario = scenario.clone();
    let options = options.clone();
    let started = Instant::now();
    let thread = std::thread::Builder::new()
        .name(format!("seed-{seed}"))
        .spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let outcome = runtime::run(setup(&scenario, seed, &options));
                crate::memory::release_freed(outcome.history.len());
                let checking = Instant::now();
                let mut report = check::check(&scenario, &outcome.history, outcome.ending);
                let check_wall = checking.elapsed();
                if let Some(reason) = &outcome.over_budget {
                    report.verdict = check::Verdict::Unknown;
                    report.liveness = Some(reason.clone());
                }
                Finished {
                    outcome,
                    report,
                    check_wall,
                }
            }))
            .map_err(|payload| {
                let step = runtime::host::current_step().map(|(at, node)| {
                    let name = scenario.nodes.get(node.index()).map(|n| n.name.clone());
                    (at, name.unwrap_or_else(|| format!("node {}", node.0)))
                });
                Crash::of(panic_message(payload.as_ref()), step)
            })
        })
        .expect("spawn a thread for the seed");
    let result = match thread.join() {
        Ok(result) => result,
        Err(payload) => Err(Crash::of(panic_message(payload.as_ref()), None)),
    };
    RunResult {
        seed,
        result,
        wall: started.elapsed(),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invariant_violation_is_told_from_a_panic() {
        let step = Some((Time::from_ms(41_269), "broker-a-s1".to_string()));
        let message = format!(
            "{}replica-append-at-end: 100 bytes for offset 163401 would be stored at 0",
            model::invariant::PREFIX
        );
        let crash = Crash::of(message, step.clone());
        assert_eq!(crash.invariant.as_deref(), Some("replica-append-at-end"));
        assert_eq!(
            crash.to_string(),
            "invariant replica-append-at-end violated on broker-a-s1 at 41.269s: \
             100 bytes for offset 163401 would be stored at 0"
        );
        let other = Crash::of("index out of bounds".to_string(), step);
        assert_eq!(other.invariant, None);
        assert!(other.to_string().starts_with("panic on broker-a-s1"));
    }
}

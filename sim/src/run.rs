//! Running a scenario for one seed, end to end: build the cluster and the plan, run them on a
//! fresh thread (so no state leaks between seeds), and check the history.

use crate::check::{self, Report};
use crate::cluster;
use crate::disk::DiskConfig;
use crate::runtime::{self, Outcome, Setup};
use crate::scenario::Scenario;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Keep a line per handled event (for `trace.log` and determinism diffs).
    pub keep_trace: bool,
}

/// A finished run: what happened and what the checker made of it.
pub struct Finished {
    pub outcome: Outcome,
    pub report: Report,
}

pub struct RunResult {
    pub seed: u64,
    /// The run, or the panic message if the model or the harness panicked.
    pub result: Result<Finished, String>,
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
            ..DiskConfig::default()
        },
        progress: Arc::new(cluster::ScenarioProgress::of(scenario)),
        keep_trace: options.keep_trace,
        event_budget: scenario.budget.events,
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
                let mut report = check::check(&scenario, &outcome.history, outcome.ending);
                if let Some(reason) = &outcome.over_budget {
                    report.verdict = check::Verdict::Unknown;
                    report.liveness = Some(reason.clone());
                }
                Finished { outcome, report }
            }))
        })
        .expect("spawn a thread for the seed");
    let result = match thread.join() {
        Ok(Ok(finished)) => Ok(finished),
        Ok(Err(payload)) | Err(payload) => Err(panic_message(payload.as_ref())),
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

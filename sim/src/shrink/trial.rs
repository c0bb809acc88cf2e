//! One trial of a candidate scenario: parse and validate its text, run one seed, and keep
//! what the shrinker compares: how the run failed (its `Fingerprint`) and how big it was
//! (`Size`).

use crate::check::{ExpectationResult, Verdict};
use crate::exit::Exit;
use crate::report::exit_code;
use crate::run::{RunOptions, RunResult, run};
use crate::scenario::{self, Scenario};
use std::fmt;

/// How a run failed: its ending, the expectations that failed, the invariant it broke. Two
/// runs with equal fingerprints fail the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub exit: Exit,
    /// Failing expectations by name, sorted.
    pub failing: Vec<&'static str>,
    /// Those of them that failed for want of any sample (a time that was never measured is
    /// another failure than one measured out of range).
    pub unmeasured: Vec<&'static str>,
    /// The violated model invariant (exit 5).
    pub invariant: Option<String>,
}

impl Fingerprint {
    pub fn of(run: &RunResult) -> Fingerprint {
        let failed: Vec<&ExpectationResult> = match &run.result {
            Ok(finished) => finished
                .report
                .expectations
                .iter()
                .filter(|e| e.verdict == Verdict::Fail)
                .collect(),
            Err(_) => Vec::new(),
        };
        let names = |pick: &dyn Fn(&ExpectationResult) -> bool| {
            let mut names: Vec<&'static str> =
                failed.iter().filter(|e| pick(e)).map(|e| e.name).collect();
            names.sort_unstable();
            names
        };
        Fingerprint {
            exit: exit_code(run),
            failing: names(&|_| true),
            unmeasured: names(&|e| e.observed == "none"),
            invariant: run.result.as_ref().err().and_then(|c| c.invariant.clone()),
        }
    }

    pub fn fails(&self) -> bool {
        self.exit != Exit::Pass
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.exit.verdict())?;
        if let Some(invariant) = &self.invariant {
            write!(f, ", invariant {invariant}")?;
        }
        if !self.failing.is_empty() {
            write!(f, ", failing {}", self.failing.join(", "))?;
        }
        if !self.unmeasured.is_empty() {
            write!(f, " (never measured: {})", self.unmeasured.join(", "))?;
        }
        Ok(())
    }
}

/// How big a scenario and its run are.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// The file's faults and those the seed drew from `[swarm]`.
    pub faults: usize,
    /// Messages all producers send.
    pub messages: u64,
    pub nodes: usize,
    /// Events the nodes handled.
    pub events: u64,
}

impl Size {
    fn of(scenario: &Scenario, seed: u64, run: &RunResult) -> Size {
        Size {
            faults: scenario.faults.len() + crate::swarm::draw(scenario, seed).len(),
            messages: scenario
                .producers
                .iter()
                .map(|p| u64::from(p.messages))
                .sum(),
            nodes: scenario.nodes.len(),
            events: run
                .result
                .as_ref()
                .map_or(0, |finished| finished.outcome.events_handled),
        }
    }

    /// No larger than `other` in faults, messages, nodes and events.
    pub fn within(&self, other: &Size) -> bool {
        self.faults <= other.faults
            && self.messages <= other.messages
            && self.nodes <= other.nodes
            && self.events <= other.events
    }
}

/// A candidate's run: how it ended and how big it was.
#[derive(Clone, Debug)]
pub struct Trial {
    pub fingerprint: Fingerprint,
    pub size: Size,
    /// The failing expectations as the report shows them (`lost_unexplained = 0, observed
    /// 2`).
    pub failures: Vec<String>,
    /// Per fault of the file: the start the seed drew and the node it drew, if any.
    pub draws: Vec<(u64, Option<String>)>,
}

/// Budgets a trial's scenario runs with, over its own.
#[derive(Copy, Clone, Debug, Default)]
pub struct BudgetOverride {
    pub simulated_ms: Option<u64>,
    pub events: Option<u64>,
}

/// Parses `text` (named `file` in errors) and runs `seed`; `None` if the text is not a valid
/// scenario.
pub fn trial(text: &str, file: &str, seed: u64, budget: BudgetOverride) -> Option<Trial> {
    let mut scenario = scenario::parse(text, file).ok()?;
    if let Some(ms) = budget.simulated_ms {
        scenario.budget.simulated_ms = ms;
    }
    if let Some(events) = budget.events {
        scenario.budget.events = events;
    }
    let run = run(&scenario, seed, &RunOptions::default());
    let failures = match &run.result {
        Ok(finished) => finished
            .report
            .expectations
            .iter()
            .filter(|e| e.verdict == Verdict::Fail)
            .map(|e| format!("{} {} (observed {})", e.name, e.condition, e.observed))
            .collect(),
        Err(crash) => vec![crash.to_string()],
    };
    let draws = crate::cluster::fault_draws(&scenario, seed)
        .into_iter()
        .take(scenario.faults.len())
        .map(|draw| {
            let node = draw.node.and_then(|id| scenario.nodes.get(id.index()));
            (draw.start_ms, node.map(|n| n.name.clone()))
        })
        .collect();
    Some(Trial {
        fingerprint: Fingerprint::of(&run),
        size: Size::of(&scenario, seed, &run),
        failures,
        draws,
    })
}

//! `sim shrink`: a failing seed reduced to the smallest scenario found that still fails with
//! the same fingerprint (ending, failing expectations, broken invariant).
//!
//! The shrinker edits the scenario file itself (so the result is a file users can read, run
//! and keep), in the order `passes::ROUND` lists: faults (ddmin), each fault's window and
//! probability, the run phase, messages, instances, consumers, queues, topics, broker groups,
//! optional features. A candidate is kept when it is a valid scenario, fails with the same
//! fingerprint and is no larger in faults, messages, nodes and events. Named random streams
//! keep most of a run as it was when one part is removed; where a removal shifts the draws,
//! the next few seeds are tried too. Rounds repeat until none changes anything, or a budget
//! (runs, wall time) ends them; a result reached within the run budget is the same on any
//! machine.

mod ddmin;
mod edit;
mod output;
mod passes;
mod trial;

pub use output::size_line;
pub use trial::{BudgetOverride, Fingerprint, Size, Trial, trial};

use crate::run::{RunOptions, run};
use crate::scenario::Scenario;
use edit::{Place, shown};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use toml_edit::DocumentMut;

/// What to shrink: one seed of one cell of a scenario file.
pub struct Input<'a> {
    /// The scenario as the run that failed was built from it.
    pub scenario: &'a Scenario,
    /// The cell's text (the file's, without a `[matrix]`).
    pub text: &'a str,
    /// The cell's own `[[matrix.expect]]` keys as written (`lost = 0`).
    pub cell_expectations: &'a [String],
    /// Where the result will be written (candidates are named so in errors and replays).
    pub out: &'a str,
}

/// How hard to try.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    /// Wall-clock time after which the best result so far is the answer.
    pub wall_budget: Duration,
    /// Runs after which the best result so far is the answer.
    pub max_runs: u64,
    /// How many following seeds a removal that shifts the draws may try.
    pub nearby_seeds: u64,
    pub budget: BudgetOverride,
}

/// Why the shrinker stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A whole round changed nothing: no single edit the passes know makes it smaller.
    Fixpoint,
    MaxRuns,
    /// The wall-clock budget ran out: another machine may stop elsewhere.
    WallBudget,
}

/// Where the shrinker is, for a progress line.
pub struct Progress {
    pub runs: u64,
    pub pass: &'static str,
    pub size: Size,
}

/// The result: the smaller scenario and what it took.
pub struct Shrunk {
    /// The scenario file to write, with comments saying what was removed.
    pub text: String,
    pub seed: u64,
    pub fingerprint: Fingerprint,
    pub before: Size,
    pub after: Size,
    pub runs: u64,
    pub wall: Duration,
    pub stop: Stop,
    /// One line per removal or reduction.
    pub changes: Vec<String>,
}

/// Why there is nothing to shrink.
#[derive(Debug, PartialEq, Eq)]
pub enum ShrinkError {
    /// The seed passes.
    Passes,
    /// The cell's text, written as a scenario of its own, does not fail the same way.
    NotReproduced(String),
}

impl std::fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShrinkError::Passes => f.write_str("the seed passes: there is no failure to shrink"),
            ShrinkError::NotReproduced(why) => write!(
                f,
                "the scenario written out with only its failing expectations does not fail the same way: {why}"
            ),
        }
    }
}

/// Shrinks `input` at `options.seed`; `progress` hears of every run.
pub fn shrink(
    input: &Input<'_>,
    options: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Shrunk, ShrinkError> {
    let started = Instant::now();
    let original = run(input.scenario, options.seed, &RunOptions::default());
    let target = Fingerprint::of(&original);
    if !target.fails() {
        return Err(ShrinkError::Passes);
    }
    let mut doc: DocumentMut = input
        .text
        .parse()
        .map_err(|err| ShrinkError::NotReproduced(format!("{err}")))?;
    doc.remove("matrix");
    let (doc, removed) = passes::failing_expectations_only(&doc, &target, input.cell_expectations);
    let first = trial(&doc.to_string(), input.out, options.seed, options.budget)
        .filter(|t| t.fingerprint == target)
        .ok_or_else(|| ShrinkError::NotReproduced("with only its failing expectations".into()))?;
    let mut shrinker = Shrinker {
        doc,
        seed: options.seed,
        best: first.clone(),
        target,
        out: input.out,
        options,
        runs: 2,
        kept: 0,
        started,
        pass: "faults",
        progress,
        changes: BTreeMap::new(),
        removed,
    };
    let stop = shrinker.rounds();
    let text = output::render(&shrinker, input, &first.size);
    Ok(Shrunk {
        text,
        seed: shrinker.seed,
        fingerprint: shrinker.target.clone(),
        before: first.size,
        after: shrinker.best.size,
        runs: shrinker.runs,
        wall: started.elapsed(),
        stop,
        changes: shrinker.change_lines(),
    })
}

/// What a kept candidate changed.
pub enum Change {
    /// A value: the label (`producer[0].messages`) and the old and new values as shown.
    Value(String, String, String),
    /// Tables or keys removed, one line each.
    Removed(Vec<String>),
}

/// The shrinker's state: the smallest failing document so far and the budget spent.
pub struct Shrinker<'a> {
    doc: DocumentMut,
    seed: u64,
    best: Trial,
    target: Fingerprint,
    out: &'a str,
    options: &'a Options,
    runs: u64,
    /// Candidates kept so far.
    kept: u64,
    started: Instant,
    pass: &'static str,
    progress: &'a mut dyn FnMut(&Progress),
    /// Per label: the first value and the latest.
    changes: BTreeMap<String, (String, String)>,
    removed: Vec<String>,
}

impl Shrinker<'_> {
    /// Runs rounds of every pass until one changes nothing or the budget ends.
    fn rounds(&mut self) -> Stop {
        loop {
            let kept_before = self.kept;
            for (name, pass) in passes::ROUND {
                self.pass = name;
                pass(self);
                if let Some(stop) = self.out_of_budget() {
                    return stop;
                }
            }
            if self.kept == kept_before {
                return Stop::Fixpoint;
            }
        }
    }

    fn out_of_budget(&self) -> Option<Stop> {
        if self.runs >= self.options.max_runs {
            Some(Stop::MaxRuns)
        } else if self.started.elapsed() >= self.options.wall_budget {
            Some(Stop::WallBudget)
        } else {
            None
        }
    }

    /// Tries `candidate` at the current seed (and, if `nearby`, the next few); keeps it if it
    /// fails the same way and is no larger. Returns whether it was kept.
    fn attempt(&mut self, candidate: DocumentMut, nearby: bool, change: Change) -> bool {
        let text = candidate.to_string();
        let tries = if nearby { self.options.nearby_seeds } else { 0 };
        for seed in (0..=tries).map(|k| self.seed.wrapping_add(k)) {
            if self.out_of_budget().is_some() {
                return false;
            }
            self.runs += 1;
            let Some(result) = trial(&text, self.out, seed, self.options.budget) else {
                return false;
            };
            let kept = result.fingerprint == self.target && result.size.within(&self.best.size);
            (self.progress)(&Progress {
                runs: self.runs,
                pass: self.pass,
                size: self.best.size,
            });
            if kept {
                if seed != self.seed {
                    self.record(Change::Value(
                        "seed".into(),
                        self.seed.to_string(),
                        seed.to_string(),
                    ));
                    self.seed = seed;
                }
                self.doc = candidate;
                self.best = result;
                self.kept += 1;
                self.record(change);
                return true;
            }
        }
        false
    }

    fn record(&mut self, change: Change) {
        match change {
            Change::Value(label, old, new) => {
                let entry = self.changes.entry(label).or_insert((old, String::new()));
                entry.1 = new;
            }
            Change::Removed(lines) => self.removed.extend(lines),
        }
    }

    /// What changed, removals first.
    fn change_lines(&self) -> Vec<String> {
        let values = self
            .changes
            .iter()
            .filter(|(_, (old, new))| old != new)
            .map(|(label, (old, new))| format!("{label}: {old} -> {new}"));
        self.removed.iter().cloned().chain(values).collect()
    }

    /// The current value of `key` at `place`, as shown.
    fn shown(&self, place: &Place, key: &str) -> Option<String> {
        edit::get(&self.doc, place, key).map(|value| shown(&value))
    }
}

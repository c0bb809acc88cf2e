//! One module per subcommand, and what they share: loading a scenario, parsing seed ranges,
//! worker counts and budgets, and the output macros of `output`.

#[macro_use]
pub mod output;

pub mod bench;
mod bench_kinds;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod list;
pub mod matrix;
pub mod matrix_page;
pub mod merge;
pub mod run;
pub mod shard;
pub mod shrink;
pub mod sweep;
pub mod validate;

use clap::Args;
use sim::exit::Exit;
use sim::scenario::limits::{self, Unit};
use sim::scenario::units::Millis;
use sim::scenario::{self, Scenario};

/// Loads a scenario (one cell of a matrix scenario), or prints why not.
pub fn load(path: &str, cell: Option<&str>) -> Result<Scenario, Exit> {
    scenario::load_cell(path, cell).map_err(|err| {
        errln!("error: {err}");
        Exit::BadInput
    })
}

/// The `--seeds` range, or the exit code after saying why not.
pub fn seeds_arg(text: &str) -> Result<std::ops::Range<u64>, Exit> {
    parse_seeds(text).map_err(|err| {
        errln!("error: --seeds: {err}");
        Exit::BadInput
    })
}

/// Parses `A..B` (B excluded) or a single seed; at most [`limits::MAX_SEEDS`] seeds.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{}` is not a seed (a whole number)", s.trim()))
    };
    let range = match text.split_once("..") {
        Some((start, end)) => parse(start)?..parse(end)?,
        None => {
            let seed = parse(text)?;
            let end = seed
                .checked_add(1)
                .ok_or_else(|| format!("`{seed}` is the largest number; use a smaller seed"))?;
            seed..end
        }
    };
    if range.is_empty() {
        return Err(format!(
            "`{text}` is empty: write A..B with A < B (B is excluded)"
        ));
    }
    let count = range.end - range.start;
    if count > limits::MAX_SEEDS {
        return Err(format!(
            "`{text}` is {} seeds; the limit is {} per command",
            limits::render(count, Unit::Count),
            limits::render(limits::MAX_SEEDS, Unit::Count)
        ));
    }
    Ok(range)
}

/// `--jobs`: 1 to [`limits::MAX_JOBS`].
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    let jobs: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if jobs == 0 || jobs > limits::MAX_JOBS {
        return Err(format!("`{text}` workers: give 1 to {}", limits::MAX_JOBS));
    }
    Ok(jobs as usize)
}

/// A run's budgets, overriding the scenario's (`[budget]`) and its defaults.
#[derive(Args, Clone, Debug, Default)]
pub struct BudgetArgs {
    /// The simulated-time budget of each run, e.g. "10m" (default: the scenario's phases plus a
    /// minute). Past it the run ends as liveness-unknown (exit 3).
    #[arg(long, value_parser = parse_time_budget)]
    pub time_budget: Option<u64>,
    /// The event budget of each run (default: from the scenario's phases, nodes and messages).
    /// Past it the run ends as liveness-unknown (exit 3).
    #[arg(long, value_parser = parse_event_budget)]
    pub event_budget: Option<u64>,
}

impl BudgetArgs {
    /// The scenario with the budgets the flags set.
    pub fn apply(&self, mut scenario: Scenario) -> Scenario {
        if let Some(ms) = self.time_budget {
            scenario.budget.simulated_ms = ms;
        }
        if let Some(events) = self.event_budget {
            scenario.budget.events = events;
        }
        scenario
    }
}

fn parse_time_budget(text: &str) -> Result<u64, String> {
    let Millis(ms) = Millis::parse(text)?;
    if ms == 0 || ms > limits::MAX_TIME_BUDGET_MS {
        return Err(format!(
            "give more than 0s and at most {}",
            limits::render(limits::MAX_TIME_BUDGET_MS, Unit::Millis)
        ));
    }
    Ok(ms)
}

fn parse_event_budget(text: &str) -> Result<u64, String> {
    let events: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if events == 0 || events > limits::MAX_EVENT_BUDGET {
        return Err(format!(
            "give 1 to {}",
            limits::render(limits::MAX_EVENT_BUDGET, Unit::Count)
        ));
    }
    Ok(events)
}

/// A file a command will write when it is done: checked before the work, so that a long run
/// does not end in "cannot write". Its folder must exist, and the file must not, unless
/// `--force` says to write over it.
pub fn writable_file(path: &std::path::Path, force: bool) -> Result<(), String> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|p| !p.is_dir()) {
        return Err(format!("the folder {} does not exist", parent.display()));
    }
    if path.is_dir() {
        return Err("is a folder".into());
    }
    if path.exists() && !force {
        return Err("exists; choose another file, or pass --force to write over it".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_jobs, parse_seeds};

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("0..200"), Ok(0..200));
        assert_eq!(parse_seeds("7"), Ok(7..8));
        assert!(parse_seeds("5..5").is_err());
        assert!(parse_seeds("a..b").is_err());
        assert!(parse_seeds("18446744073709551615").is_err());
        let huge = parse_seeds("0..1000000000").unwrap_err();
        assert!(huge.contains("the limit is 1,000,000"), "{huge}");
    }

    #[test]
    fn worker_counts() {
        assert_eq!(parse_jobs("2"), Ok(2));
        assert!(parse_jobs("0").is_err());
        assert!(parse_jobs("200000").unwrap_err().contains("1 to 256"));
    }
}

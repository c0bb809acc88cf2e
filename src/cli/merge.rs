//! `sim merge shard-*.json`: the shard files of one sharded sweep, checked to be the parts of
//! one sweep (same binary, scenario text, cell, budgets, seed range and shard count), every
//! shard present once, then summed into the summary one sweep over the whole range prints.

use super::shard::ShardFile;
use super::sweep::Totals;
use super::sweep::report::{self, Effort};
use clap::Args;
use sim::exit::Exit;
use std::time::Duration;

#[derive(Args)]
pub struct MergeArgs {
    /// The shard files (`sim sweep ... --shard K/N --json-out FILE`).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: MergeArgs) -> Exit {
    let shards = match read_all(&args.files) {
        Ok(shards) => shards,
        Err(errors) => {
            for error in errors {
                errln!("error: {error}");
            }
            return Exit::BadInput;
        }
    };
    let header = shards[0].1.sweep.scenario.clone();
    let (totals, effort) = sum(shards);
    report::print(&header, &totals, &effort, args.json);
    totals.worst
}

/// Reads every file and checks that they are the whole of one sweep; otherwise every reason
/// they are not.
fn read_all(files: &[String]) -> Result<Vec<(String, ShardFile)>, Vec<String>> {
    let mut shards = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        match ShardFile::read(path) {
            Ok(shard) => shards.push((path.clone(), shard)),
            Err(err) => errors.push(err),
        }
    }
    if errors.is_empty() {
        errors = problems(&shards);
    }
    if errors.is_empty() {
        Ok(shards)
    } else {
        Err(errors)
    }
}

/// Why `shards` are not exactly the shards of one sweep (empty if they are).
pub fn problems(shards: &[(String, ShardFile)]) -> Vec<String> {
    let Some((first_path, first)) = shards.first() else {
        return vec!["no shard files".to_string()];
    };
    let mut errors = Vec::new();
    let sweep = &first.sweep;
    let mut seen: Vec<Option<&str>> = vec![None; sweep.shards as usize];
    for (path, shard) in shards {
        if let Some(field) = differs(&shard.sweep, sweep) {
            errors.push(format!(
                "{path} is not a shard of the sweep {first_path} is from: its {field} differs"
            ));
            continue;
        }
        let expected = super::shard::Shard {
            index: shard.shard,
            count: sweep.shards,
        };
        match seen.get_mut(shard.shard as usize) {
            Some(Some(other)) => errors.push(format!(
                "{path} and {other} are both shard {}/{}",
                shard.shard, sweep.shards
            )),
            Some(slot) => *slot = Some(path),
            None => errors.push(format!("{path}: shard {} of {}", shard.shard, sweep.shards)),
        }
        let seeds = expected.seeds(&sweep.seeds);
        if shard.seeds != seeds || shard.totals.seeds != seeds.end - seeds.start {
            errors.push(format!(
                "{path}: shard {}/{} should hold seeds {seeds:?} and holds {} of {:?}",
                shard.shard, sweep.shards, shard.totals.seeds, shard.seeds
            ));
        }
    }
    let missing: Vec<String> = (0..sweep.shards)
        .filter(|k| seen[*k as usize].is_none())
        .map(|k| format!("{k}/{}", sweep.shards))
        .collect();
    if errors.is_empty() && !missing.is_empty() {
        errors.push(format!(
            "missing shards of the sweep of {} seeds {:?}: {}",
            sweep.scenario.file,
            sweep.seeds,
            missing.join(", ")
        ));
    }
    errors
}

/// The first part of a shard's identity that is not `first`'s.
fn differs(
    shard: &super::shard::SweepIdentity,
    first: &super::shard::SweepIdentity,
) -> Option<&'static str> {
    [
        (shard.binary != first.binary, "binary"),
        (
            shard.scenario_digest != first.scenario_digest,
            "scenario file's text",
        ),
        (
            shard.scenario != first.scenario,
            "scenario (name, path or cell)",
        ),
        (
            shard.simulated_time_budget_ms != first.simulated_time_budget_ms
                || shard.event_budget != first.event_budget,
            "budget",
        ),
        (shard.seeds != first.seeds, "seed range"),
        (shard.shards != first.shards, "shard count"),
    ]
    .into_iter()
    .find(|(differs, _)| *differs)
    .map(|(_, field)| field)
}

/// The shards' totals summed; the wall time is the shards' together, the workers all of them.
fn sum(shards: Vec<(String, ShardFile)>) -> (Totals, Effort) {
    let mut totals = Totals::default();
    let mut effort = Effort {
        wall: Duration::ZERO,
        jobs: 0,
    };
    for (_, shard) in shards {
        effort.wall += Duration::from_millis(shard.wall_ms);
        effort.jobs += shard.jobs;
        totals.merge(shard.totals);
    }
    (totals, effort)
}

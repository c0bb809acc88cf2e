//! `sim run FILE --seed N`: one run, its report and verdict.

use clap::Args;
use sim::exit::Exit;
use sim::report;
use sim::run::{RunOptions, RunResult, run};
use sim::scenario::Scenario;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: String,
    /// For a scenario with a [matrix]: the cell, as axis=value,... (others: first values).
    #[arg(long)]
    pub cell: Option<String>,
    /// The seed: the same seed is the same run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the summary as JSON instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Write summary.json, anomalies.jsonl, history.jsonl, trace.log, report.html, history.edn
    /// and shiviz.log into this folder (e.g. reports/out/x).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write into an `--out` folder that exists and is not empty.
    #[arg(long)]
    pub force: bool,
    /// Run twice and compare the trace digests (exit 4 if they differ).
    #[arg(long)]
    pub check_determinism: bool,
    #[command(flatten)]
    pub budget: super::BudgetArgs,
}

pub fn main(args: RunArgs) -> Exit {
    let scenario = match super::load(&args.file, args.cell.as_deref()) {
        Ok(scenario) => args.budget.apply(scenario),
        Err(code) => return code,
    };
    if let Some(dir) = &args.out
        && let Err(message) = usable_out_dir(dir, args.force)
    {
        errln!("error: --out {}: {message}", dir.display());
        return Exit::BadInput;
    }
    let options = RunOptions {
        keep_trace: args.out.is_some() || args.check_determinism,
        ..RunOptions::default()
    };
    let result = run(&scenario, args.seed, &options);
    if args.json {
        outln!("{}", json_summary(&scenario, &result, args.seed));
    } else {
        out!("{}", report::render(&scenario, &result));
    }
    if let Some(dir) = &args.out {
        match report::write_files(dir, &scenario, &result) {
            Ok(()) => errln!("wrote {}", dir.display()),
            Err(err) => {
                errln!("error: cannot write {}: {err}", dir.display());
                return Exit::BadInput;
            }
        }
    }
    if args.check_determinism && !same_run_again(&scenario, &result, &options) {
        return Exit::Bug;
    }
    report::exit_code(&result)
}

/// An `--out` folder must be new or empty, unless `--force` says to write over it.
fn usable_out_dir(dir: &Path, force: bool) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if !force && entries.next().is_some() {
                return Err(
                    "the folder exists and is not empty; choose another, or pass --force \
                            to write over it"
                        .into(),
                );
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => Err("exists and is not a folder".into()),
        Err(err) => Err(err.to_string()),
    }
}

/// The summary as pretty JSON, with the digest, events, wall time, speed and replay line.
fn json_summary(scenario: &Scenario, result: &RunResult, seed: u64) -> String {
    let summary = report::Summary::of(scenario, result);
    let mut json = serde_json::to_value(&summary).unwrap_or_default();
    if let (Ok(finished), Some(object)) = (&result.result, json.as_object_mut()) {
        object.insert("digest".into(), finished.outcome.digest.clone().into());
        object.insert("events".into(), finished.outcome.events_handled.into());
        object.insert(
            "wall_ms".into(),
            (result.wall.as_secs_f64() * 1000.0).into(),
        );
        object.insert("speed".into(), result.speed().unwrap_or(0.0).into());
        object.insert(
            "replay".into(),
            report::replay_command(scenario, seed).into(),
        );
    }
    serde_json::to_string_pretty(&json).unwrap_or_default()
}

/// Runs the seed again and compares the trace; reports the first difference.
fn same_run_again(scenario: &Scenario, first: &RunResult, options: &RunOptions) -> bool {
    let second = run(scenario, first.seed, options);
    let (Ok(a), Ok(b)) = (&first.result, &second.result) else {
        errln!("determinism: not checked, a run panicked");
        return first.result.is_err() && second.result.is_err();
    };
    if a.outcome.digest == b.outcome.digest {
        errln!("determinism: same digest {} in two runs", a.outcome.digest);
        return true;
    }
    errln!(
        "determinism: FAILED, digests {} and {}",
        a.outcome.digest,
        b.outcome.digest
    );
    if let (Some(x), Some(y)) = (&a.outcome.trace, &b.outcome.trace)
        && let Some(line) = x.iter().zip(y).position(|(l, r)| l != r)
    {
        errln!(
            "  first difference at trace line {}:\n  - {}\n  + {}",
            line + 1,
            x[line],
            y[line]
        );
    }
    false
}

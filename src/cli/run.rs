//! `sim run FILE --seed N`: one run, its report and verdict.

use clap::Args;
use sim::report;
use sim::run::{RunOptions, RunResult, run};
use sim::scenario::Scenario;
use std::path::PathBuf;

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
    /// Write summary.json, history.jsonl and trace.log into this folder (e.g. reports/out/x).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run twice and compare the trace digests (exit 4 if they differ).
    #[arg(long)]
    pub check_determinism: bool,
}

pub fn main(args: RunArgs) -> i32 {
    let scenario = match super::load(&args.file, args.cell.as_deref()) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let options = RunOptions {
        keep_trace: args.out.is_some() || args.check_determinism,
    };
    let result = run(&scenario, args.seed, &options);
    if args.json {
        let summary = report::Summary::of(&scenario, &result);
        let mut json = serde_json::to_value(&summary).expect("a summary serializes");
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
                report::replay_command(&scenario, args.seed).into(),
            );
        }
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        print!("{}", report::render(&scenario, &result));
    }
    if let Some(dir) = &args.out {
        match report::write_files(dir, &scenario, &result) {
            Ok(()) => eprintln!("wrote {}", dir.display()),
            Err(err) => {
                eprintln!("error: cannot write {}: {err}", dir.display());
                return super::BAD_INPUT;
            }
        }
    }
    if args.check_determinism && !same_run_again(&scenario, &result, &options) {
        return 4;
    }
    report::exit_code(&result)
}

/// Runs the seed again and compares the trace; reports the first difference.
fn same_run_again(scenario: &Scenario, first: &RunResult, options: &RunOptions) -> bool {
    let second = run(scenario, first.seed, options);
    let (Ok(a), Ok(b)) = (&first.result, &second.result) else {
        eprintln!("determinism: not checked, a run panicked");
        return first.result.is_err() && second.result.is_err();
    };
    if a.outcome.digest == b.outcome.digest {
        eprintln!("determinism: same digest {} in two runs", a.outcome.digest);
        return true;
    }
    eprintln!(
        "determinism: FAILED, digests {} and {}",
        a.outcome.digest, b.outcome.digest
    );
    if let (Some(x), Some(y)) = (&a.outcome.trace, &b.outcome.trace)
        && let Some(line) = x.iter().zip(y).position(|(l, r)| l != r)
    {
        eprintln!(
            "  first difference at trace line {}:\n  - {}\n  + {}",
            line + 1,
            x[line],
            y[line]
        );
    }
    false
}

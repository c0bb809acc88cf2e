//! `sim shrink FILE --seed N`: a failing seed reduced to a smaller scenario that fails the
//! same way, written as `FILE.min.toml` (or `--out`), with a progress line while it works and
//! the reduction at the end.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sim::exit::Exit;
use sim::scenario::{self, units::Millis};
use sim::shrink::{self, BudgetOverride, Input, Options, Shrunk, Stop};
use std::time::Duration;

#[derive(Args)]
pub struct ShrinkArgs {
    /// The scenario file.
    pub file: String,
    /// The failing seed.
    #[arg(long)]
    pub seed: u64,
    /// For a scenario with a [matrix]: the cell, as axis=value,... (others: first values).
    #[arg(long)]
    pub cell: Option<String>,
    /// Wall-clock time to spend; the smallest scenario found by then is the answer.
    #[arg(long, default_value = "60s", value_parser = parse_wall)]
    pub budget: Duration,
    /// Runs to spend at most (a result reached within them is the same on any machine).
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_runs: u64,
    /// Following seeds a removal that shifts the random draws may try.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=100))]
    pub nearby_seeds: u64,
    /// Where to write the result (default: FILE with .min.toml for .toml).
    #[arg(long, short)]
    pub out: Option<String>,
    /// Write over the result file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub run_budget: super::BudgetArgs,
}

fn parse_wall(text: &str) -> Result<Duration, String> {
    let Millis(ms) = Millis::parse(text)?;
    if ms == 0 || ms > 86_400_000 {
        return Err("give more than 0s and at most 24h".into());
    }
    Ok(Duration::from_millis(ms))
}

/// Whether two paths name one file (the same text, or the same file on disk).
fn same_file(a: &str, b: &str) -> bool {
    let canonical = |p: &str| std::fs::canonicalize(p).ok();
    a == b || canonical(a).is_some_and(|a| Some(a) == canonical(b))
}

/// `scenarios/x.toml` -> `scenarios/x.min.toml`.
fn default_out(file: &str) -> String {
    match file.strip_suffix(".toml") {
        Some(stem) => format!("{stem}.min.toml"),
        None => format!("{file}.min.toml"),
    }
}

pub fn main(args: ShrinkArgs) -> Exit {
    let loaded = scenario::read(&args.file).and_then(|text| {
        let scenario = scenario::parse_cell(&text, &args.file, args.cell.as_deref())?;
        let source = scenario::cell_source(&text, &args.file, args.cell.as_deref())?;
        Ok((scenario, source.text.into_owned(), source.expect_shown))
    });
    let (scenario, text, cell_expectations) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => {
            errln!("error: {err}");
            return Exit::BadInput;
        }
    };
    let scenario = args.run_budget.apply(scenario);
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.file));
    if same_file(&out, &args.file) {
        errln!("error: --out {out}: that is the scenario being shrunk; choose another file");
        return Exit::BadInput;
    }
    if let Err(message) = super::writable_file(std::path::Path::new(&out), args.force) {
        errln!("error: --out {out}: {message}");
        return Exit::BadInput;
    }
    let input = Input {
        scenario: &scenario,
        text: &text,
        cell_expectations: &cell_expectations,
        out: &out,
    };
    let options = Options {
        seed: args.seed,
        wall_budget: args.budget,
        max_runs: args.max_runs,
        nearby_seeds: args.nearby_seeds,
        budget: BudgetOverride {
            simulated_ms: args.run_budget.time_budget,
            events: args.run_budget.event_budget,
        },
    };
    let bar = spinner();
    let result = shrink::shrink(&input, &options, &mut |p| {
        bar.set_message(format!(
            "{} runs, {}: faults {}, messages {}, events {}",
            p.runs, p.pass, p.size.faults, p.size.messages, p.size.events
        ));
    });
    bar.finish_and_clear();
    let shrunk = match result {
        Ok(shrunk) => shrunk,
        Err(err) => {
            errln!("error: {} --seed {}: {err}", args.file, args.seed);
            return Exit::BadInput;
        }
    };
    if let Err(err) = std::fs::write(&out, &shrunk.text) {
        errln!("error: cannot write {out}: {err}");
        return Exit::BadInput;
    }
    if args.json {
        outln!("{}", json(&scenario.name, &out, &shrunk));
    } else {
        text_report(&scenario.name, args.seed, &out, &shrunk);
    }
    Exit::Pass
}

fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn stop_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::Fixpoint => "no single edit makes it smaller",
        Stop::MaxRuns => "the run budget (--max-runs) ran out",
        Stop::WallBudget => "the time budget (--budget) ran out; a faster machine may get further",
    }
}

fn text_report(name: &str, seed: u64, out: &str, s: &Shrunk) {
    outln!(
        "shrunk {name} seed {seed} ({}) in {} runs, {:.1}s: {}",
        s.fingerprint,
        s.runs,
        s.wall.as_secs_f64(),
        stop_reason(s.stop)
    );
    outln!("  {}", shrink::size_line(&s.before, &s.after));
    if !s.changes.is_empty() {
        outln!("  removed or reduced:");
        for change in &s.changes {
            outln!("    {change}");
        }
    }
    outln!("wrote {out}");
    outln!("replay: {}", sim::report::replay_line(out, None, s.seed));
}

fn json(name: &str, out: &str, s: &Shrunk) -> String {
    let size = |z: &shrink::Size| serde_json::json!({"faults": z.faults, "messages": z.messages, "nodes": z.nodes, "events": z.events});
    let value = serde_json::json!({
        "scenario": name,
        "fingerprint": s.fingerprint.to_string(),
        "out": out,
        "seed": s.seed,
        "replay": sim::report::replay_line(out, None, s.seed),
        "before": size(&s.before),
        "after": size(&s.after),
        "runs": s.runs,
        "wall_ms": s.wall.as_millis() as u64,
        "stop": format!("{:?}", s.stop).to_lowercase(),
        "changes": s.changes,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

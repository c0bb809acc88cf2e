//! `sim sweep FILE --seeds A..B`: many seeds on all cores, a progress bar, a closing summary,
//! and every failing seed with its replay command.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sim::check::Verdict;
use sim::report::{exit_code, replay_command};
use sim::run::{RunOptions, run};
use sim::scenario::Scenario;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub file: String,
    #[command(flatten)]
    pub seeds: SeedsArgs,
    /// For a scenario with a [matrix]: the cell, as axis=value,... (others: first values).
    #[arg(long)]
    pub cell: Option<String>,
}

/// What a sweep keeps of one seed (the history itself is dropped at once).
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub seed: u64,
    pub exit_code: i32,
    pub simulated_ms: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    lost_unexplained: u64,
    duplicated: u64,
    recovered: u64,
    pub latency_p99_ms: u64,
    /// Summed over the scenario's consumer groups.
    consumers: ConsumerTotals,
    failed_expectations: Vec<String>,
    problem: Option<String>,
}

/// Consumer figures of one seed, summed over its groups.
#[derive(Clone, Debug, Default)]
struct ConsumerTotals {
    redelivered: u64,
    /// Per cause, in the order of `RedeliveryCauses::named`.
    causes: [u64; 7],
    reordered: u64,
    rewinds: u64,
    skipped: u64,
    dead_lettered: u64,
    abandoned: u64,
}

/// The redelivery causes' names, in the order `ConsumerTotals::causes` keeps them.
fn cause_names() -> [&'static str; 7] {
    sim::check::RedeliveryCauses::default()
        .named()
        .map(|(name, _)| name)
}

impl ConsumerTotals {
    fn of(groups: &[sim::check::GroupFigures]) -> ConsumerTotals {
        let mut totals = ConsumerTotals::default();
        for g in groups {
            for (total, (_, count)) in totals.causes.iter_mut().zip(g.redelivered_by_cause.named())
            {
                *total += count;
            }
            totals.redelivered += g.redelivered;
            totals.reordered += g.reordered;
            totals.rewinds += g.rewinds;
            totals.skipped += g.skipped;
            totals.dead_lettered += g.dead_lettered;
            totals.abandoned += g.abandoned;
        }
        totals
    }
}

fn summarize(scenario: &Scenario, seed: u64, run: &sim::run::RunResult) -> SeedResult {
    let summary = sim::report::Summary::of(scenario, run);
    let counts = summary
        .sends
        .as_ref()
        .map(|s| s.counts.clone())
        .unwrap_or_default();
    SeedResult {
        seed,
        exit_code: exit_code(run),
        simulated_ms: summary.simulated_ms,
        lost: counts.lost,
        lost_unconfirmed: counts.lost_unconfirmed,
        lost_unexplained: counts.lost_unexplained,
        duplicated: counts.duplicated,
        recovered: counts.recovered,
        latency_p99_ms: summary.sends.as_ref().map_or(0, |s| s.latency_p99_ms),
        consumers: ConsumerTotals::of(&summary.consumers),
        failed_expectations: summary
            .expectations
            .iter()
            .filter(|e| e.verdict != Verdict::Pass)
            .map(|e| format!("{} {} (observed {})", e.name, e.condition, e.observed))
            .collect(),
        problem: summary.problem,
    }
}

/// What every sweeping command takes.
#[derive(Args)]
pub struct SeedsArgs {
    /// Seeds to run: A..B (B excluded).
    #[arg(long, default_value = "0..100")]
    pub seeds: String,
    /// Parallel workers. Default: one per core.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the closing summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: SweepArgs) -> i32 {
    let scenario = match super::load(&args.file, args.cell.as_deref()) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let seeds = match super::seeds_arg(&args.seeds.seeds) {
        Ok(seeds) => seeds,
        Err(code) => return code,
    };
    let jobs = jobs(args.seeds.jobs);
    let started = Instant::now();
    let results = sweep(&scenario, seeds, jobs);
    report(
        &scenario,
        &results,
        started.elapsed(),
        jobs,
        args.seeds.json,
    )
}

/// The worker count: as asked, else one per core.
pub fn jobs(asked: Option<usize>) -> usize {
    asked
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// Runs `seeds` on `jobs` threads (a fresh one per seed) behind a progress bar; the results
/// in seed order.
pub fn sweep(scenario: &Scenario, seeds: std::ops::Range<u64>, jobs: usize) -> Vec<SeedResult> {
    let total = seeds.end - seeds.start;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} seeds, {msg}",
        )
        .expect("a valid template"),
    );
    let next = AtomicU64::new(seeds.start);
    let results = Mutex::new(Vec::with_capacity(total as usize));
    let failures = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= seeds.end {
                        break;
                    }
                    let run = run(scenario, seed, &RunOptions::default());
                    let result = summarize(scenario, seed, &run);
                    drop(run);
                    if result.exit_code != 0 {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    results.lock().expect("results lock").push(result);
                    bar.set_message(format!("{} failing", failures.load(Ordering::Relaxed)));
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results.into_inner().expect("results lock");
    results.sort_by_key(|r| r.seed);
    results
}

fn report(
    scenario: &Scenario,
    results: &[SeedResult],
    wall: Duration,
    jobs: usize,
    json: bool,
) -> i32 {
    let count = |f: &dyn Fn(&SeedResult) -> bool| results.iter().filter(|r| f(r)).count();
    let simulated: u64 = results.iter().map(|r| r.simulated_ms).sum();
    let ratio = simulated as f64 / (wall.as_secs_f64() * 1000.0).max(1e-9);
    let failing: Vec<&SeedResult> = results.iter().filter(|r| r.exit_code != 0).collect();
    let code = if failing.iter().any(|r| r.exit_code == 4) {
        4
    } else if failing.iter().any(|r| r.exit_code == 5) {
        5
    } else if failing.iter().any(|r| r.exit_code == 1) {
        1
    } else if failing.is_empty() {
        0
    } else {
        3
    };
    let sum = |f: &dyn Fn(&SeedResult) -> u64| results.iter().map(f).sum::<u64>();
    if json {
        let out = serde_json::json!({
            "scenario": scenario.name,
            "seeds": results.len(),
            "jobs": jobs,
            "wall_ms": wall.as_millis() as u64,
            "simulated_ms": simulated,
            "speed": ratio,
            "pass": count(&|r| r.exit_code == 0),
            "fail": count(&|r| r.exit_code == 1),
            "unknown": count(&|r| r.exit_code == 3),
            "panic": count(&|r| r.exit_code == 4),
            "invariant": count(&|r| r.exit_code == 5),
            "seeds_with_loss": count(&|r| r.lost > 0),
            "lost": sum(&|r| r.lost),
            "lost_unconfirmed": sum(&|r| r.lost_unconfirmed),
            "lost_unexplained": sum(&|r| r.lost_unexplained),
            "duplicated": sum(&|r| r.duplicated),
            "recovered": sum(&|r| r.recovered),
            "consumers": (!scenario.consumers.is_empty()).then(|| serde_json::json!({
                "seeds_with_redelivery": count(&|r| r.consumers.redelivered > 0),
                "redelivered": sum(&|r| r.consumers.redelivered),
                "redelivered_by_cause": cause_names().iter().enumerate().map(|(i, name)| {
                    (name.to_string(), serde_json::json!(sum(&|r| r.consumers.causes[i])))
                }).collect::<serde_json::Map<_, _>>(),
                "seeds_with_reordering": count(&|r| r.consumers.reordered > 0),
                "reordered": sum(&|r| r.consumers.reordered),
                "rewinds": sum(&|r| r.consumers.rewinds),
                "skipped": sum(&|r| r.consumers.skipped),
                "dead_lettered": sum(&|r| r.consumers.dead_lettered),
                "abandoned": sum(&|r| r.consumers.abandoned),
            })),
            "failing": failing.iter().map(|r| serde_json::json!({
                "seed": r.seed, "exit_code": r.exit_code, "replay": replay_command(scenario, r.seed),
                "expectations": r.failed_expectations, "problem": r.problem,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return code;
    }
    println!(
        "{}: {} seeds on {jobs} workers in {:.2}s wall ({:.0}x real time)",
        scenario.name,
        results.len(),
        wall.as_secs_f64(),
        ratio
    );
    println!(
        "  pass {}  fail {}  unknown {}  panic {}  invariant {}",
        count(&|r| r.exit_code == 0),
        count(&|r| r.exit_code == 1),
        count(&|r| r.exit_code == 3),
        count(&|r| r.exit_code == 4),
        count(&|r| r.exit_code == 5)
    );
    println!(
        "  seeds with loss {}  lost {}  lost_unconfirmed {}  lost_unexplained {}  duplicated {}  recovered {}",
        count(&|r| r.lost > 0),
        sum(&|r| r.lost),
        sum(&|r| r.lost_unconfirmed),
        sum(&|r| r.lost_unexplained),
        sum(&|r| r.duplicated),
        sum(&|r| r.recovered)
    );
    if !scenario.consumers.is_empty() {
        let causes: Vec<String> = cause_names()
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let total = sum(&|r| r.consumers.causes[i]);
                (total > 0).then(|| format!("{} {total}", name.replace('_', " ")))
            })
            .collect();
        println!(
            "  consumers: redelivered {} in {} seeds ({})  reordered {} in {} seeds  rewinds {}  skipped {}  dead-lettered {}  abandoned {}",
            sum(&|r| r.consumers.redelivered),
            count(&|r| r.consumers.redelivered > 0),
            if causes.is_empty() {
                "none".to_string()
            } else {
                causes.join(", ")
            },
            sum(&|r| r.consumers.reordered),
            count(&|r| r.consumers.reordered > 0),
            sum(&|r| r.consumers.rewinds),
            sum(&|r| r.consumers.skipped),
            sum(&|r| r.consumers.dead_lettered),
            sum(&|r| r.consumers.abandoned)
        );
    }
    if !failing.is_empty() {
        println!("failing seeds:");
        for r in failing.iter().take(25) {
            let why = r
                .problem
                .clone()
                .unwrap_or_else(|| r.failed_expectations.join("; "));
            println!("  {}   # {why}", replay_command(scenario, r.seed));
        }
        if failing.len() > 25 {
            println!("  ... and {} more", failing.len() - 25);
        }
    }
    code
}

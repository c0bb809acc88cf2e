//! `sim sweep FILE --seeds A..B`: many seeds on all cores, a progress bar, a closing summary,
//! and every failing seed with its replay command.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sim::check::Verdict;
use sim::exit::Exit;
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
    pub exit_code: Exit,
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
    /// The trace digest (none for a run that crashed).
    digest: Option<String>,
}

/// Consumer figures of one seed, summed over its groups.
#[derive(Clone, Debug, Default)]
struct ConsumerTotals {
    redelivered: u64,
    /// Per cause, in the order of `RedeliveryCauses::named`.
    causes: [u64; sim::check::RedeliveryCauses::COUNT],
    reordered: u64,
    rewinds: u64,
    skipped: u64,
    dead_lettered: u64,
    abandoned: u64,
}

/// The redelivery causes' names, in the order `ConsumerTotals::causes` keeps them.
fn cause_names() -> [&'static str; sim::check::RedeliveryCauses::COUNT] {
    sim::check::RedeliveryCauses::default()
        .named()
        .map(|(name, _)| name)
}

impl ConsumerTotals {
    fn add(&mut self, other: &ConsumerTotals) {
        for (total, count) in self.causes.iter_mut().zip(other.causes) {
            *total += count;
        }
        self.redelivered += other.redelivered;
        self.reordered += other.reordered;
        self.rewinds += other.rewinds;
        self.skipped += other.skipped;
        self.dead_lettered += other.dead_lettered;
        self.abandoned += other.abandoned;
    }

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
        digest: run.result.as_ref().ok().map(|f| f.outcome.digest.clone()),
    }
}

/// What every sweeping command takes.
#[derive(Args)]
pub struct SeedsArgs {
    /// Seeds to run: A..B (B excluded).
    #[arg(long, default_value = "0..100")]
    pub seeds: String,
    #[command(flatten)]
    pub budget: super::BudgetArgs,
    /// Parallel workers, 1 to 256. Default: one per core.
    #[arg(long, value_parser = super::parse_jobs)]
    pub jobs: Option<usize>,
    /// Print the closing summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: SweepArgs) -> Exit {
    let scenario = match super::load(&args.file, args.cell.as_deref()) {
        Ok(scenario) => args.seeds.budget.apply(scenario),
        Err(code) => return code,
    };
    let seeds = match super::seeds_arg(&args.seeds.seeds) {
        Ok(seeds) => seeds,
        Err(code) => return code,
    };
    let jobs = jobs(args.seeds.jobs);
    let started = Instant::now();
    let totals = sweep(&scenario, seeds, jobs);
    report(&scenario, &totals, started.elapsed(), jobs, args.seeds.json)
}

/// The worker count: as asked, else one per core.
pub fn jobs(asked: Option<usize>) -> usize {
    asked
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// Failing seeds a sweep keeps for its report (the lowest ones); the rest are counted.
const KEPT_FAILING_SEEDS: usize = 1_000;

/// What a sweep keeps of its seeds: sums and counts, each seed's p99 send latency, verdict and
/// digest (a few dozen bytes a seed), and the lowest failing seeds. Nothing is allocated per
/// seed up front.
#[derive(Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    pub pass: u64,
    pub fail: u64,
    pub unknown: u64,
    pub panic: u64,
    /// Seeds that violated a model invariant.
    pub invariant: u64,
    pub seeds_with_loss: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    lost_unexplained: u64,
    duplicated: u64,
    recovered: u64,
    simulated_ms: u64,
    consumers: ConsumerTotals,
    seeds_with_redelivery: u64,
    seeds_with_reordering: u64,
    pub latency_p99s_ms: Vec<u64>,
    /// The lowest failing seeds, in seed order (at most `KEPT_FAILING_SEEDS`).
    pub failing: Vec<SeedResult>,
    /// Every failing seed, kept or not.
    pub failing_count: u64,
    /// The worst exit code of any seed.
    pub worst: Exit,
    /// Every seed's verdict and trace digest, in the order the seeds finished.
    pub per_seed: Vec<SeedOutcome>,
}

/// One seed's outcome in a sweep's JSON: enough to compare two sweeps seed by seed.
#[derive(Clone, Debug)]
pub struct SeedOutcome {
    pub seed: u64,
    pub exit_code: Exit,
    pub digest: Option<String>,
}

impl Totals {
    fn add(&mut self, result: SeedResult) {
        self.seeds += 1;
        match result.exit_code {
            Exit::Pass => self.pass += 1,
            Exit::Fail => self.fail += 1,
            Exit::Liveness => self.unknown += 1,
            Exit::Invariant => self.invariant += 1,
            Exit::Bug | Exit::BadInput => self.panic += 1,
        }
        self.worst = self.worst.worst(result.exit_code);
        self.seeds_with_loss += u64::from(result.lost > 0);
        self.lost += result.lost;
        self.lost_unconfirmed += result.lost_unconfirmed;
        self.lost_unexplained += result.lost_unexplained;
        self.duplicated += result.duplicated;
        self.recovered += result.recovered;
        self.simulated_ms += result.simulated_ms;
        self.seeds_with_redelivery += u64::from(result.consumers.redelivered > 0);
        self.seeds_with_reordering += u64::from(result.consumers.reordered > 0);
        self.consumers.add(&result.consumers);
        self.latency_p99s_ms.push(result.latency_p99_ms);
        self.per_seed.push(SeedOutcome {
            seed: result.seed,
            exit_code: result.exit_code,
            digest: result.digest.clone(),
        });
        if result.exit_code != Exit::Pass {
            self.failing_count += 1;
            self.keep_failing(result);
        }
    }

    /// Keeps the lowest failing seeds whatever order the workers finish in.
    fn keep_failing(&mut self, result: SeedResult) {
        let at = self.failing.partition_point(|kept| kept.seed < result.seed);
        if at < KEPT_FAILING_SEEDS {
            self.failing.insert(at, result);
            self.failing.truncate(KEPT_FAILING_SEEDS);
        }
    }

    /// The median of the seeds' p99 send latency.
    pub fn median_p99_ms(&self) -> u64 {
        let mut p99s = self.latency_p99s_ms.clone();
        p99s.sort_unstable();
        p99s.get(p99s.len() / 2).copied().unwrap_or(0)
    }
}

/// Runs `seeds` on `jobs` threads (a fresh one per seed) behind a progress bar, adding each
/// result to the totals as it comes.
pub fn sweep(scenario: &Scenario, seeds: std::ops::Range<u64>, jobs: usize) -> Totals {
    let total = seeds.end - seeds.start;
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} seeds, {msg}",
    ) {
        bar.set_style(style);
    }
    let next = AtomicU64::new(seeds.start);
    let totals = Mutex::new(Totals::default());
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
                    if result.exit_code != Exit::Pass {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    totals.lock().unwrap_or_else(|p| p.into_inner()).add(result);
                    bar.set_message(format!("{} failing", failures.load(Ordering::Relaxed)));
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    totals.into_inner().unwrap_or_else(|p| p.into_inner())
}

fn report(scenario: &Scenario, totals: &Totals, wall: Duration, jobs: usize, json: bool) -> Exit {
    let ratio = totals.simulated_ms as f64 / (wall.as_secs_f64() * 1000.0).max(1e-9);
    if json {
        outln!("{}", json_report(scenario, totals, wall, jobs, ratio));
    } else {
        text_report(scenario, totals, wall, jobs, ratio);
    }
    totals.worst
}

fn json_report(scenario: &Scenario, t: &Totals, wall: Duration, jobs: usize, ratio: f64) -> String {
    let c = &t.consumers;
    let out = serde_json::json!({
        "scenario": scenario.name,
        "seeds": t.seeds,
        "jobs": jobs,
        "wall_ms": wall.as_millis() as u64,
        "simulated_ms": t.simulated_ms,
        "speed": ratio,
        "pass": t.pass,
        "fail": t.fail,
        "unknown": t.unknown,
        "panic": t.panic,
        "invariant": t.invariant,
        "seeds_with_loss": t.seeds_with_loss,
        "lost": t.lost,
        "lost_unconfirmed": t.lost_unconfirmed,
        "lost_unexplained": t.lost_unexplained,
        "duplicated": t.duplicated,
        "recovered": t.recovered,
        "consumers": (!scenario.consumers.is_empty()).then(|| serde_json::json!({
            "seeds_with_redelivery": t.seeds_with_redelivery,
            "redelivered": c.redelivered,
            "redelivered_by_cause": cause_names().iter().zip(c.causes).map(|(name, count)| {
                (name.to_string(), serde_json::json!(count))
            }).collect::<serde_json::Map<_, _>>(),
            "seeds_with_reordering": t.seeds_with_reordering,
            "reordered": c.reordered,
            "rewinds": c.rewinds,
            "skipped": c.skipped,
            "dead_lettered": c.dead_lettered,
            "abandoned": c.abandoned,
        })),
        "per_seed": per_seed_json(t),
        "failing_count": t.failing_count,
        "failing": t.failing.iter().map(|r| serde_json::json!({
            "seed": r.seed, "exit_code": r.exit_code.code(), "replay": replay_command(scenario, r.seed),
            "expectations": r.failed_expectations, "problem": r.problem,
        })).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&out).unwrap_or_default()
}

/// Every seed's verdict and digest, in seed order.
fn per_seed_json(t: &Totals) -> Vec<serde_json::Value> {
    let mut seeds = t.per_seed.clone();
    seeds.sort_by_key(|s| s.seed);
    let verdict = |code: Exit| match code {
        Exit::Pass => "pass",
        Exit::Fail => "fail",
        Exit::Liveness => "unknown",
        Exit::Invariant => "invariant",
        Exit::Bug | Exit::BadInput => "panic",
    };
    let one = |s: &SeedOutcome| serde_json::json!({"seed": s.seed, "verdict": verdict(s.exit_code), "digest": s.digest});
    seeds.iter().map(one).collect()
}

fn text_report(scenario: &Scenario, t: &Totals, wall: Duration, jobs: usize, ratio: f64) {
    outln!(
        "{}: {} seeds on {jobs} workers in {:.2}s wall ({:.0}x real time)",
        scenario.name,
        t.seeds,
        wall.as_secs_f64(),
        ratio
    );
    outln!(
        "  pass {}  fail {}  unknown {}  panic {}  invariant {}",
        t.pass,
        t.fail,
        t.unknown,
        t.panic,
        t.invariant
    );
    outln!(
        "  seeds with loss {}  lost {}  lost_unconfirmed {}  lost_unexplained {}  duplicated {}  recovered {}",
        t.seeds_with_loss,
        t.lost,
        t.lost_unconfirmed,
        t.lost_unexplained,
        t.duplicated,
        t.recovered
    );
    if !scenario.consumers.is_empty() {
        consumer_line(t);
    }
    if !t.failing.is_empty() {
        outln!("failing seeds:");
        for r in t.failing.iter().take(25) {
            let why = r
                .problem
                .clone()
                .unwrap_or_else(|| r.failed_expectations.join("; "));
            outln!("  {}   # {why}", replay_command(scenario, r.seed));
        }
        if t.failing_count > 25 {
            outln!("  ... and {} more", t.failing_count - 25);
        }
    }
}

fn consumer_line(t: &Totals) {
    let c = &t.consumers;
    let causes: Vec<String> = cause_names()
        .iter()
        .zip(c.causes)
        .filter(|(_, total)| *total > 0)
        .map(|(name, total)| format!("{} {total}", name.replace('_', " ")))
        .collect();
    outln!(
        "  consumers: redelivered {} in {} seeds ({})  reordered {} in {} seeds  rewinds {}  skipped {}  dead-lettered {}  abandoned {}",
        c.redelivered,
        t.seeds_with_redelivery,
        if causes.is_empty() {
            "none".to_string()
        } else {
            causes.join(", ")
        },
        c.reordered,
        t.seeds_with_reordering,
        c.rewinds,
        c.skipped,
        c.dead_lettered,
        c.abandoned
    );
}

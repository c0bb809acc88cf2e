//! `sim sweep FILE --seeds A..B`: many seeds on all cores, a progress bar, a closing summary,
//! and every failing seed with its replay command. With `--shard K/N` it runs only its share
//! of the seeds, and `--json-out` writes what `sim merge` needs.

pub mod report;
pub mod totals;

use super::shard::{FORMAT, Shard, ShardFile, SweepIdentity};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use report::{Effort, Header};
use sim::exit::Exit;
use sim::run::{RunOptions, run};
use sim::scenario::Scenario;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
pub use totals::Totals;
use totals::summarize;

#[derive(Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub file: String,
    #[command(flatten)]
    pub seeds: SeedsArgs,
    /// For a scenario with a [matrix]: the cell, as axis=value,... (others: first values).
    #[arg(long)]
    pub cell: Option<String>,
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Also report which coverage probes (branches of RocketMQ's mechanisms) the seeds reached.
    #[arg(long)]
    pub coverage: bool,
}

/// Which share of the seeds this process runs, and where its shard file goes.
#[derive(Args)]
pub struct ShardArgs {
    /// Run only shard K of N (0-based: 0/4 .. 3/4): a contiguous, even share of the seeds.
    #[arg(long, value_parser = Shard::parse, conflicts_with = "shard_from_env")]
    pub shard: Option<Shard>,
    /// Take K from JOB_COMPLETION_INDEX (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID
    /// (Slurm array, less SLURM_ARRAY_TASK_MIN) or SIM_SHARD_INDEX (a CI matrix).
    #[arg(long)]
    pub shard_from_env: bool,
    /// With --shard-from-env: N (default: SLURM_ARRAY_TASK_COUNT or SIM_SHARD_COUNT).
    #[arg(long, requires = "shard_from_env")]
    pub shards: Option<u64>,
    /// Write this run's totals as a shard file for `sim merge`.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<String>,
}

impl ShardArgs {
    /// The shard this process runs (the whole sweep without a flag), or the exit code after
    /// saying why not.
    fn shard(&self) -> Result<Shard, Exit> {
        let shard = match self.shard {
            Some(shard) => Ok(shard),
            None if self.shard_from_env => {
                Shard::from_env(self.shards, |name| std::env::var(name).ok())
            }
            None => Ok(Shard::WHOLE),
        };
        shard.map_err(|err| {
            errln!("error: {err}");
            Exit::BadInput
        })
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
    let shard = match args.shard.shard() {
        Ok(shard) => shard,
        Err(code) => return code,
    };
    let jobs = jobs(args.seeds.jobs);
    let started = Instant::now();
    let totals = sweep(&scenario, shard.seeds(&seeds), jobs);
    let effort = Effort {
        wall: started.elapsed(),
        jobs,
    };
    report::print(&Header::of(&scenario), &totals, &effort, args.seeds.json);
    if args.coverage {
        report::coverage(&totals, args.seeds.json);
    }
    let worst = totals.worst;
    match &args.shard.json_out {
        Some(path) => match write_shard(path, &args.file, &scenario, &seeds, shard, effort, totals)
        {
            Ok(()) => worst,
            Err(code) => code,
        },
        None => worst,
    }
}

/// Writes the shard file of a finished sweep, or says why not.
fn write_shard(
    path: &str,
    file: &str,
    scenario: &Scenario,
    seeds: &Range<u64>,
    shard: Shard,
    effort: Effort,
    totals: Totals,
) -> Result<(), Exit> {
    let text = sim::scenario::read(file).map_err(|err| {
        errln!("error: {err}");
        Exit::BadInput
    })?;
    let out = ShardFile {
        format: FORMAT.to_string(),
        sweep: SweepIdentity::of(scenario, &text, seeds, shard.count),
        shard: shard.index,
        seeds: shard.seeds(seeds),
        wall_ms: effort.wall.as_millis() as u64,
        jobs: effort.jobs,
        totals,
    };
    out.write(path).map_err(|err| {
        errln!("error: {err}");
        Exit::BadInput
    })
}

/// The worker count: as asked, else one per core.
pub fn jobs(asked: Option<usize>) -> usize {
    asked
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// Runs `seeds` on `jobs` threads (a fresh one per seed) behind a progress bar, adding each
/// result to the totals as it comes.
pub fn sweep(scenario: &Scenario, seeds: Range<u64>, jobs: usize) -> Totals {
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

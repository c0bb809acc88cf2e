//! `sim bench FILE --seeds A..B`: how fast a scenario runs, measured within one invocation
//! (ratios of one run are what compare; machines here are noisy).

use clap::Args;
use sim::exit::Exit;
use sim::run::{RunOptions, run};
use std::time::Instant;

#[derive(Args)]
pub struct BenchArgs {
    /// The scenario file.
    pub file: String,
    /// For a scenario with a [matrix]: the cell, as axis=value,... (others: first values).
    #[arg(long)]
    pub cell: Option<String>,
    /// Seeds to run, one after another on one core.
    #[arg(long, default_value = "0..50")]
    pub seeds: String,
    /// Also run a bare madsim program of the same shape (nodes, request/response pairs,
    /// simulated span) with no model, and report the scenario's cost against it.
    #[arg(long)]
    pub baseline: bool,
    #[command(flatten)]
    pub budget: super::BudgetArgs,
}

/// Resident memory in KiB, from /proc (Linux); 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

pub fn main(args: BenchArgs) -> Exit {
    let scenario = match super::load(&args.file, args.cell.as_deref()) {
        Ok(scenario) => args.budget.apply(scenario),
        Err(code) => return code,
    };
    let seeds = match super::seeds_arg(&args.seeds) {
        Ok(seeds) => seeds,
        Err(code) => return code,
    };
    // One warm-up run, so that the first measured one does not pay for page faults.
    let _ = run(&scenario, seeds.start, &RunOptions::default());
    let rss_before = rss_kib();
    let started = Instant::now();
    let mut walls = Vec::new();
    let (mut simulated, mut events) = (0u64, 0u64);
    let (mut checking, mut history) = (0.0f64, 0u64);
    let mut messages = 0u64;
    let mut rss_peak = rss_before;
    for seed in seeds.clone() {
        let result = run(&scenario, seed, &RunOptions::default());
        walls.push(result.wall.as_secs_f64() * 1000.0);
        if let Ok(finished) = &result.result {
            simulated += finished.outcome.end.as_ms();
            events += finished.outcome.events_handled;
            checking += finished.check_wall.as_secs_f64();
            history += finished.outcome.history.len() as u64;
            messages += finished.report.sends.counts.sends;
        }
        rss_peak = rss_peak.max(rss_kib());
    }
    let wall = started.elapsed().as_secs_f64();
    walls.sort_by(|a, b| a.total_cmp(b));
    let median = walls[walls.len() / 2];
    let runs = walls.len() as f64;
    outln!("{}: {} runs on one core", scenario.name, walls.len());
    outln!(
        "  wall per run      median {median:.2}ms  min {:.2}ms  max {:.2}ms",
        walls[0],
        walls[walls.len() - 1]
    );
    outln!(
        "  simulated per run {:.1}s",
        simulated as f64 / runs / 1000.0
    );
    outln!(
        "  speed             {:.0}x real time",
        simulated as f64 / (wall * 1000.0)
    );
    outln!(
        "  events            {:.0} per run, {:.0} per second",
        events as f64 / runs,
        events as f64 / wall
    );
    outln!(
        "  10,000 seeds      about {:.0}s on 2 cores at this speed",
        median / 1000.0 * 10_000.0 / 2.0
    );
    outln!(
        "  checker           {:.2}ms per run ({:.1}% of the wall), {:.0} history entries per run, {:.2}us per entry",
        checking * 1000.0 / runs,
        checking * 100.0 / wall,
        history as f64 / runs,
        checking * 1e6 / (history.max(1) as f64)
    );
    outln!(
        "  memory            {} KiB resident after warm-up, {} KiB at most during the runs",
        rss_before,
        rss_peak
    );
    if args.baseline {
        let shape = sim::baseline::Shape {
            nodes: scenario.nodes.len(),
            messages: messages / walls.len() as u64,
            span_ms: simulated / walls.len() as u64,
        };
        let scenario_cost = Cost {
            wall,
            events,
            messages,
        };
        compare(shape, seeds, scenario_cost);
    }
    Exit::Pass
}

/// What a series of runs cost: wall time, events handled and messages sent in all.
struct Cost {
    wall: f64,
    events: u64,
    messages: u64,
}

impl Cost {
    fn per_event_us(&self) -> f64 {
        self.wall * 1e6 / self.events.max(1) as f64
    }

    fn per_message_us(&self) -> f64 {
        self.wall * 1e6 / self.messages.max(1) as f64
    }
}

/// Runs the bare baseline over the same seeds and prints both costs and their ratio.
fn compare(shape: sim::baseline::Shape, seeds: std::ops::Range<u64>, scenario: Cost) {
    let started = Instant::now();
    let mut baseline = Cost {
        wall: 0.0,
        events: 0,
        messages: 0,
    };
    for seed in seeds {
        let run = sim::baseline::run(shape, seed);
        baseline.events += run.events;
        baseline.messages += shape.messages;
    }
    baseline.wall = started.elapsed().as_secs_f64();
    outln!(
        "  baseline          bare madsim, {} nodes, {} request/response pairs over {:.1}s",
        shape.nodes,
        shape.messages,
        shape.span_ms as f64 / 1000.0
    );
    outln!(
        "  per event         {:.2}us (baseline {:.2}us): {:.2}x",
        scenario.per_event_us(),
        baseline.per_event_us(),
        scenario.per_event_us() / baseline.per_event_us()
    );
    outln!(
        "  per message       {:.2}us (baseline {:.2}us): {:.2}x",
        scenario.per_message_us(),
        baseline.per_message_us(),
        scenario.per_message_us() / baseline.per_message_us()
    );
}

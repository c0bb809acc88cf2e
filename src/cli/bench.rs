//! `sim bench FILE --seeds A..B`: how fast a scenario runs, measured within one invocation
//! (ratios of one run are what compare; machines here are noisy).

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
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
    /// Print the measurements as JSON.
    #[arg(long)]
    pub json: bool,
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
    let m = measure(&scenario, seeds.clone());
    let baseline = args.baseline.then(|| {
        let runs = m.walls.len() as u64;
        let shape = sim::baseline::Shape {
            nodes: scenario.nodes.len(),
            messages: m.messages / runs,
            span_ms: m.simulated / runs,
        };
        (shape, baseline(shape, seeds))
    });
    if args.json {
        outln!("{}", json(&scenario.name, &m, baseline.as_ref()));
    } else {
        text(&scenario.name, &m);
        if let Some((shape, cost)) = &baseline {
            compare(*shape, &m.cost(), cost);
        }
    }
    Exit::Pass
}

/// What the seeds' runs took, together.
struct Measured {
    /// Wall time per run, in ms, ascending.
    walls: Vec<f64>,
    wall: f64,
    simulated: u64,
    events: u64,
    checking: f64,
    history: u64,
    messages: u64,
    rss_before: u64,
    rss_peak: u64,
    /// The warm-up run's events by kind.
    kinds: Option<super::bench_kinds::Kinds>,
}

impl Measured {
    fn runs(&self) -> f64 {
        self.walls.len() as f64
    }

    fn median(&self) -> f64 {
        self.walls[self.walls.len() / 2]
    }

    fn speed(&self) -> f64 {
        self.simulated as f64 / (self.wall * 1000.0)
    }

    fn cost(&self) -> Cost {
        Cost {
            wall: self.wall,
            events: self.events,
            messages: self.messages,
        }
    }
}

/// Runs the seeds one after another, after one warm-up run (so that the first measured one
/// does not pay for page faults), which counts its events by kind.
fn measure(scenario: &sim::scenario::Scenario, seeds: std::ops::Range<u64>) -> Measured {
    let counting = RunOptions {
        count_event_kinds: true,
        ..RunOptions::default()
    };
    let warm_up = run(scenario, seeds.start, &counting);
    let kinds = super::bench_kinds::Kinds::of(seeds.start, &warm_up);
    let rss_before = rss_kib();
    let mut m = Measured {
        walls: Vec::new(),
        wall: 0.0,
        simulated: 0,
        events: 0,
        checking: 0.0,
        history: 0,
        messages: 0,
        rss_before,
        rss_peak: rss_before,
        kinds,
    };
    let bar = ProgressBar::new(seeds.end - seeds.start);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs")
    {
        bar.set_style(style);
    }
    let started = Instant::now();
    for seed in seeds {
        bar.inc(1);
        let result = run(scenario, seed, &RunOptions::default());
        m.walls.push(result.wall.as_secs_f64() * 1000.0);
        if let Ok(finished) = &result.result {
            m.simulated += finished.outcome.end.as_ms();
            m.events += finished.outcome.events_handled;
            m.checking += finished.check_wall.as_secs_f64();
            m.history += finished.outcome.history.len() as u64;
            m.messages += finished.report.sends.counts.sends;
        }
        m.rss_peak = m.rss_peak.max(rss_kib());
    }
    m.wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    m.walls.sort_by(|a, b| a.total_cmp(b));
    m
}

fn text(name: &str, m: &Measured) {
    let runs = m.runs();
    outln!("{name}: {} runs on one core", m.walls.len());
    outln!(
        "  wall per run      median {:.2}ms  min {:.2}ms  max {:.2}ms",
        m.median(),
        m.walls[0],
        m.walls[m.walls.len() - 1]
    );
    outln!(
        "  simulated per run {:.1}s",
        m.simulated as f64 / runs / 1000.0
    );
    outln!("  speed             {:.0}x real time", m.speed());
    outln!(
        "  events            {:.0} per run, {:.0} per second",
        m.events as f64 / runs,
        m.events as f64 / m.wall
    );
    outln!(
        "  10,000 seeds      about {:.0}s on 2 cores at this speed",
        m.median() / 1000.0 * 10_000.0 / 2.0
    );
    outln!(
        "  checker           {:.2}ms per run ({:.1}% of the wall), {:.0} history entries per run, {:.2}us per entry",
        m.checking * 1000.0 / runs,
        m.checking * 100.0 / m.wall,
        m.history as f64 / runs,
        m.checking * 1e6 / (m.history.max(1) as f64)
    );
    outln!(
        "  memory            {} KiB resident after warm-up, {} KiB at most during the runs",
        m.rss_before,
        m.rss_peak
    );
    if let Some(kinds) = &m.kinds {
        kinds.text();
    }
}

fn json(name: &str, m: &Measured, baseline: Option<&(sim::baseline::Shape, Cost)>) -> String {
    let runs = m.runs();
    let scenario = m.cost();
    let value = serde_json::json!({
        "scenario": name,
        "runs": m.walls.len(),
        "wall_ms": m.wall * 1000.0,
        "wall_per_run_ms": {"median": m.median(), "min": m.walls[0], "max": m.walls[m.walls.len() - 1]},
        "simulated_per_run_ms": m.simulated as f64 / runs,
        "speed": m.speed(),
        "events_per_run": m.events as f64 / runs,
        "events_per_second": m.events as f64 / m.wall,
        "ten_thousand_seeds_on_two_cores_s": m.median() / 1000.0 * 10_000.0 / 2.0,
        "checker_ms_per_run": m.checking * 1000.0 / runs,
        "checker_share": m.checking / m.wall,
        "history_entries_per_run": m.history as f64 / runs,
        "checker_us_per_entry": m.checking * 1e6 / (m.history.max(1) as f64),
        "rss_kib_after_warm_up": m.rss_before,
        "rss_kib_peak": m.rss_peak,
        "events_by_kind": m.kinds.as_ref().map(super::bench_kinds::Kinds::json),
        "per_event_us": scenario.per_event_us(),
        "per_message_us": scenario.per_message_us(),
        "baseline": baseline.map(|(shape, cost)| serde_json::json!({
            "nodes": shape.nodes, "messages": shape.messages, "span_ms": shape.span_ms,
            "per_event_us": cost.per_event_us(), "per_message_us": cost.per_message_us(),
            "per_event_ratio": scenario.per_event_us() / cost.per_event_us(),
            "per_message_ratio": scenario.per_message_us() / cost.per_message_us(),
        })),
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
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

/// Runs the bare baseline over the same seeds: what it cost.
fn baseline(shape: sim::baseline::Shape, seeds: std::ops::Range<u64>) -> Cost {
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
    baseline
}

/// Prints both costs and their ratio.
fn compare(shape: sim::baseline::Shape, scenario: &Cost, baseline: &Cost) {
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

//! What a sweep keeps of its seeds: one `SeedResult` per seed while it is added, and the
//! running `Totals` (sums, counts, each seed's verdict and digest, the lowest failing seeds).
//! Totals are written to and read from shard files, and two of them merge into the totals of
//! the union of their seeds.

use serde::{Deserialize, Serialize};
use sim::check::{RedeliveryCauses, Verdict};
use sim::exit::Exit;
use sim::report::{Summary, exit_code};
use sim::scenario::Scenario;

/// What a sweep keeps of one seed (the history itself is dropped at once).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub exit_code: Exit,
    pub simulated_ms: u64,
    /// Whether the run's read-back finished: otherwise its losses and consumer figures were
    /// not measured, and the totals leave them out.
    #[serde(default = "measured_by_default")]
    pub measured: bool,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    lost_unexplained: u64,
    duplicated: u64,
    recovered: u64,
    pub latency_p99_ms: u64,
    /// The longest time the run's producers went without a SEND_OK.
    #[serde(default)]
    pub unavailable_ms: u64,
    /// Summed over the scenario's consumer groups.
    consumers: ConsumerTotals,
    pub failed_expectations: Vec<String>,
    pub problem: Option<String>,
    /// The trace digest (none for a run that crashed).
    digest: Option<String>,
    /// Whether the run reached each coverage probe (`model::probe::ALL`).
    #[serde(default)]
    probes: Vec<bool>,
}

fn measured_by_default() -> bool {
    true
}

/// Consumer figures of one seed, summed over its groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerTotals {
    pub redelivered: u64,
    /// Per cause, in the order of `RedeliveryCauses::named`.
    pub causes: [u64; RedeliveryCauses::COUNT],
    pub reordered: u64,
    pub rewinds: u64,
    pub skipped: u64,
    pub dead_lettered: u64,
    pub abandoned: u64,
}

/// The redelivery causes' names, in the order `ConsumerTotals::causes` keeps them.
pub fn cause_names() -> [&'static str; RedeliveryCauses::COUNT] {
    RedeliveryCauses::default().named().map(|(name, _)| name)
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
            totals.add(&ConsumerTotals {
                redelivered: g.redelivered,
                causes: g.redelivered_by_cause.named().map(|(_, count)| count),
                reordered: g.reordered,
                rewinds: g.rewinds,
                skipped: g.skipped,
                dead_lettered: g.dead_lettered,
                abandoned: g.abandoned,
            });
        }
        totals
    }
}

/// What a sweep keeps of one finished run.
pub fn summarize(scenario: &Scenario, seed: u64, run: &sim::run::RunResult) -> SeedResult {
    let summary = Summary::of(scenario, run);
    let counts = summary
        .sends
        .as_ref()
        .map(|s| s.counts.clone())
        .unwrap_or_default();
    SeedResult {
        seed,
        exit_code: exit_code(run),
        simulated_ms: summary.simulated_ms,
        measured: !summary.unmeasured,
        // A transaction promises what its application committed: those count as its sends.
        lost: counts.lost + counts.transactions.lost,
        lost_unconfirmed: counts.lost_unconfirmed,
        lost_unexplained: counts.lost_unexplained + counts.transactions.lost_unexplained,
        duplicated: counts.duplicated + counts.transactions.duplicated,
        recovered: counts.recovered,
        latency_p99_ms: summary.sends.as_ref().map_or(0, |s| s.latency_p99_ms),
        unavailable_ms: summary.sends.as_ref().map_or(0, |s| s.unavailable_ms),
        consumers: ConsumerTotals::of(&summary.consumers),
        failed_expectations: summary
            .expectations
            .iter()
            .filter(|e| e.verdict != Verdict::Pass)
            .map(|e| format!("{} {} (observed {})", e.name, e.condition, e.observed))
            .collect(),
        problem: summary.problem,
        digest: run.result.as_ref().ok().map(|f| f.outcome.digest.clone()),
        probes: run.result.as_ref().ok().map_or_else(Vec::new, |f| {
            f.outcome.probes.iter().map(|hits| *hits > 0).collect()
        }),
    }
}

/// Failing seeds a sweep keeps for its report (the lowest ones); the rest are counted.
const KEPT_FAILING_SEEDS: usize = 1_000;

/// What a sweep keeps of its seeds: sums and counts, each seed's p99 send latency, verdict and
/// digest (a few dozen bytes a seed), and the lowest failing seeds. Nothing is allocated per
/// seed up front.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Totals {
    pub seeds: u64,
    pub pass: u64,
    pub fail: u64,
    pub unknown: u64,
    pub panic: u64,
    /// Seeds that violated a model invariant.
    pub invariant: u64,
    /// Seeds whose read-back did not finish: their losses and consumer figures are in no
    /// total below.
    #[serde(default)]
    pub unmeasured: u64,
    pub seeds_with_loss: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    pub lost_unexplained: u64,
    pub duplicated: u64,
    pub recovered: u64,
    pub simulated_ms: u64,
    pub consumers: ConsumerTotals,
    pub seeds_with_redelivery: u64,
    pub seeds_with_reordering: u64,
    pub latency_p99s_ms: Vec<u64>,
    /// Each seed's longest time without a SEND_OK.
    #[serde(default)]
    pub unavailable_ms: Vec<u64>,
    /// The lowest failing seeds, in seed order (at most `KEPT_FAILING_SEEDS`).
    pub failing: Vec<SeedResult>,
    /// Every failing seed, kept or not.
    pub failing_count: u64,
    /// The worst exit code of any seed.
    pub worst: Exit,
    /// Every seed's verdict and trace digest, in the order the seeds finished.
    pub per_seed: Vec<SeedOutcome>,
    /// Per coverage probe (`model::probe::ALL`), the seeds that reached it.
    #[serde(default)]
    pub probe_seeds: Vec<u64>,
}

/// One seed's outcome in a sweep's JSON: enough to compare two sweeps seed by seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedOutcome {
    pub seed: u64,
    pub exit_code: Exit,
    pub digest: Option<String>,
}

impl Totals {
    pub fn add(&mut self, result: SeedResult) {
        self.seeds += 1;
        match result.exit_code {
            Exit::Pass => self.pass += 1,
            Exit::Fail => self.fail += 1,
            Exit::Liveness => self.unknown += 1,
            Exit::Invariant => self.invariant += 1,
            Exit::Bug | Exit::BadInput => self.panic += 1,
        }
        self.worst = self.worst.worst(result.exit_code);
        self.simulated_ms += result.simulated_ms;
        self.latency_p99s_ms.push(result.latency_p99_ms);
        self.unavailable_ms.push(result.unavailable_ms);
        self.add_probes(result.probes.iter().map(|hit| u64::from(*hit)));
        if result.measured {
            self.add_measured(&result);
        } else {
            self.unmeasured += 1;
        }
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

    /// The figures only a finished read-back measures.
    fn add_measured(&mut self, result: &SeedResult) {
        self.seeds_with_loss += u64::from(result.lost > 0);
        self.lost += result.lost;
        self.lost_unconfirmed += result.lost_unconfirmed;
        self.lost_unexplained += result.lost_unexplained;
        self.duplicated += result.duplicated;
        self.recovered += result.recovered;
        self.seeds_with_redelivery += u64::from(result.consumers.redelivered > 0);
        self.seeds_with_reordering += u64::from(result.consumers.reordered > 0);
        self.consumers.add(&result.consumers);
    }

    /// Adds seeds' counts per probe.
    fn add_probes(&mut self, counts: impl Iterator<Item = u64>) {
        for (index, count) in counts.enumerate() {
            if self.probe_seeds.len() <= index {
                self.probe_seeds.resize(index + 1, 0);
            }
            self.probe_seeds[index] += count;
        }
    }

    /// Seeds whose losses were measured.
    pub fn measured(&self) -> u64 {
        self.seeds - self.unmeasured
    }

    /// Adds the totals of other seeds (another shard of the same sweep).
    pub fn merge(&mut self, other: Totals) {
        let counts = [
            (&mut self.seeds, other.seeds),
            (&mut self.pass, other.pass),
            (&mut self.fail, other.fail),
            (&mut self.unknown, other.unknown),
            (&mut self.panic, other.panic),
            (&mut self.invariant, other.invariant),
            (&mut self.unmeasured, other.unmeasured),
            (&mut self.seeds_with_loss, other.seeds_with_loss),
            (&mut self.lost, other.lost),
            (&mut self.lost_unconfirmed, other.lost_unconfirmed),
            (&mut self.lost_unexplained, other.lost_unexplained),
            (&mut self.duplicated, other.duplicated),
            (&mut self.recovered, other.recovered),
            (&mut self.simulated_ms, other.simulated_ms),
            (&mut self.seeds_with_redelivery, other.seeds_with_redelivery),
            (&mut self.seeds_with_reordering, other.seeds_with_reordering),
            (&mut self.failing_count, other.failing_count),
        ];
        for (total, count) in counts {
            *total += count;
        }
        self.consumers.add(&other.consumers);
        self.add_probes(other.probe_seeds.into_iter());
        self.latency_p99s_ms.extend(other.latency_p99s_ms);
        self.unavailable_ms.extend(other.unavailable_ms);
        self.per_seed.extend(other.per_seed);
        self.worst = self.worst.worst(other.worst);
        for result in other.failing {
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
        median(&self.latency_p99s_ms)
    }

    /// The longest time without a SEND_OK of any seed.
    pub fn worst_unavailable_ms(&self) -> u64 {
        self.unavailable_ms.iter().copied().max().unwrap_or(0)
    }

    /// Every seed's outcome, in seed order.
    pub fn per_seed_sorted(&self) -> Vec<SeedOutcome> {
        let mut seeds = self.per_seed.clone();
        seeds.sort_by_key(|s| s.seed);
        seeds
    }
}

/// The median of `values` (0 for none).
fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

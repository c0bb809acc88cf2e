//! Sharded sweeps: which seeds shard K of N runs (`--shard K/N`, or K from the engine's
//! environment: a Kubernetes Indexed Job, a Slurm array, a CI matrix), and the shard file
//! (`--json-out`) that `sim merge` reads: the shard's totals with what identifies the sweep
//! it is part of (the binary, the scenario text, the cell, the budgets, the seed range).

use super::sweep::report::Header;
use super::sweep::totals::Totals;
use serde::{Deserialize, Serialize};
use sim::rng::fnv1a;
use sim::scenario::Scenario;
use sim::scenario::limits;
use std::ops::Range;

/// Shard `index` of `count` (0-based: shards `0/4` to `3/4`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// The most shards one sweep may be cut into.
pub const MAX_SHARDS: u64 = 100_000;

impl Shard {
    /// The whole sweep as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N` with 0 <= K < N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (e.g. 0/4: the first of four shards)"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{}` in `{text}` is not a whole number", s.trim()))
        };
        Shard::new(number(index)?, number(count)?)
    }

    fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{count} shards: give 1 to {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count}: shards are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard from the environment: its index from `JOB_COMPLETION_INDEX` (Kubernetes),
    /// `SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN` (Slurm) or `SIM_SHARD_INDEX` (a CI
    /// matrix); the count from `count`, else `SLURM_ARRAY_TASK_COUNT` or `SIM_SHARD_COUNT`.
    pub fn from_env(
        count: Option<u64>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        let number = |name: &str| -> Result<Option<u64>, String> {
            var(name)
                .map(|text| {
                    text.trim().parse::<u64>().map_err(|_| {
                        format!("environment variable {name}=`{text}` is not a whole number")
                    })
                })
                .transpose()
        };
        let index = match (
            number("JOB_COMPLETION_INDEX")?,
            number("SLURM_ARRAY_TASK_ID")?,
        ) {
            (Some(index), _) => index,
            (None, Some(task)) => task
                .checked_sub(number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0))
                .ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?,
            (None, None) => number("SIM_SHARD_INDEX")?.ok_or(
                "--shard-from-env: none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or \
                 SIM_SHARD_INDEX is set",
            )?,
        };
        let count = match count {
            Some(count) => count,
            None => number("SLURM_ARRAY_TASK_COUNT")?
                .or(number("SIM_SHARD_COUNT")?)
                .ok_or(
                    "--shard-from-env: give --shards N (or set SLURM_ARRAY_TASK_COUNT or \
                     SIM_SHARD_COUNT)",
                )?,
        };
        Shard::new(index, count)
    }

    /// This shard's seeds of `seeds`: contiguous, and the shards' sizes differ by one at most.
    pub fn seeds(self, seeds: &Range<u64>) -> Range<u64> {
        let len = u128::from(seeds.end - seeds.start);
        let at = |k: u64| seeds.start + (len * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// What makes shards parts of one sweep: equal in every shard of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepIdentity {
    /// The `sim` version and the FNV-1a digest of its executable.
    pub binary: String,
    pub scenario: Header,
    /// FNV-1a of the scenario file's text.
    pub scenario_digest: String,
    /// The run budgets after the command line's overrides.
    pub simulated_time_budget_ms: u64,
    pub event_budget: u64,
    pub seeds: Range<u64>,
    pub shards: u64,
}

impl SweepIdentity {
    pub fn of(scenario: &Scenario, text: &str, seeds: &Range<u64>, shards: u64) -> SweepIdentity {
        SweepIdentity {
            binary: binary_identity(),
            scenario: Header::of(scenario),
            scenario_digest: format!("{:016x}", fnv1a(text.as_bytes())),
            simulated_time_budget_ms: scenario.budget.simulated_ms,
            event_budget: scenario.budget.events,
            seeds: seeds.clone(),
            shards,
        }
    }
}

/// The running executable: its version and the digest of its bytes (a rebuilt binary may
/// give other digests for the same seed, so shards of two builds do not merge).
fn binary_identity() -> String {
    let bytes = std::env::current_exe().and_then(std::fs::read);
    match bytes {
        Ok(bytes) => format!("sim {} {:016x}", env!("CARGO_PKG_VERSION"), fnv1a(&bytes)),
        Err(_) => format!("sim {} (executable unreadable)", env!("CARGO_PKG_VERSION")),
    }
}

/// The format tag of shard files.
pub const FORMAT: &str = "rmq-sim sweep shard 1";

/// A shard file: one shard's totals and the sweep it belongs to.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile {
    pub format: String,
    pub sweep: SweepIdentity,
    pub shard: u64,
    /// The seeds this shard ran.
    pub seeds: Range<u64>,
    pub wall_ms: u64,
    pub jobs: usize,
    pub totals: Totals,
}

impl ShardFile {
    /// Writes the file, or says why not.
    pub fn write(&self, path: &str) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|err| format!("{path}: {err}"))?;
        std::fs::write(path, text + "\n").map_err(|err| format!("cannot write {path}: {err}"))
    }

    /// Reads a shard file, or says why it is not one.
    pub fn read(path: &str) -> Result<ShardFile, String> {
        let text =
            std::fs::read_to_string(path).map_err(|err| format!("cannot read {path}: {err}"))?;
        let file: ShardFile = serde_json::from_str(&text)
            .map_err(|err| format!("{path}: not a shard file of `sim sweep --json-out`: {err}"))?;
        if file.format != FORMAT {
            return Err(format!(
                "{path}: format `{}`, expected `{FORMAT}`",
                file.format
            ));
        }
        Shard::new(file.shard, file.sweep.shards).map_err(|err| format!("{path}: {err}"))?;
        let seeds = &file.sweep.seeds;
        if seeds.is_empty() || seeds.end - seeds.start > limits::MAX_SEEDS {
            return Err(format!(
                "{path}: the sweep's seeds {seeds:?} are not a sweep's"
            ));
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_cover_the_seeds_once_and_evenly() {
        for (range, count) in [(0..10, 4), (5..6, 3), (0..1_000_000, 7), (3..4, 1)] {
            let mut next = range.start;
            for index in 0..count {
                let seeds = Shard { index, count }.seeds(&range);
                assert_eq!(seeds.start, next);
                let len = seeds.end - seeds.start;
                let even = (range.end - range.start) / count;
                assert!(len == even || len == even + 1, "{seeds:?} of {range:?}");
                next = seeds.end;
            }
            assert_eq!(next, range.end);
        }
    }

    #[test]
    fn shard_specs() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("0 to 3"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("a/4").is_err());
    }

    #[test]
    fn shards_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            }
        };
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert_eq!(
            Shard::from_env(Some(8), k8s),
            Ok(Shard { index: 3, count: 8 })
        );
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::from_env(None, slurm),
            Ok(Shard { index: 4, count: 8 })
        );
        assert!(Shard::from_env(Some(4), env(&[])).is_err());
        assert!(Shard::from_env(None, env(&[("SIM_SHARD_INDEX", "1")])).is_err());
        assert!(Shard::from_env(Some(4), env(&[("SIM_SHARD_INDEX", "x")])).is_err());
    }
}

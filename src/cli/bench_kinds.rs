//! Where a scenario's events go, for `sim bench`: the warm-up run counts the events it handles
//! by kind (requests and responses by code, timers by name, flush completions and the
//! transport's own events), each per simulated second and per delivered message.

use sim::run::RunResult;
use std::collections::BTreeMap;

/// The lines the text shows; the JSON has every kind.
const SHOWN: usize = 12;

/// One run's events by kind.
pub struct Kinds {
    pub seed: u64,
    simulated_ms: u64,
    /// Messages handed to listeners (every group, every delivery).
    delivered: u64,
    counts: BTreeMap<String, u64>,
}

impl Kinds {
    /// The counts of a run made with `count_event_kinds`, if it finished.
    pub fn of(seed: u64, result: &RunResult) -> Option<Kinds> {
        let finished = result.result.as_ref().ok()?;
        let delivered = finished.report.consumers.iter().map(|g| g.deliveries).sum();
        Some(Kinds {
            seed,
            simulated_ms: finished.outcome.end.as_ms(),
            delivered,
            counts: finished.outcome.event_kinds.clone(),
        })
    }

    /// Kinds, most frequent first (ties by name): (kind, count, per simulated second, per
    /// delivered message; `None` without deliveries).
    fn ranked(&self) -> Vec<(&str, u64, f64, Option<f64>)> {
        let seconds = self.simulated_ms.max(1) as f64 / 1000.0;
        let mut ranked: Vec<(&str, u64, f64, Option<f64>)> = (self.counts.iter())
            .map(|(kind, count)| {
                let per_message =
                    (self.delivered > 0).then(|| *count as f64 / self.delivered as f64);
                (kind.as_str(), *count, *count as f64 / seconds, per_message)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ranked
    }

    pub fn text(&self) {
        outln!(
            "  events by kind    seed {}: per simulated second, per delivered message ({} delivered)",
            self.seed,
            self.delivered
        );
        for (kind, count, per_second, per_message) in self.ranked().into_iter().take(SHOWN) {
            let per_message = per_message.map_or("-".to_string(), |m| format!("{m:.2}"));
            outln!("    {kind:<44} {count:>9}  {per_second:>8.1}/s  {per_message:>6}");
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let kinds: Vec<serde_json::Value> = (self.ranked().into_iter())
            .map(|(kind, count, per_second, per_message)| {
                serde_json::json!({
                    "kind": kind,
                    "count": count,
                    "per_simulated_second": per_second,
                    "per_delivered_message": per_message,
                })
            })
            .collect();
        serde_json::json!({
            "seed": self.seed,
            "simulated_ms": self.simulated_ms,
            "delivered": self.delivered,
            "kinds": kinds,
        })
    }
}

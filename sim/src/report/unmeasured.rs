//! What a run whose read-back did not finish leaves unmeasured, so that no output reports a
//! count it did not measure: the figures of every expectation that needs the read-back (the
//! checker's table, `check::read_back_figures`) and the figures that go with them. The JSON of
//! such a run has `null` there; the text says "unknown"; sweeps leave the run out of their
//! totals and count it as not measured.

use crate::check::expectations::counting;
use serde_json::Value;

/// Figures that rest on the read-back without an expectation of their own, each beside the
/// expectation whose figure it goes with.
const COMPANIONS: &[(&str, &str)] = &[
    ("lost", "stored"),
    ("lost", "lost_after_delivery"),
    ("redelivered", "redelivered_by_cause"),
    ("filtered", "filtered_by_client"),
    ("retry_lost", "send_backs_lost"),
    ("txn_lost", "txn_visible"),
];

/// The names of the figures an unfinished read-back leaves unmeasured (`txn_` for the
/// transaction counts).
pub fn figures() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = crate::check::read_back_figures().collect();
    for (with, companion) in COMPANIONS {
        if names.contains(with) {
            names.push(companion);
        }
    }
    names
}

/// Whether an anomaly of this kind is a witness of one of the unmeasured `figures`: of an
/// expectation among them that counts the kind, or resting on the read-back itself.
pub fn witness_unmeasured(kind: crate::check::AnomalyKind, figures: &[&str]) -> bool {
    kind.needs_read_back() || counting(kind).any(|e| figures.contains(&e.name))
}

/// Sets every unmeasured figure of a summary's JSON to `null`: in the send counts, their
/// transaction counts and each consumer group's figures.
pub fn forget(summary: &mut Value) {
    let names = figures();
    let counts = summary.pointer_mut("/sends/counts").cloned();
    if let Some(mut counts) = counts {
        for name in &names {
            match name.strip_prefix("txn_") {
                Some(txn) => forget_key(counts.get_mut("transactions"), txn),
                None => forget_key(Some(&mut counts), name),
            }
        }
        summary["sends"]["counts"] = counts;
    }
    if let Some(Value::Array(groups)) = summary.get_mut("consumers") {
        for group in groups {
            for name in &names {
                forget_key(Some(group), name);
            }
        }
    }
}

fn forget_key(object: Option<&mut Value>, key: &str) {
    if let Some(value) = object.and_then(|o| o.get_mut(key)) {
        *value = Value::Null;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_and_their_companions_are_unmeasured_and_latencies_are_not() {
        let names = figures();
        for name in [
            "lost",
            "lost_unexplained",
            "stored",
            "skipped",
            "txn_lost",
            "txn_visible",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        for name in ["weak_acks", "failed", "rewinds", "broken_promises"] {
            assert!(!names.contains(&name), "{name}");
        }
    }

    #[test]
    fn forgetting_nulls_counts_transactions_and_groups() {
        let mut summary = serde_json::json!({
            "sends": {"counts": {"lost": 3, "acked": 9, "transactions": {"lost": 1, "committed": 2}}},
            "consumers": [{"lost": 4, "rewinds": 1}],
        });
        forget(&mut summary);
        assert_eq!(summary["sends"]["counts"]["lost"], Value::Null);
        assert_eq!(summary["sends"]["counts"]["acked"], 9);
        assert_eq!(
            summary["sends"]["counts"]["transactions"]["lost"],
            Value::Null
        );
        assert_eq!(summary["sends"]["counts"]["transactions"]["committed"], 2);
        assert_eq!(summary["consumers"][0]["lost"], Value::Null);
        assert_eq!(summary["consumers"][0]["rewinds"], 1);
    }
}

//! The expectations of a scenario's `[expect]`, judged: one table of count expectations
//! (name, whether it needs the read-back, where the scenario keeps its condition, how the
//! checker measures it) and the time expectations. A count that needs the read-back is
//! `unknown` without it, never a number.

use super::{ExpectationResult, GroupFigures, RouteFigures, SendCounts, SendFigures, Verdict};
use crate::scenario::Scenario;
use crate::scenario::units::Condition;

/// What the expectations are judged against.
pub(super) struct Observed<'a> {
    pub sends: &'a SendFigures,
    pub groups: &'a [GroupFigures],
    pub routes: &'a RouteFigures,
    /// How long each hand-over of a queue between consumers took, in ms.
    pub handovers: &'a [u64],
    /// Whether the run drained and was read back completely.
    pub complete: bool,
}

/// The figures of the expectations that need the read-back: an unfinished one leaves them
/// unmeasured.
pub fn read_back_figures() -> impl Iterator<Item = &'static str> {
    COUNTS.iter().filter(|e| e.needs_read_back).map(|e| e.name)
}

/// Every expectation the scenario declares (and does not merely observe), in report order.
pub(super) fn judge(scenario: &Scenario, observed: &Observed<'_>) -> Vec<ExpectationResult> {
    let mut results = Vec::new();
    for expectation in COUNTS {
        let Some(condition) = (expectation.condition)(&scenario.expect) else {
            continue;
        };
        if condition.is_observe() {
            continue;
        }
        let value = (expectation.observed)(&observed.sends.counts, observed.groups);
        let verdict = if expectation.needs_read_back && !observed.complete {
            Verdict::Unknown
        } else if condition.holds(value) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        let observed = if verdict == Verdict::Unknown {
            "unknown".to_string()
        } else {
            value.to_string()
        };
        results.push(ExpectationResult {
            name: expectation.name,
            condition: condition.describe(false),
            observed,
            verdict,
        });
    }
    let expect = &scenario.expect;
    let routes = observed.routes;
    let times: [(&'static str, &Option<Condition>, &[u64]); 5] = [
        (
            "unavailable",
            &expect.unavailable,
            &[observed.sends.unavailable_ms],
        ),
        (
            "removal_after_kill",
            &expect.removal_after_kill,
            &routes.removal_after_kill_ms,
        ),
        (
            "removal_after_silence",
            &expect.removal_after_silence,
            &routes.removal_after_silence_ms,
        ),
        (
            "route_catch_up",
            &expect.route_catch_up,
            &routes.route_catch_up_ms,
        ),
        ("handover", &expect.handover, observed.handovers),
    ];
    for (name, condition, samples) in times {
        results.extend(time(name, condition, samples));
    }
    results
}

/// A time expectation: every sample must meet the condition, and there must be one.
fn time(
    name: &'static str,
    condition: &Option<Condition>,
    samples: &[u64],
) -> Option<ExpectationResult> {
    let condition = condition.as_ref().filter(|c| !c.is_observe())?;
    let verdict = if !samples.is_empty() && samples.iter().all(|s| condition.holds(*s)) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    Some(ExpectationResult {
        name,
        condition: condition.describe(true),
        observed: describe_samples(samples),
        verdict,
    })
}

/// One count expectation: its name in `[expect]`, where the scenario keeps its condition, how
/// the checker measures it, and whether it needs the read-back (unknown without it). Its
/// default lives in `scenario::validate` (`expectations`).
struct CountExpectation {
    name: &'static str,
    needs_read_back: bool,
    condition: fn(&crate::scenario::Expectations) -> &Option<Condition>,
    observed: fn(&SendCounts, &[GroupFigures]) -> u64,
}

/// The sum of a figure over the consumer groups.
fn groups(groups: &[GroupFigures], pick: fn(&GroupFigures) -> u64) -> u64 {
    groups.iter().map(pick).sum()
}

/// Every count expectation, in report order.
const COUNTS: &[CountExpectation] = &[
    CountExpectation {
        name: "lost",
        needs_read_back: true,
        condition: |e| &e.lost,
        observed: |c, _| c.lost,
    },
    CountExpectation {
        name: "lost_unconfirmed",
        needs_read_back: true,
        condition: |e| &e.lost_unconfirmed,
        observed: |c, _| c.lost_unconfirmed,
    },
    CountExpectation {
        name: "lost_unexplained",
        needs_read_back: true,
        condition: |e| &e.lost_unexplained,
        observed: |c, _| c.lost_unexplained,
    },
    CountExpectation {
        name: "recovered",
        needs_read_back: true,
        condition: |e| &e.recovered,
        observed: |c, _| c.recovered,
    },
    CountExpectation {
        name: "duplicated",
        needs_read_back: true,
        condition: |e| &e.duplicated,
        observed: |c, _| c.duplicated,
    },
    CountExpectation {
        name: "redelivered",
        needs_read_back: true,
        condition: |e| &e.redelivered,
        observed: |_, g| groups(g, |g| g.redelivered),
    },
    CountExpectation {
        name: "redelivered_unexplained",
        needs_read_back: true,
        condition: |e| &e.redelivered_unexplained,
        observed: |_, g| groups(g, |g| g.redelivered_unexplained),
    },
    CountExpectation {
        name: "stale_deliveries",
        needs_read_back: false,
        condition: |e| &e.stale_deliveries,
        observed: |_, g| groups(g, |g| g.stale_deliveries),
    },
    CountExpectation {
        name: "abandoned",
        needs_read_back: true,
        condition: |e| &e.abandoned,
        observed: |_, g| groups(g, |g| g.abandoned),
    },
    CountExpectation {
        name: "retry_lost",
        needs_read_back: true,
        condition: |e| &e.retry_lost,
        observed: |_, g| groups(g, |g| g.retry_lost),
    },
    CountExpectation {
        name: "failed_acked",
        needs_read_back: true,
        condition: |e| &e.failed_acked,
        observed: |_, g| groups(g, |g| g.failed_acked),
    },
    CountExpectation {
        name: "orderly_overlaps",
        needs_read_back: false,
        condition: |e| &e.orderly_overlaps,
        observed: |_, g| groups(g, |g| g.orderly_overlaps),
    },
    CountExpectation {
        name: "reordered",
        needs_read_back: true,
        condition: |e| &e.reordered,
        observed: |_, g| groups(g, |g| g.reordered),
    },
    CountExpectation {
        name: "skipped",
        needs_read_back: true,
        condition: |e| &e.skipped,
        observed: |_, g| groups(g, |g| g.skipped),
    },
    CountExpectation {
        name: "rewinds",
        needs_read_back: false,
        condition: |e| &e.rewinds,
        observed: |_, g| groups(g, |g| g.rewinds),
    },
    CountExpectation {
        name: "dead_lettered",
        needs_read_back: true,
        condition: |e| &e.dead_lettered,
        observed: |_, g| groups(g, |g| g.dead_lettered),
    },
    CountExpectation {
        name: "unexpected",
        needs_read_back: true,
        condition: |e| &e.unexpected,
        observed: |c, _| c.unexpected,
    },
    CountExpectation {
        name: "broken_promises",
        needs_read_back: false,
        condition: |e| &e.broken_promises,
        observed: |c, _| c.broken_promises,
    },
    CountExpectation {
        name: "broken_promises_unexplained",
        needs_read_back: false,
        condition: |e| &e.broken_promises_unexplained,
        observed: |c, _| c.broken_promises_unexplained,
    },
    CountExpectation {
        name: "corrupt",
        needs_read_back: true,
        condition: |e| &e.corrupt,
        observed: |c, _| c.corrupt,
    },
    CountExpectation {
        name: "diverged",
        needs_read_back: true,
        condition: |e| &e.diverged,
        observed: |c, _| c.diverged,
    },
    CountExpectation {
        name: "misplaced",
        needs_read_back: true,
        condition: |e| &e.misplaced,
        observed: |c, _| c.misplaced,
    },
    CountExpectation {
        name: "misplaced_unexplained",
        needs_read_back: true,
        condition: |e| &e.misplaced_unexplained,
        observed: |c, _| c.misplaced_unexplained,
    },
    CountExpectation {
        name: "txn_lost",
        needs_read_back: true,
        condition: |e| &e.txn_lost,
        observed: |c, _| c.transactions.lost,
    },
    CountExpectation {
        name: "txn_lost_unexplained",
        needs_read_back: true,
        condition: |e| &e.txn_lost_unexplained,
        observed: |c, _| c.transactions.lost_unexplained,
    },
    CountExpectation {
        name: "txn_phantom",
        needs_read_back: true,
        condition: |e| &e.txn_phantom,
        observed: |c, _| c.transactions.phantom,
    },
    CountExpectation {
        name: "txn_phantom_unexplained",
        needs_read_back: true,
        condition: |e| &e.txn_phantom_unexplained,
        observed: |c, _| c.transactions.phantom_unexplained,
    },
    CountExpectation {
        name: "txn_duplicated",
        needs_read_back: true,
        condition: |e| &e.txn_duplicated,
        observed: |c, _| c.transactions.duplicated,
    },
    CountExpectation {
        name: "txn_duplicated_unexplained",
        needs_read_back: true,
        condition: |e| &e.txn_duplicated_unexplained,
        observed: |c, _| c.transactions.duplicated_unexplained,
    },
    CountExpectation {
        name: "txn_discarded",
        needs_read_back: true,
        condition: |e| &e.txn_discarded,
        observed: |c, _| c.transactions.discarded,
    },
    CountExpectation {
        name: "txn_repaired",
        needs_read_back: true,
        condition: |e| &e.txn_repaired,
        observed: |c, _| c.transactions.repaired,
    },
    CountExpectation {
        name: "early_deliveries",
        needs_read_back: false,
        condition: |e| &e.early_deliveries,
        observed: |_, g| groups(g, |f| f.early_deliveries),
    },
    CountExpectation {
        name: "filtered",
        needs_read_back: true,
        condition: |e| &e.filtered,
        observed: |_, g| groups(g, |f| f.filtered),
    },
    CountExpectation {
        name: "subscription_conflicts",
        needs_read_back: true,
        condition: |e| &e.subscription_conflicts,
        observed: |_, g| groups(g, |f| f.subscription_conflicts),
    },
    CountExpectation {
        name: "unsubscribed_deliveries",
        needs_read_back: false,
        condition: |e| &e.unsubscribed_deliveries,
        observed: |_, g| groups(g, |f| f.unsubscribed_deliveries),
    },
    CountExpectation {
        name: "weak_acks",
        needs_read_back: false,
        condition: |e| &e.weak_acks,
        observed: |c, _| c.weak_acks,
    },
    CountExpectation {
        name: "failed",
        needs_read_back: false,
        condition: |e| &e.failed,
        observed: |c, _| c.failed,
    },
];

/// `3.100s`, or `120.4s..129.9s (4 samples)`, or `none`.
pub fn describe_samples(samples: &[u64]) -> String {
    let (Some(min), Some(max)) = (samples.iter().min(), samples.iter().max()) else {
        return "none".to_string();
    };
    let format = model::time::format_ms;
    if samples.len() == 1 {
        format(*min)
    } else {
        format!(
            "{}..{} ({} samples)",
            format(*min),
            format(*max),
            samples.len()
        )
    }
}

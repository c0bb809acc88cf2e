//! The expectations of a scenario's `[expect]`, judged row by row of their table
//! (`expectations::TABLE`). A count that needs the read-back is `unknown` without it, never a
//! number.

use super::expectations::{Expectation, Measure, TABLE};
use super::{ExpectationResult, GroupFigures, RouteFigures, SendFigures, Verdict};
use crate::scenario::Scenario;
use crate::scenario::units::Condition;

/// What the expectations are judged against.
pub struct Observed<'a> {
    pub sends: &'a SendFigures,
    pub groups: &'a [GroupFigures],
    pub routes: &'a RouteFigures,
    /// How long each hand-over of a queue between consumers took, in ms.
    pub handovers: &'a [u64],
    /// The DLedger groups' elections and logs.
    pub dledger: &'a DLedgerCounts,
    /// Whether the run drained and was read back completely.
    pub complete: bool,
}

/// What the DLedger groups' elections and logs came to: each count with the share of it no
/// known mechanism of 0.3.1.2 explains (always a bug).
#[derive(Clone, Copy, Debug, Default)]
pub struct DLedgerCounts {
    /// Terms with two leaders, and leaderships without a quorum.
    pub two_leaders: u64,
    pub two_leaders_unexplained: u64,
    /// Committed indexes or terms whose entries differ between members.
    pub log_diverged: u64,
    pub log_diverged_unexplained: u64,
    /// Records dispatched from entries no quorum ever held.
    pub uncommitted_dispatches: u64,
    pub uncommitted_dispatches_unexplained: u64,
}

/// The figures of the expectations that need the read-back: an unfinished one leaves them
/// unmeasured.
pub fn read_back_figures() -> impl Iterator<Item = &'static str> {
    TABLE.iter().filter(|e| e.needs_read_back).map(|e| e.name)
}

/// Every expectation the scenario declares (and does not merely observe), in table order.
pub(super) fn judge(scenario: &Scenario, observed: &Observed<'_>) -> Vec<ExpectationResult> {
    let conditions = TABLE.iter().zip(scenario.expect.conditions());
    let declared =
        conditions.filter_map(|(e, c)| Some((e, c.as_ref().filter(|c| !c.is_observe())?)));
    declared
        .map(|(expectation, condition)| match expectation.measure {
            Measure::Count(measure) => count(expectation, condition, measure(observed), observed),
            Measure::Time(measure) => time(expectation.name, condition, &measure(observed)),
        })
        .collect()
}

/// A count expectation: unknown without the read-back if it needs one.
fn count(
    expectation: &Expectation,
    condition: &Condition,
    value: u64,
    observed: &Observed<'_>,
) -> ExpectationResult {
    let verdict = if expectation.needs_read_back && !observed.complete {
        Verdict::Unknown
    } else if condition.holds(value) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let observed = match verdict {
        Verdict::Unknown => "unknown".to_string(),
        _ => value.to_string(),
    };
    ExpectationResult {
        name: expectation.name,
        condition: condition.describe(false),
        observed,
        verdict,
    }
}

/// A time expectation: every sample must meet the condition, and there must be one.
fn time(name: &'static str, condition: &Condition, samples: &[u64]) -> ExpectationResult {
    let verdict = if !samples.is_empty() && samples.iter().all(|s| condition.holds(*s)) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    ExpectationResult {
        name,
        condition: condition.describe(true),
        observed: describe_samples(samples),
        verdict,
    }
}

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

//! The checker: a pure function of the history (and the scenario's expectations) that decides
//! whether messages were lost, duplicated or reordered, with witnesses for every anomaly.
//!
//! The queue model. A producer *invokes* a send of a message (identified by its `UNIQ_KEY`);
//! the send ends `ok` (stored, with a SendStatus), `fail` (certainly not stored) or `info`
//! (unknown). An application may send the same message again after a fail or info. After the
//! drain, the auditor reads every queue back; a message is *stored* if some queue holds it.
//!
//! Anomalies (Jepsen's names where they exist):
//! - `lost`: acknowledged SEND_OK, not stored.
//! - `lost_unconfirmed`: acknowledged only with a weaker status (FLUSH_DISK_TIMEOUT,
//!   FLUSH_SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE), not stored: the broker did not promise it.
//! - `lost_unexplained`: lost, and the durability model does not explain why (it was flushed
//!   before the crash that lost it, or no crash lost it). Always a bug.
//! - `recovered`: every send of it failed or ended unknown, yet it is stored.
//! - `duplicated`: stored at two or more queue offsets (the producer stored it twice).
//! - `unexpected`: stored with a well-formed id that was never sent.
//! - `corrupt`: stored, but not as sent: torn properties (no readable id), or another body.
//!
//! With consumer groups, a message of a consumed topic is lost when an acknowledged message
//! never reaches a group (see `consumers` for the delivery anomalies: redelivered by cause,
//! reordered, skipped, rewinds, stale deliveries, abandoned, dead-lettered).
//!
//! A message whose queue could not be read back has an unknown fate; the verdicts that depend
//! on it are `unknown`, as are all of them when the run did not drain.

mod consumers;
mod replication;
mod routes;
mod sends;

pub use consumers::{GroupFigures, RedeliveryCauses};
pub use replication::{Lag, ReplicaFigures};
pub use routes::RouteFigures;
pub use sends::{Anomaly, AnomalyKind, SendCounts, SendFigures};

use crate::history::History;
use crate::runtime::Ending;
use crate::scenario::Scenario;
use crate::scenario::units::Condition;
use serde::Serialize;

/// Three-valued, composed by taking the worst.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Unknown,
    Fail,
}

impl Verdict {
    pub fn worst(self, other: Verdict) -> Verdict {
        self.max(other)
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Unknown => "unknown",
            Verdict::Fail => "fail",
        }
    }
}

/// One declared expectation, checked.
#[derive(Clone, Debug, Serialize)]
pub struct ExpectationResult {
    pub name: &'static str,
    /// The condition as written, e.g. `= 0` or `120s..130s`.
    pub condition: String,
    /// What was observed, e.g. `3` or `121.2s..128.9s (4 samples)`.
    pub observed: String,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// Why the verdict is unknown, when it is.
    pub liveness: Option<String>,
    pub expectations: Vec<ExpectationResult>,
    pub sends: SendFigures,
    /// Per consumer group (per instance for broadcasting groups).
    pub consumers: Vec<GroupFigures>,
    pub routes: RouteFigures,
    /// Per master with slaves.
    pub replication: Vec<ReplicaFigures>,
    pub anomalies: Vec<Anomaly>,
}

/// Checks a finished run.
pub fn check(scenario: &Scenario, history: &History, ending: Ending) -> Report {
    let consumed = scenario.consumers.iter().map(|c| c.topic.clone()).collect();
    let mut sends = sends::analyse(scenario, history, &consumed);
    let consumers = consumers::analyse(scenario, history, &sends);
    // Messages of consumed topics count as lost per group, from deliveries.
    {
        let counts = &mut sends.figures.counts;
        for group in &consumers.groups {
            counts.lost += group.lost;
            counts.lost_unconfirmed += group.lost_unconfirmed;
            counts.lost_unexplained += group.lost_unexplained;
        }
        counts.unexpected += consumers.unexpected;
        counts.corrupt += consumers.corrupt;
    }
    let routes = routes::analyse(history);
    let replication = replication::analyse(scenario, history, &sends);
    let liveness = match ending {
        Ending::Complete if sends.figures.counts.unread_queues == 0 => None,
        Ending::Complete => Some(format!(
            "{} queue(s) could not be read back",
            sends.figures.counts.unread_queues
        )),
        Ending::DrainTimeout => Some("the workload did not finish within the drain timeout".into()),
        Ending::ReadBackTimeout => Some("the read-back did not finish in time".into()),
    };
    let complete = liveness.is_none();
    let counts = &sends.figures.counts;
    let expect = &scenario.expect;
    let mut results = Vec::new();
    let mut count =
        |name: &'static str, condition: &Option<Condition>, value: u64, needs_drain: bool| {
            let Some(condition) = condition else { return };
            if condition.is_observe() {
                return;
            }
            let verdict = if needs_drain && !complete {
                Verdict::Unknown
            } else if condition.holds(value) {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            results.push(ExpectationResult {
                name,
                condition: condition.describe(false),
                observed: value.to_string(),
                verdict,
            });
        };
    count("lost", &expect.lost, counts.lost, true);
    count(
        "lost_unconfirmed",
        &expect.lost_unconfirmed,
        counts.lost_unconfirmed,
        true,
    );
    count(
        "lost_unexplained",
        &expect.lost_unexplained,
        counts.lost_unexplained,
        true,
    );
    count("recovered", &expect.recovered, counts.recovered, true);
    count("duplicated", &expect.duplicated, counts.duplicated, true);
    let sum = |pick: fn(&GroupFigures) -> u64| consumers.groups.iter().map(pick).sum::<u64>();
    count(
        "redelivered",
        &expect.redelivered,
        sum(|g| g.redelivered),
        true,
    );
    count(
        "redelivered_unexplained",
        &expect.redelivered_unexplained,
        sum(|g| g.redelivered_unexplained),
        true,
    );
    count(
        "stale_deliveries",
        &expect.stale_deliveries,
        sum(|g| g.stale_deliveries),
        false,
    );
    count("abandoned", &expect.abandoned, sum(|g| g.abandoned), true);
    count(
        "retry_lost",
        &expect.retry_lost,
        sum(|g| g.retry_lost),
        true,
    );
    count(
        "failed_acked",
        &expect.failed_acked,
        sum(|g| g.failed_acked),
        true,
    );
    count(
        "orderly_overlaps",
        &expect.orderly_overlaps,
        sum(|g| g.orderly_overlaps),
        false,
    );
    count("reordered", &expect.reordered, sum(|g| g.reordered), true);
    count("skipped", &expect.skipped, sum(|g| g.skipped), true);
    count("rewinds", &expect.rewinds, sum(|g| g.rewinds), false);
    count(
        "dead_lettered",
        &expect.dead_lettered,
        sum(|g| g.dead_lettered),
        true,
    );
    count("unexpected", &expect.unexpected, counts.unexpected, true);
    count("corrupt", &expect.corrupt, counts.corrupt, true);
    count("diverged", &expect.diverged, counts.diverged, true);
    count("weak_acks", &expect.weak_acks, counts.weak_acks, false);
    count("failed", &expect.failed, counts.failed, false);

    let mut time = |name: &'static str, condition: &Option<Condition>, samples: &[u64]| {
        let Some(condition) = condition else { return };
        if condition.is_observe() {
            return;
        }
        let verdict = if !samples.is_empty() && samples.iter().all(|s| condition.holds(*s)) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        results.push(ExpectationResult {
            name,
            condition: condition.describe(true),
            observed: describe_samples(samples),
            verdict,
        });
    };
    time(
        "unavailable",
        &expect.unavailable,
        &[sends.figures.unavailable_ms],
    );
    time(
        "removal_after_kill",
        &expect.removal_after_kill,
        &routes.removal_after_kill_ms,
    );
    time(
        "removal_after_silence",
        &expect.removal_after_silence,
        &routes.removal_after_silence_ms,
    );
    time(
        "route_catch_up",
        &expect.route_catch_up,
        &routes.route_catch_up_ms,
    );

    let mut verdict = results
        .iter()
        .fold(Verdict::Pass, |v, r| v.worst(r.verdict));
    if !complete {
        verdict = verdict.worst(Verdict::Unknown);
    }
    let mut anomalies = sends.anomalies;
    anomalies.extend(consumers.anomalies);
    anomalies.sort_by_key(|a| (a.kind, a.at_ms));
    Report {
        verdict,
        liveness,
        expectations: results,
        sends: sends.figures,
        consumers: consumers.groups,
        routes,
        replication,
        anomalies,
    }
}

/// A message's entry in a table indexed densely by producer and sequence number, which grows
/// as needed (message ids are dense, so the table stays small and lookups stay O(1)).
fn dense_entry<T: Default>(table: &mut Vec<Vec<T>>, id: model::MessageId) -> &mut T {
    let producer = id.producer as usize;
    if table.len() <= producer {
        table.resize_with(producer + 1, Vec::new);
    }
    let seq = id.seq as usize;
    if table[producer].len() <= seq {
        table[producer].resize_with(seq + 1, T::default);
    }
    &mut table[producer][seq]
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

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
//! Which facts each verdict rests on, and who reports them. A fact reported by the part of the
//! model under test can be wrong in the same way as the model; a fact from the harness, the
//! disk plugin or the auditor cannot.
//! - *Stored / lost / duplicated / corrupt / diverged*: what the auditor read back from every
//!   replica at the end (`ReadBack`: the record's own bytes, its CRC and id), against what the
//!   producer application invoked and was answered (`SendInvoke`, `SendOk`, ...). The auditor
//!   is a separate client reading the disks' final state: a broker that forgot to store, index
//!   or replicate a message cannot make it appear there.
//! - *Explanations of a loss*: stops and disk faults (`Stopped`, `Corrupted`: recorded by the
//!   harness as it applies them, `Skipped` when it cannot), flushes (`Flushed`, from the store)
//!   and slave reports (`Replicated`, from the master). The last two are the model's own word:
//!   a model that reports a flush it never made turns a loss into an "explained" one, so the
//!   verdicts that matter (`lost = 0` under SYNC_FLUSH or SYNC_MASTER) never depend on them.
//! - *Deliveries and redeliveries*: what the listener was handed (`Delivered`, emitted where
//!   the consumer calls the application's listener) and the read-back; redelivery causes use
//!   the harness's stops and the consumers' queue assignments (`QueueAssigned`,
//!   `QueueDropped`, reported by the client model).
//! - *Model invariants* (`model::invariant!`) are not facts but assertions: a violation ends
//!   the run, whatever the checker would have said.
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

use crate::history::Ending;
use crate::history::History;
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
    let mut results = Vec::new();
    for expectation in COUNTS {
        let Some(condition) = (expectation.condition)(&scenario.expect) else {
            continue;
        };
        if condition.is_observe() {
            continue;
        }
        let value = (expectation.observed)(&sends.figures.counts, &consumers.groups);
        let verdict = if expectation.needs_read_back && !complete {
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

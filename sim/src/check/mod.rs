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
//! - `diverged`: a queue position two replicas of a group disagree on, or that one lacks.
//! - `broken_promise`: a SEND_OK whose promise did not hold when it was made: under
//!   SYNC_FLUSH the record was not on the media, under SYNC_MASTER no slave held it.
//! - `two_leaders`: a term of a DLedger group in which two candidates hold a quorum of
//!   grants, or a leader announced without one (`elections`), judged from the grants each
//!   voter recorded (`DLedgerVoteGranted`), not from the members' claims to lead.
//! - `log_diverged`: members of a DLedger group holding different entries at a committed
//!   index, or at one index of one term; `uncommitted_dispatch`: a record dispatched from an
//!   entry no quorum of members ever held (`logs`), judged from each member's own records of
//!   what it wrote, dropped, committed and dispatched.
//! - `expired`: stored, then deleted by retention (its CommitLog file was old enough, or the
//!   disk full) before a group consumed it; `deleted_early`: a file retention deleted that
//!   4.9.8's rules keep (always a bug), judged from the disks' records of the deletion.
//! - `index_missing`: a record read back on a replica that QUERY_MESSAGE by its key does not
//!   find there, or a message a broker acknowledged that its answer to the operator's query
//!   by key left out; `index_missing_unexplained` when no recovery deleted its index file.
//! - `misplaced`: a ConsumeQueue entry that leads to a record of another queue position, or
//!   to none (`misplaced_unexplained` when no reported out-of-order dispatch or rotted byte
//!   explains it: always a bug).
//!
//! With consumer groups, a message of a consumed topic is lost when an acknowledged message
//! never reaches a group (see `consumers` for the delivery anomalies: redelivered by cause,
//! reordered, skipped, rewinds, stale deliveries, abandoned, dead-lettered).
//!
//! Which facts each verdict rests on, and who reports them. A fact reported by the part of the
//! model under test can be wrong in the same way as the model; a fact from the harness, the
//! disk plugin or the auditor cannot.
//! - *Stored / lost / duplicated / corrupt / diverged / misplaced*: what the auditor read back
//!   from every replica at the end (`ReadBack`: the record's own bytes, its CRC and id, and the
//!   ConsumeQueue entry it was read through), against what the producer application invoked
//!   and was answered (`SendInvoke`, `SendOk`, ...). The auditor is a separate client reading
//!   the disks' final state: a broker that forgot to store, index or replicate a message
//!   cannot make it appear there.
//! - *Broken promises*: what the harness read off the disks when a broker answered SEND_OK
//!   (`Held`: the answering machine's media and the group's other machines' commitlogs).
//! - *Explanations of a loss*: stops and disk faults (`Stopped`, `Corrupted`: recorded by the
//!   harness as it applies them, `Skipped` when it cannot), flushes (`Flushed`, from the store)
//!   and slave reports (`Replicated`, from the master). The last two are the model's own word:
//!   a model that reports a flush it never made turns a loss into an "explained" one, so the
//!   verdicts that matter (`lost = 0` under SYNC_FLUSH or SYNC_MASTER) never depend on them.
//! - *Deliveries and redeliveries*: what the listener was handed (`Delivered`, emitted where
//!   the consumer calls the application's listener) and the read-back; redelivery causes use
//!   the harness's stops and the consumers' queue assignments (`QueueAssigned`,
//!   `QueueDropped`, reported by the client model).
//! - *Stale deliveries*: `Delivered` against the allocation each rebalance computed
//!   (`Allocated`: the allocate strategy's answer, emitted before the process queues follow
//!   it). A consumer model that forgets to drop a queue never reports it dropped, but its
//!   rebalance still says the queue went elsewhere.
//! - *Hand-overs* (`handover`): the same allocations, and the consumers' stops (the harness):
//!   how long a queue stayed allocated to two live consumers of a group.
//! - *Model invariants* (`model::invariant!`) are not facts but assertions: a violation ends
//!   the run, whatever the checker would have said.
//!
//! A message whose queue could not be read back has an unknown fate; the verdicts that depend
//! on it are `unknown`, as are all of them when the run did not drain.
//!
//! The shape: `index` folds the history once into facts (none of its parts judges); one
//! checker per concern reads them (`storage`, `durability`, `divergence`, `sends` composing
//! those three into the producer-side figures, `consumers`, `replication`, `routes`);
//! `explain` holds the causal stories they share; `expect` judges the scenario's expectations
//! against the figures.

mod anomaly;
mod consumers;
mod divergence;
mod durability;
mod elections;
mod expect;
pub mod expectations;
mod explain;
mod index;
mod logs;
mod lookups;
mod misplaced;
mod promises;
mod recoveries;
mod replication;
mod retention;
mod routes;
mod sends;
mod spec;
mod spread;
mod storage;
#[cfg(test)]
mod tests;
mod transactions;

pub use anomaly::{Anomaly, AnomalyKind};
pub use consumers::{GroupFigures, RedeliveryCauses};
pub use expect::{describe_samples, read_back_figures};
pub(crate) use index::{BrokerFacts, Subscription};
pub use replication::{Lag, ReplicaFigures};
pub use routes::RouteFigures;
pub use sends::{AfterFault, SendCounts, SendFigures};
pub use transactions::TransactionCounts;

use crate::history::Ending;
use crate::history::History;
use crate::scenario::Scenario;
use index::Index;
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
    let index = Index::build(scenario, history);
    let mut anomalies = Vec::new();
    let mut sends = sends::judge(&index, &mut anomalies);
    promises::judge(&index, &mut sends.counts, &mut anomalies);
    retention::judge(&index, &mut sends.counts, &mut anomalies);
    sends.key_queries = lookups::judge(&index, &mut sends.counts, &mut anomalies);
    recoveries::judge(&index, &mut sends.counts, &mut anomalies);
    let consumers = consumers::judge(&index, &mut sends.counts, &mut anomalies);
    sends.counts.transactions = transactions::judge(&index, &mut anomalies);
    // Messages of consumed topics count as lost per group, from deliveries.
    for group in &consumers {
        sends.counts.lost += group.lost;
        sends.counts.lost_unconfirmed += group.lost_unconfirmed;
        sends.counts.lost_unexplained += group.lost_unexplained;
    }
    let dledger = dledger_counts(&index, &mut anomalies);
    let routes = routes::judge(&index);
    let replication = replication::judge(&index);
    let liveness = liveness(ending, sends.counts.unread_queues);
    let ownership = &index.consumers.story.ownership;
    let handovers: Vec<u64> = (ownership.handovers.values().flatten())
        .filter(|h| h.same_view)
        .map(|h| h.took_ms)
        .collect();
    let observed = expect::Observed {
        sends: &sends,
        groups: &consumers,
        routes: &routes,
        handovers: &handovers,
        dledger: &dledger,
        complete: liveness.is_none(),
    };
    let expectations = expect::judge(scenario, &observed);
    let mut verdict = expectations
        .iter()
        .fold(Verdict::Pass, |v, r| v.worst(r.verdict));
    if liveness.is_some() {
        verdict = verdict.worst(Verdict::Unknown);
    }
    anomalies.sort_by_key(|a| (a.kind, a.at_ms));
    Report {
        verdict,
        liveness,
        expectations,
        sends,
        consumers,
        routes,
        replication,
        anomalies,
    }
}

/// The DLedger groups' elections and logs, judged.
fn dledger_counts(index: &Index<'_>, anomalies: &mut Vec<Anomaly>) -> expect::DLedgerCounts {
    let two_leaders = elections::judge(index, anomalies);
    let two_leaders_unexplained = (anomalies.iter())
        .filter(|a| a.kind == AnomalyKind::TwoLeaders && a.cause.is_none())
        .count() as u64;
    let logs = logs::judge(index, anomalies);
    expect::DLedgerCounts {
        two_leaders,
        two_leaders_unexplained,
        log_diverged: logs.diverged,
        log_diverged_unexplained: logs.diverged_unexplained,
        uncommitted_dispatches: logs.uncommitted_dispatches,
        uncommitted_dispatches_unexplained: logs.uncommitted_dispatches_unexplained,
    }
}

/// Why the verdict cannot be known, if it cannot.
fn liveness(ending: Ending, unread_queues: u64) -> Option<String> {
    match ending {
        Ending::Complete if unread_queues == 0 => None,
        Ending::Complete => Some(format!("{unread_queues} queue(s) could not be read back")),
        Ending::DrainTimeout => Some("the workload did not finish within the drain timeout".into()),
        Ending::ReadBackTimeout => Some("the read-back did not finish in time".into()),
    }
}

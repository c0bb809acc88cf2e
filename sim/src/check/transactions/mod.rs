//! Transactional messages, judged from facts the broker model cannot fake: what each
//! application decided (its own `TransactionDecided`), what the auditor read back from the
//! real topic and from `TRANS_CHECK_MAX_TIME_TOPIC`, and what the listeners consumed.
//!
//! - `txn_lost`: the application committed, yet some group never consumed the message (or,
//!   with no group, it is not stored). Each has a cause: discarded after the last check,
//!   the committed message or the half lost by a broker stop; `txn_lost_unexplained` when
//!   none applies (always a bug).
//! - `txn_phantom`: visible although the application rolled back, answered UNKNOW, or never
//!   decided. 4.9.8 has no mechanism for this: always a bug.
//! - `txn_duplicated`: stored in the real topic more than once. In 4.9.8 a repeated commit
//!   stores it again (#5574), and a check-back's commit racing the producer's own does too
//!   (#8158); `txn_duplicated_unexplained` when no two commits were handled.
//! - `txn_discarded`: checked `transactionCheckMax` times and given up on (a named outcome,
//!   what users must monitor). `txn_repaired`: committed by a check-back's answer.
//! - The visibility time: from the local decision to the first consumption.
//!
//! The stories (`story`) use the model's own reports of END_TRANSACTION and checks.

mod failover;
mod story;

use super::explain::reused_offset;
use super::explain::{explain_loss, loss_cause};
use super::index::{Ack, Audience, Index, Record, Transaction, Wanted, wanted};
use super::sends::percentile;
use super::{Anomaly, AnomalyKind};
use model::event::TransactionState;
use model::{MessageId, Time};
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct TransactionCounts {
    /// Transactional messages sent.
    pub messages: u64,
    /// Local decisions: commit, rollback, unknown; none (the half failed, or the process
    /// died before deciding).
    pub committed: u64,
    pub rolled_back: u64,
    pub unknown: u64,
    pub undecided: u64,
    /// Committed and consumed by every group (or stored, with no group).
    pub visible: u64,
    pub lost: u64,
    pub lost_unexplained: u64,
    pub phantom: u64,
    /// Phantoms no known mechanism explains (always a bug).
    pub phantom_unexplained: u64,
    pub duplicated: u64,
    pub duplicated_unexplained: u64,
    pub discarded: u64,
    pub repaired: u64,
    /// CHECK_TRANSACTION_STATE requests the brokers sent.
    pub check_backs: u64,
    /// From the local commit to the first consumption.
    pub visibility_p50_ms: u64,
    pub visibility_p99_ms: u64,
    pub visibility_max_ms: u64,
}

impl TransactionCounts {
    pub fn is_empty(&self) -> bool {
        self.messages == 0
    }
}

/// One transactional message with what the checks need of it.
struct Judged<'a> {
    id: MessageId,
    record: &'a Record,
    txn: &'a Transaction,
    /// When each audience of its topic first consumed it.
    consumed: Vec<(&'a Audience, Option<Time>)>,
}

impl Judged<'_> {
    fn seen(&self) -> bool {
        !self.record.copies.is_empty() || self.consumed.iter().any(|(_, at)| at.is_some())
    }

    fn visible_everywhere(&self) -> bool {
        match self.consumed.is_empty() {
            true => !self.record.copies.is_empty(),
            false => self.consumed.iter().all(|(_, at)| at.is_some()),
        }
    }
}

pub(super) fn judge(index: &Index<'_>, anomalies: &mut Vec<Anomaly>) -> TransactionCounts {
    let mut counts = TransactionCounts::default();
    let mut latencies = Vec::new();
    for (id, txn) in &index.transactions.transactions {
        let Some(record) = index.sends.record(*id) else {
            continue;
        };
        let judged = Judged {
            id: *id,
            record,
            txn,
            consumed: consumed(index, *id, record),
        };
        counts.messages += 1;
        counts.check_backs += txn.checks.len() as u64;
        decision(&judged, &mut counts);
        if let Some(latency) = fate(index, &judged, &mut counts, anomalies) {
            latencies.push(latency);
        }
        duplicates(index, &judged, &mut counts, anomalies);
        outcomes(&judged, &mut counts, anomalies);
    }
    if !latencies.is_empty() {
        counts.visibility_max_ms = latencies.iter().copied().max().unwrap_or(0);
        counts.visibility_p50_ms = percentile(&mut latencies, 50);
        counts.visibility_p99_ms = percentile(&mut latencies, 99);
    }
    counts
}

/// When each audience of the message's topic that subscribes to its tag (all instances of
/// it: the consumer checks judge the others) first consumed it, or, for a group whose
/// listener failed it until it was dead-lettered, was first handed it: it reached the group.
fn consumed<'a>(
    index: &'a Index<'_>,
    id: MessageId,
    record: &Record,
) -> Vec<(&'a Audience, Option<Time>)> {
    let audiences = index.consumers.audiences.iter();
    let tag = index.sends.tag(record);
    audiences
        .filter(|a| *a.topic == *record.topic)
        .filter(|a| wanted(&a.subscriptions, tag) == Wanted::Everyone)
        .map(|a| {
            let fate = a.messages.get(id.producer as usize);
            let fate = fate.and_then(|list| list.get(id.seq as usize));
            let parked = record
                .dead_letters()
                .iter()
                .any(|(group, _)| *group == a.group);
            let reached = fate.and_then(|f| f.consumed.or(f.first.filter(|_| parked)));
            (a, reached)
        })
        .collect()
}

fn decision(judged: &Judged<'_>, counts: &mut TransactionCounts) {
    match judged.txn.decided.map(|(_, state)| state) {
        Some(TransactionState::Commit) => counts.committed += 1,
        Some(TransactionState::Rollback) => counts.rolled_back += 1,
        Some(TransactionState::Unknown) => counts.unknown += 1,
        None => counts.undecided += 1,
    }
}

/// Visible as committed, lost, or a phantom; returns the visibility time of a visible one.
fn fate(
    index: &Index<'_>,
    judged: &Judged<'_>,
    counts: &mut TransactionCounts,
    anomalies: &mut Vec<Anomaly>,
) -> Option<u64> {
    let id = Some(judged.id);
    match judged.txn.decided {
        Some((decided_at, TransactionState::Commit)) => {
            if judged.visible_everywhere() {
                counts.visible += 1;
                let first = judged.consumed.iter().filter_map(|(_, at)| *at).min()?;
                return Some(first.ms_since(decided_at));
            }
            let half = judged.record.ok.as_ref()?;
            counts.lost += 1;
            let (cause, story) = lost_cause(index, judged, half);
            if cause.is_none() {
                counts.lost_unexplained += 1;
            }
            let anomaly = Anomaly::new(AnomalyKind::TxnLost, id, decided_at, story);
            anomalies.push(match cause {
                Some(cause) => anomaly.because(cause),
                None => anomaly,
            });
        }
        decided if judged.seen() => {
            counts.phantom += 1;
            let at = decided.map_or(judged.record.first_invoke().unwrap_or_default(), |d| d.0);
            let story = story::phantom(index, judged.txn, decided.map(|d| d.1));
            let anomaly = Anomaly::new(AnomalyKind::TxnPhantom, id, at, story);
            let committed_for = judged.txn.ended.iter().filter(|e| e.put.is_some());
            match committed_for.filter_map(|e| e.for_other).next() {
                Some(named) => {
                    let why = format!(
                        "; an END_TRANSACTION for {named} committed it: the record at the \
                         offsets {named}'s request named was this half (checkPrepareMessage \
                         compares the group and the offsets, never the id)"
                    );
                    let anomaly = Anomaly {
                        explanation: anomaly.explanation + &why,
                        ..anomaly
                    };
                    anomalies.push(anomaly.because("end_for_another_half"));
                }
                None => {
                    counts.phantom_unexplained += 1;
                    anomalies.push(anomaly);
                }
            }
        }
        _ => {}
    }
    None
}

/// Why a committed message never became visible: (the cause's name, the story).
fn lost_cause(
    index: &Index<'_>,
    judged: &Judged<'_>,
    half: &Ack,
) -> (Option<&'static str>, String) {
    let txn = judged.txn;
    let told = story::ends(index, txn);
    if !txn.discarded.is_empty() {
        let story = format!("committed locally; {told}; {}", story::checks(index, txn));
        return (Some("discarded"), story);
    }
    if let Some((at, broker, other, _)) = txn.took_other.iter().find(|took| took.3) {
        let story = format!(
            "{told}; its END_TRANSACTION reached {broker} at {at}, where the record at the \
             offsets it named was {other}'s half (the broker had lost its log; \
             checkPrepareMessage compares the group and the offsets, never the id): it \
             committed {other} instead"
        );
        return (Some("end_took_another_half"), story);
    }
    if let Some((ended, (offset, size))) = txn.ended.iter().find_map(|e| Some((e, e.put?))) {
        let node = ended.node.unwrap_or(half.store_host);
        let real = Ack::put_by_broker(ended.at, half.broker.clone(), node, (offset, size));
        if let Some(cause) = loss_cause(index, &real) {
            let story =
                format!("{told}; the committed message (commitlog {offset}) is gone: {cause}");
            return (Some("commit_lost"), story);
        }
    } else if let Some(cause) = loss_cause(index, half) {
        let story = format!("{told}; the half message was lost before any commit: {cause}");
        return (Some("half_lost"), story);
    } else if let Some(cause) = half_only_on_slave(index, half) {
        let story = format!(
            "{told}; the half message reached a slave, but its master lost it: {cause}; only a \
             master checks half messages, and classic replication never fails over, so nobody \
             asks about the slave's copy"
        );
        return (Some("half_only_on_slave"), story);
    } else if let Some(cause) = failover::half_left_behind(index, half) {
        return (Some("half_left_on_old_master"), format!("{told}; {cause}"));
    }
    let missing = judged.consumed.iter().filter(|(_, at)| at.is_none());
    let missing: Vec<&Audience> = missing.map(|(audience, _)| *audience).collect();
    let reused = missing
        .iter()
        .find_map(|a| reused_offset(a, index, judged.record, judged.id));
    if let Some(reused) = reused {
        return (Some("offset_reused"), format!("{told}; {reused}"));
    }
    let names: Vec<&str> = missing.iter().map(|a| a.name.as_str()).collect();
    let story = match judged.record.copies.first() {
        Some(copy) => format!(
            "{told}; stored at {}/{}/{}@{}, but {} never consumed it",
            copy.broker,
            copy.topic,
            copy.queue_id,
            copy.queue_offset,
            names.join(", ")
        ),
        None => format!(
            "{told}; {}; it is stored nowhere",
            story::checks(index, txn)
        ),
    };
    (None, story)
}

/// Why the master lost a half message that a slave still holds, if its own timeline says.
fn half_only_on_slave(index: &Index<'_>, half: &Ack) -> Option<String> {
    let mut master = index.brokers.timelines.get(&half.store_host)?.clone();
    if !master.replicated_group {
        return None;
    }
    master.replicated_group = false;
    explain_loss(half, Some(&master), &|_| None)
}

/// Stored in the real topic more than once, and which commits did it.
fn duplicates(
    index: &Index<'_>,
    judged: &Judged<'_>,
    counts: &mut TransactionCounts,
    anomalies: &mut Vec<Anomaly>,
) {
    if judged.record.copies.len() < 2 {
        return;
    }
    counts.duplicated += 1;
    let (cause, story) = story::duplicate(index, judged.txn, judged.record);
    if cause.is_none() {
        counts.duplicated_unexplained += 1;
    }
    let at = judged.txn.ended.first().map_or(Time::ZERO, |e| e.at);
    let anomaly = Anomaly::new(AnomalyKind::TxnDuplicated, Some(judged.id), at, story);
    anomalies.push(match cause {
        Some(cause) => anomaly.because(cause),
        None => anomaly,
    });
}

/// The named outcomes: discarded after the last check, committed by a check-back.
fn outcomes(judged: &Judged<'_>, counts: &mut TransactionCounts, anomalies: &mut Vec<Anomaly>) {
    let txn = judged.txn;
    let id = Some(judged.id);
    if let Some(last) = txn.checks.last().filter(|_| !txn.discarded.is_empty()) {
        counts.discarded += 1;
        let story = story::discarded(txn, last.times);
        anomalies.push(Anomaly::new(AnomalyKind::TxnDiscarded, id, last.at, story));
    }
    let committed = (txn.decided).is_some_and(|(_, s)| s == TransactionState::Commit);
    let repair = txn.ended.iter().find(|e| e.put.is_some() && e.from_check);
    if let (true, Some(repair)) = (committed && judged.visible_everywhere(), repair) {
        if txn.ended.iter().any(|e| e.put.is_some() && !e.from_check) {
            return; // The producer's own commit arrived too: a duplicate, not a repair.
        }
        counts.repaired += 1;
        let story = story::repaired(txn, repair);
        anomalies.push(Anomaly::new(AnomalyKind::TxnRepaired, id, repair.at, story));
    }
}

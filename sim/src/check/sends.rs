//! The producer-side figures: what was sent and acknowledged, what the read-back found
//! (`storage`), what is lost and why (`durability`), where replicas disagree (`divergence`),
//! and the send latency and availability measured from the producers' operations.

use super::index::Index;
use super::{Anomaly, divergence, durability, misplaced, storage};
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct SendCounts {
    /// Distinct messages sent.
    pub messages: u64,
    /// Send operations (an application resend is another operation).
    pub sends: u64,
    /// Messages acknowledged with SEND_OK.
    pub acked: u64,
    /// Send operations acknowledged with a weaker status.
    pub weak_acks: u64,
    /// Messages whose every send failed for certain.
    pub failed: u64,
    /// Messages with no SEND_OK and some send of unknown outcome.
    pub unknown: u64,
    /// Messages found in the read-back.
    pub stored: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    pub lost_unexplained: u64,
    pub recovered: u64,
    pub duplicated: u64,
    /// Attempts a broker answered SYSTEM_BUSY: its send queue, or a busy page cache.
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub busy_answers: u64,
    /// Messages stored more times than the attempts no broker refused with SYSTEM_BUSY
    /// (always a bug: a refused request is never processed).
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub refused_but_stored: u64,
    pub unexpected: u64,
    pub corrupt: u64,
    /// Queue positions where two replicas of a group hold different messages.
    pub diverged: u64,
    /// ConsumeQueue entries that lead to a record of another queue position, or to none.
    pub misplaced: u64,
    /// Misplaced entries no out-of-order dispatch or rotted byte explains (always a bug).
    pub misplaced_unexplained: u64,
    /// SEND_OK answers whose promise (flushed, or on a slave) did not hold when made.
    pub broken_promises: u64,
    /// Of those, the ones no known mechanism of 4.9.8 breaks (always a bug).
    pub broken_promises_unexplained: u64,
    /// Delayed messages not read back whose delay had not passed when the run ended: they
    /// may still wait in `SCHEDULE_TOPIC_XXXX`, so their fate is not known.
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub delayed_pending: u64,
    /// Messages of topics no group consumes that retention deleted before the end (stored,
    /// then expired: not lost).
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub expired: u64,
    /// Records read back that a lookup by their key did not find on their replica, and of
    /// those the ones no recovery explains (always a bug).
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub index_missing: u64,
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub index_missing_unexplained: u64,
    /// Abnormal recoveries that began at another CommitLog file than 4.9.8's rule picks
    /// (always a bug).
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub recovery_misstarts: u64,
    /// CommitLog files retention deleted that its settings kept (always a bug).
    #[serde(skip_serializing_if = "super::consumers::is_zero")]
    pub deleted_early: u64,
    /// Queues the auditor could not read to the end.
    pub unread_queues: u64,
    /// Transactional messages (absent without them).
    #[serde(skip_serializing_if = "super::transactions::TransactionCounts::is_empty")]
    pub transactions: super::transactions::TransactionCounts,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SendFigures {
    pub counts: SendCounts,
    /// Send latency of acknowledged sends, invoke to answer.
    pub latency_p50_ms: u64,
    pub latency_p99_ms: u64,
    pub latency_max_ms: u64,
    /// The longest time without a SEND_OK, from the first send to the last answer.
    pub unavailable_ms: u64,
    /// For each fault, how long after it began the next SEND_OK came (the time to recover,
    /// when the fault cost the producers their broker).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after_faults: Vec<AfterFault>,
    /// SEND_OK acknowledgements per simulated second, from the first send to the last answer.
    pub acked_per_s: u64,
    /// Per topic, how evenly its queues got messages (when a producer uses a selector).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue_spread: Vec<super::spread::QueueSpread>,
    /// The operator's rounds of queries by key (`query-keys`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub key_queries: Vec<KeyQueryRound>,
}

/// One round of the operator's queries by key: its answers and the messages they missed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyQueryRound {
    pub at_ms: u64,
    pub answers: u64,
    /// Answers that held as many records as a query may return: not judged.
    pub capped: u64,
    pub missing: u64,
}

/// A fault and the producers' next SEND_OK after it began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AfterFault {
    pub fault: String,
    pub at_ms: u64,
    /// `None`: no SEND_OK came after it.
    pub next_send_ok_ms: Option<u64>,
}

/// The figures and anomalies of the producer side. Messages of `consumed` topics are judged
/// lost per group by the consumer checks, from deliveries.
pub(super) fn judge(index: &Index<'_>, anomalies: &mut Vec<Anomaly>) -> SendFigures {
    let mut figures = SendFigures::default();
    let counts = &mut figures.counts;
    counts.sends = index.sends.sends;
    counts.weak_acks = index.sends.weak_acks;
    counts.unread_queues = index.read_back.unread.len() as u64;
    divergence::judge(index, counts, anomalies);
    storage::judge(index, counts, anomalies);
    durability::judge(index, counts, anomalies);
    storage::strays(index, counts, anomalies);
    misplaced::judge(index, counts, anomalies);
    latency(index, &mut figures);
    figures.queue_spread = super::spread::judge(index);
    figures
}

/// Latency percentiles, throughput and the longest stretch without a SEND_OK.
fn latency(index: &Index<'_>, figures: &mut SendFigures) {
    let sends = &index.sends;
    if !sends.latencies.is_empty() {
        let sorted = &sends.latencies;
        figures.latency_p50_ms = sorted[rank(sorted.len(), 50)].into();
        figures.latency_p99_ms = sorted[rank(sorted.len(), 99)].into();
        figures.latency_max_ms = sorted.last().copied().unwrap_or(0).into();
    }
    let Some(first) = sends.first_invoke else {
        return;
    };
    let last = sends.last_outcome.max(first);
    let span_ms = last.ms_since(first).max(1);
    figures.acked_per_s = sends.ok_times().len() as u64 * 1_000 / span_ms;
    let marks = sends.ok_times().chain(std::iter::once(last));
    let mut previous = first;
    let gaps = marks.map(|mark| mark.ms_since(std::mem::replace(&mut previous, mark)));
    figures.unavailable_ms = gaps.max().unwrap_or(0);
    figures.after_faults = after_faults(sends);
}

/// How long after each fault that began while producers sent the next SEND_OK came.
fn after_faults(sends: &crate::check::index::SendFacts) -> Vec<AfterFault> {
    let (Some(first), last) = (sends.first_invoke, sends.last_outcome) else {
        return Vec::new();
    };
    let during = sends
        .fault_starts
        .iter()
        .filter(|(at, _)| *at >= first && *at <= last);
    let after = |at: model::Time| sends.next_ok(at).map(|ok| ok.ms_since(at));
    during
        .map(|(at, fault)| AfterFault {
            fault: fault.clone(),
            at_ms: at.as_ms(),
            next_send_ok_ms: after(*at),
        })
        .collect()
}

/// The `p`-th percentile (nearest rank), in expected linear time.
pub(super) fn percentile<T: Ord + Copy>(values: &mut [T], p: usize) -> T {
    *values.select_nth_unstable(rank(values.len(), p)).1
}

/// Where the `p`th percentile of `len` values stands once they are sorted (nearest rank).
fn rank(len: usize, p: usize) -> usize {
    (len * p).div_ceil(100).max(1) - 1
}

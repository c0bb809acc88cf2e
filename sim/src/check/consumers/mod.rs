//! The consumer checks: per consumer group (per instance for broadcasting groups, where every
//! instance must get every message), from `Delivered` events and the read-back.
//!
//! A delivery is a message the listener (or a lite pull application) was done with: it either
//! consumed it or asked for it again. A batch the process died in was never delivered.
//!
//! - `lost`: acknowledged SEND_OK, never delivered, not in the group's dead-letter queue.
//! - `lost_unconfirmed`: the same for weaker acknowledgements.
//! - `lost_after_delivery`: acknowledged and delivered, then lost by the broker (a figure:
//!   the group got it, a later reader would not).
//! - `redelivered`: one stored copy delivered again with the same reconsume count (a retry
//!   raises it, a duplicate does not), or two retry copies of one message with the same
//!   reconsume count: consumer-side duplicates. Each has a cause: the first consumer crashed
//!   or shut down before committing past it, the queue moved to another consumer
//!   (rebalance), the broker restarted and lost the newest committed offsets, or an offset
//!   reset went below what the group had consumed; for retry copies, the schedule service
//!   replayed its delay queue after a restart, or the send-back was stored and sent again by
//!   the client; `unexplained` when nothing did.
//! - `reordered`: a message delivered after a later message of its sharding key.
//! - `skipped`: stored in the group's topic, never delivered, not dead-lettered.
//! - `rewinds`: a consumer took a queue below what the group had already consumed there.
//! - `stale_deliveries`: handed to the listener after its consumer had dropped the queue.
//! - `abandoned`: a broadcasting instance's listener failed it and it was never consumed
//!   (broadcasting drops failures). Clustering groups retry: see `retry_lost`.
//! - `dead_lettered`: parked in the group's `%DLQ%` topic (delivered there, not lost).
//! - `early_deliveries`: a delayed message handed over before its delay had passed.
//! - `filtered`, `subscription_conflicts`, `unsubscribed_deliveries`: what tag subscriptions
//!   keep from an audience, and what they let through that they should not (`filters`).
//! - `before_start`: stored below the offset the group first took the queue at (a new group
//!   starting at the end, `CONSUME_FROM_LAST_OFFSET`): by design; `from_the_past` counts the
//!   opposite, what a new group consumed that was stored before it first took the queue.
//! - `stranded`: stored in a queue no consumer could read at the end (the topic's read queues
//!   or permission there, as the routes gave them): never delivered, not lost.
//! - `expired`: retention deleted its CommitLog file before the group consumed it.
//! - `uncorrected_offsets`: a consumer took a queue again below the offset PULL_OFFSET_MOVED
//!   had corrected it to (`corrections`).
//!
//! `listener` judges the guarantees that must not rest on the model's own reports (orderly
//! exclusivity, at-least-once with retries, failures never acknowledged) from the
//! application's listener calls and what the auditor read from the brokers. The facts the
//! checks above use: `Delivered` (the model's consume service), `QueueAssigned` and
//! `QueueDropped` (its rebalance) for redeliveries, stale deliveries and rewinds; the
//! read-back for what is stored and dead-lettered.
//!
//! The checks, one file each: `deliveries` (stale, odd, reordered, rewinds), `redeliveries`
//! (with their causes), `fates` (what became of every message: delivered, dead-lettered,
//! abandoned, skipped, expired, lost), `filters` (tag subscriptions), `corrections`
//! (PULL_OFFSET_MOVED taken), `listener`.

mod corrections;
pub(super) mod delays;
mod deliveries;
mod fates;
mod filters;
mod listener;
pub(super) use listener::queue_of;
mod redeliveries;
mod resets;
mod starts;

use super::index::{Audience, Handover, Index};
use super::{Anomaly, SendCounts};
use serde::Serialize;

/// Consumer-side duplicates by cause.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RedeliveryCauses {
    pub consumer_crash: u64,
    /// A consumer stopped while one message sat in its listener since before these were
    /// delivered: the committed offset stayed below it (apache/rocketmq #1404).
    #[serde(skip_serializing_if = "is_zero")]
    pub stuck_message: u64,
    pub consumer_shutdown: u64,
    pub rebalance: u64,
    pub broker_restart: u64,
    pub slave_offsets: u64,
    /// A retry copy moved to `%RETRY%` twice: the broker restarted with an older delay
    /// offset (ScheduleMessageService persists it every 10 s, #3473).
    pub schedule_replay: u64,
    /// A retry copy stored twice: the consumer's send-back failed or timed out after the
    /// broker had stored it, and the client sent the copy itself.
    pub send_back_retried: u64,
    /// The first delivery came from a slave through an entry below its record's queue
    /// offset; the next pull, from the master, began at that record.
    pub misplaced_entry: u64,
    /// An operator reset the group's offsets below them (`resetOffsetByTime`).
    #[serde(skip_serializing_if = "is_zero")]
    pub operator_reset: u64,
    /// An operator handed the message to a consumer directly (CONSUME_MESSAGE_DIRECTLY).
    #[serde(skip_serializing_if = "is_zero")]
    pub consumed_directly: u64,
    pub offset_reset: u64,
    pub unexplained: u64,
}

impl RedeliveryCauses {
    /// How many causes there are.
    pub const COUNT: usize = 13;

    /// Every cause with its count, in a fixed order, named as the JSON names them.
    pub fn named(&self) -> [(&'static str, u64); Self::COUNT] {
        [
            ("consumer_crash", self.consumer_crash),
            ("stuck_message", self.stuck_message),
            ("consumer_shutdown", self.consumer_shutdown),
            ("rebalance", self.rebalance),
            ("broker_restart", self.broker_restart),
            ("slave_offsets", self.slave_offsets),
            ("schedule_replay", self.schedule_replay),
            ("send_back_retried", self.send_back_retried),
            ("misplaced_entry", self.misplaced_entry),
            ("operator_reset", self.operator_reset),
            ("consumed_directly", self.consumed_directly),
            ("offset_reset", self.offset_reset),
            ("unexplained", self.unexplained),
        ]
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupFigures {
    /// The group, or `group/consumer` for an instance of a broadcasting group.
    pub group: String,
    /// Messages handed over and done with, retries and duplicates included.
    pub deliveries: u64,
    /// Messages consumed (the listener said so) at least once.
    pub delivered: u64,
    /// Deliveries of a retried message (reconsume count above 0).
    pub retries: u64,
    pub lost: u64,
    pub lost_unconfirmed: u64,
    pub lost_unexplained: u64,
    /// Acknowledged, delivered to the group, then lost by the broker: a group that reads it
    /// later never sees it.
    pub lost_after_delivery: u64,
    pub redelivered: u64,
    pub redelivered_by_cause: RedeliveryCauses,
    /// Redeliveries no fault, rebalance or legitimate offset move explains.
    pub redelivered_unexplained: u64,
    pub reordered: u64,
    pub skipped: u64,
    pub rewinds: u64,
    /// Messages a rewind made the group read again.
    pub rewound_messages: u64,
    pub stale_deliveries: u64,
    pub abandoned: u64,
    pub dead_lettered: u64,
    /// Delayed messages handed to the listener before their delay had passed.
    pub early_deliveries: u64,
    /// Messages no instance subscribes to (by tag), never delivered; of them, the ones the
    /// broker passed (their tag's hash code matched) and the client filtered out.
    #[serde(skip_serializing_if = "is_zero")]
    pub filtered: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub filtered_by_client: u64,
    /// Messages some instances subscribe to and others do not, never delivered.
    #[serde(skip_serializing_if = "is_zero")]
    pub subscription_conflicts: u64,
    /// Messages stored in a queue no consumer could read at the end (past the topic's read
    /// queues there, or without read permission), never delivered: an operator's doing.
    #[serde(skip_serializing_if = "is_zero")]
    pub stranded: u64,
    /// Messages stored below where the group first took their queue (no committed offset
    /// yet: `ConsumeFromWhere` and the broker chose), never delivered: by design.
    #[serde(skip_serializing_if = "is_zero")]
    pub before_start: u64,
    /// Messages acknowledged before a late-joining group's first take of their queue, which it
    /// took from the queue's beginning, and consumed.
    #[serde(skip_serializing_if = "is_zero")]
    pub from_the_past: u64,
    /// Messages retention deleted (their CommitLog file expired) before the group consumed
    /// them: stored, then gone by design.
    #[serde(skip_serializing_if = "is_zero")]
    pub expired: u64,
    /// Messages at or past an operator's reset offset, handed to the group before the reset and
    /// never again after it; of them, the ones no stop of a consumer explains.
    #[serde(skip_serializing_if = "is_zero")]
    pub reset_missed: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub reset_missed_unexplained: u64,
    /// First takes of a queue by a new group at another offset than 4.9.8's rule gives
    /// (always a bug).
    #[serde(skip_serializing_if = "is_zero")]
    pub wrong_starts: u64,
    /// Takes of a queue below the offset PULL_OFFSET_MOVED had corrected the consumer to
    /// (always a bug).
    #[serde(skip_serializing_if = "is_zero")]
    pub uncorrected_offsets: u64,
    /// Messages a client's tag compare dropped that the broker's prefilter should have kept
    /// back (their tag's hash code matches no subscribed tag's).
    #[serde(skip_serializing_if = "is_zero")]
    pub unfiltered_by_broker: u64,
    /// Messages handed to a listener whose subscription excludes their tag.
    #[serde(skip_serializing_if = "is_zero")]
    pub unsubscribed_deliveries: u64,
    /// Orderly: two consumers inside the listener for one queue at once (from listener calls).
    pub orderly_overlaps: u64,
    /// Clustering: failed by the listener, never consumed afterwards, not dead-lettered.
    pub retry_lost: u64,
    /// Clustering: failed, never retried, yet the committed offset passed it.
    pub failed_acked: u64,
    /// Clustering: failures whose send-back a broker stored and then lost (named; not in
    /// `retry_lost` or `failed_acked`).
    #[serde(skip_serializing_if = "is_zero")]
    pub send_backs_lost: u64,
    /// Hand-overs of a queue from one consumer to another (from the allocations), and the
    /// longest: from the new owner's allocation to the old owner's letting go.
    pub handovers: u64,
    pub longest_handover_ms: u64,
    /// The longest hand-over between consumers whose routes had different numbers of the
    /// topic's queues: it lasts until the old owner's route refresh (30 s).
    pub longest_handover_across_views_ms: u64,
    /// From the first send to the first delivery the listener consumed.
    pub end_to_end_p50_ms: u64,
    pub end_to_end_p99_ms: u64,
}

/// The figures of every audience (in the scenario's order), and their anomalies.
pub(super) fn judge(
    index: &Index<'_>,
    counts: &mut SendCounts,
    anomalies: &mut Vec<Anomaly>,
) -> Vec<GroupFigures> {
    let facts = &index.consumers;
    let mut groups: Vec<GroupFigures> = facts
        .audiences
        .iter()
        .map(|a| {
            let handovers = handovers(index, a);
            GroupFigures {
                group: a.name.clone(),
                deliveries: a.deliveries,
                retries: a.retries,
                handovers: handovers.len() as u64,
                longest_handover_ms: longest(handovers, true),
                longest_handover_across_views_ms: longest(handovers, false),
                ..GroupFigures::default()
            }
        })
        .collect();
    deliveries::judge(index, &mut groups, counts, anomalies);
    redeliveries::judge(index, &mut groups, anomalies);
    delays::judge(index, &mut groups, anomalies);
    corrections::judge(index, &mut groups, anomalies);
    for (audience, figures) in facts.audiences.iter().zip(&mut groups) {
        fates::judge(index, audience, figures, anomalies);
        filters::unsubscribed(index, audience, figures, anomalies);
        filters::unfiltered(index, audience, figures, anomalies);
        resets::judge(index, audience, figures, anomalies);
    }
    starts::judge(index, &facts.audiences, &mut groups, anomalies);
    let judged = listener::judge(index, anomalies);
    for (audience, figures) in facts.audiences.iter().zip(&mut groups) {
        if let (None, Some(judged)) = (&audience.consumer, judged.get(&audience.group)) {
            figures.orderly_overlaps = judged.orderly_overlaps;
            figures.retry_lost = judged.retry_lost;
            figures.failed_acked = judged.failed_acked;
            figures.send_backs_lost = judged.send_backs_lost;
        }
    }
    groups
}

/// Whether a figure is 0 (left out of the JSON: the figures most groups never have).
pub(super) fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The longest of the hand-overs between consumers that saw the same queues (or not).
fn longest(handovers: &[Handover], same_view: bool) -> u64 {
    let matching = handovers.iter().filter(|h| h.same_view == same_view);
    matching.map(|h| h.took_ms).max().unwrap_or(0)
}

/// A clustering group's hand-overs (none for a broadcasting instance).
fn handovers<'a>(index: &'a Index<'_>, audience: &Audience) -> &'a [Handover] {
    let ownership = &index.consumers.story.ownership;
    let list = ownership.handovers.get(&audience.group);
    let list = list.filter(|_| audience.consumer.is_none());
    list.map_or(&[], Vec::as_slice)
}

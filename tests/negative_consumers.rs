//! Negative tests for the consumer-side guarantees: switch on a deliberate defect in the
//! consumer model and require the checker to catch it in at least a quarter of 50 seeds of a
//! bundled scenario, judged from facts the model cannot fake (the application's listener
//! calls, what the brokers hold, the committed offsets the auditor reads). Each test prints
//! the fraction it measured, and checks the sound twin (the same scenario and seed without
//! the defect) shows nothing.

mod common;

use common::{RETRIES_LOST, SEND_BACKS_LOST, bundled_with, summary};
use sim::check::{GroupFigures, Verdict};
use sim::report::Summary;

const SEEDS: u64 = 50;

/// The sum of a consumer figure over a summary's groups.
fn figure(summary: &Summary, pick: fn(&GroupFigures) -> u64) -> u64 {
    summary.consumers.iter().map(pick).sum()
}

/// Runs seeds 0..50 of `name` with `overrides` and the defect `bug` on; counts the seeds
/// that fail with `pick` above 0, prints the fraction, and requires a quarter. The first
/// caught seed, run without the defect, must show none.
fn require_caught(name: &str, overrides: &str, bug: &str, pick: fn(&GroupFigures) -> u64) {
    let buggy = bundled_with(name, &format!("{overrides}\n[bugs]\n{bug} = true"));
    let caught: Vec<u64> = (0..SEEDS)
        .filter(|seed| {
            let s = summary(&buggy, *seed);
            s.verdict == Verdict::Fail && figure(&s, pick) > 0
        })
        .collect();
    eprintln!("{bug} on {name}: caught in {}/{SEEDS} seeds", caught.len());
    assert!(
        caught.len() as u64 * 4 >= SEEDS,
        "{bug} on {name} was caught in only {}/{SEEDS} seeds",
        caught.len()
    );
    let sound = bundled_with(name, overrides);
    let seed = caught[0];
    assert_eq!(
        figure(&summary(&sound, seed), pick),
        0,
        "seed {seed} of {name} shows the anomaly without {bug}"
    );
}

/// At-least-once with retries and the DLQ: a failed send-back taken as done loses the retry.
#[test]
fn dropping_a_failed_send_back_is_caught() {
    require_caught(
        "retry-outage",
        SEND_BACKS_LOST,
        "drop_failed_send_back",
        |g| g.retry_lost,
    );
}

/// A failure never acknowledged as consumed: with the send-back and the client's own retry
/// send both lost, the message waits for a local retry; an offset that passes it meanwhile
/// loses it when the consumer dies first.
#[test]
fn acknowledging_a_failed_send_back_is_caught() {
    let overrides = format!("{SEND_BACKS_LOST}{RETRIES_LOST}");
    require_caught("retry-outage", &overrides, "ack_failed_send_back", |g| {
        g.failed_acked
    });
}

/// Orderly delivery under the lock: an orderly consumer that takes queues without the broker
/// lock is inside its listener at the same time as the queue's other owner.
#[test]
fn consuming_orderly_without_the_lock_is_caught() {
    require_caught("ordered-messages", "", "orderly_without_lock", |g| {
        g.orderly_overlaps
    });
}

/// No stale delivery after a queue moves: a dropped queue's waiting batches reach the
/// listener anyway.
#[test]
fn consuming_a_dropped_queue_is_caught_in_a_quarter_of_the_seeds() {
    require_caught("rebalance", "", "consume_dropped_queue", |g| {
        g.stale_deliveries
    });
}

/// No stale delivery after a queue moves, judged from the allocation each rebalance computed
/// rather than from the consumer's own report of dropping the queue: a rebalance that keeps
/// the queues allocated elsewhere never reports them dropped, and consumes them anyway.
#[test]
fn keeping_unallocated_queues_is_caught() {
    require_caught("rebalance", "", "keep_unallocated_queues", |g| {
        g.stale_deliveries
    });
}

/// The process queue commits its smallest pending offset: a queue whose stuck message a
/// consumer dies holding is replayed from there. Committing past it loses it.
#[test]
fn committing_past_a_pending_message_is_caught() {
    require_caught("stuck-message-replay", "", "commit_past_pending", |g| {
        g.lost_unexplained
    });
}

/// An operator's reset is applied by the consumers: one that ignores it never consumes again
/// what the group had consumed past the reset's offsets.
#[test]
fn ignoring_an_offset_reset_is_caught() {
    require_caught("reset-offset", "", "ignore_reset_offset", |g| {
        g.reset_missed_unexplained
    });
}

/// A hand-over completes within the rebalance interval: consumers that ignore the broker's
/// NOTIFY_CONSUMER_IDS_CHANGED and rebalance every 60 s keep queues for up to a minute after
/// new consumers were allocated them (measured from the allocations, `handover`).
#[test]
fn a_slow_rebalance_is_caught() {
    require_caught("rebalance", "", "slow_rebalance", |g| {
        u64::from(g.longest_handover_ms > 20_000)
    });
}

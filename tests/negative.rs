//! Negative tests: switch on a deliberate defect and require the checker to report what it
//! breaks within a fixed set of seeds. A checker that never fails proves nothing.

mod common;

use common::{bundled, bundled_with, summary};
use sim::check::Verdict;

/// The first seed in `seeds` whose summary satisfies `caught`, if any.
fn first_caught(
    scenario: &sim::scenario::Scenario,
    seeds: std::ops::Range<u64>,
    caught: impl Fn(&sim::report::Summary) -> bool,
) -> Option<u64> {
    seeds
        .into_iter()
        .find(|seed| caught(&summary(scenario, *seed)))
}

fn count(summary: &sim::report::Summary, pick: impl Fn(&sim::check::SendCounts) -> u64) -> u64 {
    summary.sends.as_ref().map_or(0, |s| pick(&s.counts))
}

/// SYNC_FLUSH that answers SEND_OK before the flush completes loses acknowledged messages on
/// power loss. A slower disk widens the window the defect opens.
#[test]
fn acknowledging_before_the_sync_flush_is_caught() {
    let slow_disk = "[disk]\nflush_latency = \"20ms..60ms\"";
    let buggy = bundled_with(
        "power-loss-sync-flush",
        &format!("[bugs]\nack_before_sync_flush = true\n{slow_disk}"),
    );
    let caught = first_caught(&buggy, 0..40, |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.lost) > 0
    });
    assert!(
        caught.is_some(),
        "no seed of 0..40 lost a SEND_OK message with the defect on"
    );
    // Without the defect, the same seed and disk lose nothing.
    let sound = bundled_with("power-loss-sync-flush", slow_disk);
    let seed = caught.unwrap();
    assert_eq!(
        count(&summary(&sound, seed), |c| c.lost),
        0,
        "seed {seed} loses messages without the defect"
    );
}

/// Recovery that skips the CRC check keeps a record whose body rotted: consumers would get a
/// body that was never sent.
#[test]
fn recovery_without_the_crc_check_is_caught() {
    let buggy = bundled_with("bit-rot", "[bugs]\nskip_crc_check_on_recover = true");
    let caught = first_caught(&buggy, 0..20, |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.corrupt) > 0
    });
    assert!(
        caught.is_some(),
        "no seed of 0..20 delivered a corrupt body with the defect on"
    );
    let seed = caught.unwrap();
    let sound = summary(&bundled("bit-rot"), seed);
    assert_eq!(
        count(&sound, |c| c.corrupt),
        0,
        "seed {seed} is corrupt without the defect"
    );
}

/// The sum of a consumer figure over a summary's groups.
fn consumers(
    summary: &sim::report::Summary,
    pick: impl Fn(&sim::check::GroupFigures) -> u64,
) -> u64 {
    summary.consumers.iter().map(pick).sum()
}

/// A consumer that moves its offset past a batch before the listener has run loses the batch
/// when it dies in the middle of it: acknowledged, stored, never consumed.
#[test]
fn committing_before_consuming_is_caught() {
    let buggy = bundled_with("rebalance", "[bugs]\ncommit_before_consume = true");
    let caught = first_caught(&buggy, 0..10, |s| {
        s.verdict == Verdict::Fail && consumers(s, |g| g.lost) > 0
    });
    let seed = caught.expect("no seed of 0..10 lost a message with the defect on");
    let sound = summary(&bundled("rebalance"), seed);
    assert_eq!(
        consumers(&sound, |g| g.lost),
        0,
        "seed {seed} loses messages without the defect"
    );
}

/// A consumer that still hands over messages of a queue it gave up to a rebalance consumes
/// them while their new owner does too.
#[test]
fn consuming_a_dropped_queue_is_caught() {
    let buggy = bundled_with("rebalance", "[bugs]\nconsume_dropped_queue = true");
    let caught = first_caught(&buggy, 0..10, |s| {
        s.verdict == Verdict::Fail && consumers(s, |g| g.stale_deliveries) > 0
    });
    let seed = caught.expect("no seed of 0..10 showed a stale delivery with the defect on");
    let sound = summary(&bundled("rebalance"), seed);
    assert_eq!(
        consumers(&sound, |g| g.stale_deliveries),
        0,
        "seed {seed} has stale deliveries without the defect"
    );
}

/// After PULL_OFFSET_MOVED, a consumer that goes back to offset 0 instead of the broker's
/// corrected offset consumes again messages the group had consumed and the broker still holds.
#[test]
fn resetting_offsets_to_zero_is_caught() {
    let buggy = bundled_with("offset-reuse", "[bugs]\nreset_offset_to_zero = true");
    let caught = first_caught(&buggy, 0..10, |s| {
        s.verdict == Verdict::Fail && consumers(s, |g| g.redelivered_by_cause.offset_reset) > 0
    });
    let seed =
        caught.expect("no seed of 0..10 redelivered after an offset reset with the defect on");
    let sound = summary(&bundled("offset-reuse"), seed);
    assert_eq!(
        consumers(&sound, |g| g.redelivered_unexplained),
        0,
        "seed {seed} has unexplained redeliveries without the defect"
    );
}

/// A SYNC_MASTER that counts data as replicated once it has sent it, before the slave has it,
/// answers SEND_OK for messages only the master holds: the master's lost disk takes them.
#[test]
fn acknowledging_before_the_slave_has_the_data_is_caught() {
    let buggy = bundled_with("sync-master", "[bugs]\nack_before_slave_has_data = true");
    let caught = first_caught(&buggy, 0..10, |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.lost) > 0
    });
    let seed = caught.expect("no seed of 0..10 lost a SEND_OK message with the defect on");
    let sound = summary(&bundled("sync-master"), seed);
    assert_eq!(
        count(&sound, |c| c.lost),
        0,
        "seed {seed} loses messages without the defect"
    );
}

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

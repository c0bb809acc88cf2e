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

/// The observed count of expectation `name`, 0 when it was not judged.
fn expected(summary: &sim::report::Summary, name: &str) -> u64 {
    let row = summary.expectations.iter().find(|e| e.name == name);
    row.and_then(|e| e.observed.parse().ok()).unwrap_or(0)
}

/// The fraction of `SEEDS` seeds (run two at a time) whose summary satisfies `caught`;
/// printed, so `cargo test -- --nocapture` shows how well the checker sees each defect.
fn caught_fraction(
    scenario: &sim::scenario::Scenario,
    bug: &str,
    caught: impl Fn(&sim::report::Summary) -> bool + Sync,
) -> f64 {
    let seeds: Vec<u64> = (0..SEEDS).collect();
    let caught = &caught;
    let hits: usize = std::thread::scope(|scope| {
        let halves: Vec<_> = seeds
            .chunks(SEEDS as usize / 2)
            .map(|half| {
                scope.spawn(move || {
                    half.iter()
                        .filter(|s| caught(&summary(scenario, **s)))
                        .count()
                })
            })
            .collect();
        halves
            .into_iter()
            .map(|h| h.join().expect("a worker"))
            .sum()
    });
    let fraction = hits as f64 / SEEDS as f64;
    eprintln!(
        "{bug} on {}: caught in {hits} of {SEEDS} seeds ({:.0}%)",
        scenario.name,
        fraction * 100.0
    );
    fraction
}

/// Seeds per negative test, and the share of them in which the checker must catch the defect.
const SEEDS: u64 = 50;
const REQUIRED: f64 = 0.25;

/// Switches `bug` on in a bundled scenario and requires the checker to catch it in at least a
/// quarter of the seeds; the same seeds without the defect must pass.
fn require_caught(name: &str, bug: &str, caught: impl Fn(&sim::report::Summary) -> bool + Sync) {
    let buggy = bundled_with(name, &format!("[bugs]\n{bug} = true"));
    let fraction = caught_fraction(&buggy, bug, caught);
    assert!(
        fraction >= REQUIRED,
        "{bug}: the checker caught it in only {:.0}% of {SEEDS} seeds of {name}",
        fraction * 100.0
    );
}

/// SYNC_FLUSH that answers SEND_OK before the flush completes loses acknowledged messages on
/// power loss (the bundled scenario's slow disk keeps the window wide).
#[test]
fn acknowledging_before_the_sync_flush_is_caught() {
    require_caught("power-loss-sync-flush", "ack_before_sync_flush", |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.lost) > 0
    });
}

/// A broker answers SYSTEM_BUSY only for a send it never processes: one that stores the sends
/// BrokerFastFailure answered makes the application's resends duplicates no attempt explains.
#[test]
fn storing_a_send_answered_system_busy_is_caught() {
    require_caught("broker-busy", "store_after_busy", |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.refused_but_stored) > 0
    });
}

/// A broker answers a new group 0 only while the queue's first message is not in disk: one
/// that always does starts a late CONSUME_FROM_LAST_OFFSET group at the beginning, which the
/// checker's own rule, from the acknowledgements, sees.
#[test]
fn starting_every_new_group_at_zero_is_caught() {
    require_caught("new-group-start", "zero_for_new_groups", |s| {
        s.verdict == Verdict::Fail && expected(s, "wrong_starts") > 0
    });
}

/// A DLedger leader that answers SEND_OK before a quorum holds the entry breaks its promise
/// in every answer: the harness reads the other members' entry data files when it answers.
#[test]
fn acknowledging_before_the_quorum_is_caught() {
    require_caught("dledger-partition", "ack_before_quorum", |s| {
        s.verdict == Verdict::Fail && expected(s, "broken_promises_unexplained") > 0
    });
}

/// DLedger members that dispatch past the committed index dispatch entries no quorum held,
/// seen from the entries each member recorded.
#[test]
fn dispatching_past_the_committed_index_is_caught() {
    require_caught("dledger-partition", "dispatch_past_committed", |s| {
        s.verdict == Verdict::Fail && expected(s, "uncommitted_dispatches_unexplained") > 0
    });
}

/// A DLedger member that grants a second candidate in a term it already voted in lets two
/// candidates of one term each count a quorum: two leaders in one term, seen from the grants
/// the voters recorded.
#[test]
fn granting_two_votes_per_term_is_caught() {
    require_caught("dledger-partition", "grant_two_votes_per_term", |s| {
        s.verdict == Verdict::Fail && expected(s, "two_leaders_unexplained") > 0
    });
}

/// A DLedger follower that answers a TRUNCATE as done without cutting its log keeps the
/// entries a partitioned leader wrote and no quorum held; the new leader's commit index then
/// reaches them in its log: it commits other entries than the group committed there, seen
/// from the entries each member recorded.
#[test]
fn skipping_the_follower_truncation_is_caught() {
    require_caught("dledger-partition", "skip_follower_truncation", |s| {
        s.verdict == Verdict::Fail && expected(s, "log_diverged_unexplained") > 0
    });
}

/// A DLedger leader whose committed index follows its own log, before a quorum holds an
/// entry, has its broker dispatch records no quorum held yet (its SEND_OK still waits for
/// the quorum): seen from the entries each member recorded.
#[test]
fn committing_before_the_quorum_is_caught() {
    require_caught("dledger-partition", "commit_before_quorum", |s| {
        s.verdict == Verdict::Fail && expected(s, "uncommitted_dispatches_unexplained") > 0
    });
}

/// A DLedger follower that answers an APPEND before writing the entry lets its leader count
/// a quorum that does not hold the bytes: the harness reads the members' entry data files
/// when the leader answers SEND_OK.
#[test]
fn acknowledging_an_append_before_writing_it_is_caught() {
    require_caught("dledger-follower-crash", "follower_ack_before_write", |s| {
        s.verdict == Verdict::Fail && expected(s, "broken_promises_unexplained") > 0
    });
}

/// Recovery that skips the CRC check keeps a record whose body rotted: consumers would get a
/// body that was never sent.
#[test]
fn recovery_without_the_crc_check_is_caught() {
    require_caught("bit-rot", "skip_crc_check_on_recover", |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.corrupt) > 0
    });
}

/// A SYNC_MASTER that counts data as replicated once it has sent it, before the slave has it,
/// answers SEND_OK for messages only the master holds: the master's lost disk takes them.
#[test]
fn acknowledging_before_the_slave_has_the_data_is_caught() {
    require_caught("sync-master", "ack_before_slave_has_data", |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.lost) > 0
    });
}

/// Dispatch that stops at a commitlog file's end never indexes what the next file holds: it is
/// stored, yet no queue leads to it.
#[test]
fn reput_that_stops_at_a_file_end_is_caught() {
    require_caught("lost-ack", "reput_stops_at_file_end", |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.lost) > 0
    });
}

/// Recovery that cuts the commitlog but leaves the ConsumeQueues' entries past the cut: after a
/// stalled flush and a power loss they point where new records land (another queue position,
/// or no record at all), and dispatch resumes from their end, never indexing what lies between.
/// Caught from the read-back: entries whose record names another position
/// (`misplaced_unexplained`), and records stored but indexed by no queue (`lost_unexplained`).
#[test]
fn keeping_the_consume_queue_on_truncation_is_caught() {
    require_caught(
        "stalled-flush-power-loss",
        "keep_consume_queue_on_truncation",
        |s| {
            s.verdict == Verdict::Fail
                && s.expectations.iter().any(|e| {
                    e.verdict == Verdict::Fail
                        && (e.name == "misplaced_unexplained" || e.name == "lost_unexplained")
                })
        },
    );
}

/// Name servers that never expire a silent broker keep routing to a machine that lost power.
#[test]
fn brokers_that_never_expire_are_caught() {
    require_caught("route-expiry", "never_expire_brokers", |s| {
        s.verdict == Verdict::Fail
            && s.expectations
                .iter()
                .any(|e| e.name == "removal_after_silence" && e.verdict == Verdict::Fail)
    });
}

/// Without any defect, every bundled scenario these tests use passes on the same seeds.
#[test]
fn the_same_seeds_pass_without_the_defects() {
    for name in [
        "power-loss-sync-flush",
        "bit-rot",
        "sync-master",
        "lost-ack",
        "route-expiry",
        "stalled-flush-power-loss",
        "tags-and-filters",
        "queue-numbers",
        "disk-full-cleanup",
        "index-lookup",
        "clock-jump",
        "dledger-partition",
        "dledger-follower-crash",
    ] {
        let scenario = bundled(name);
        let failing = caught_fraction(&scenario, "no defect", |s| s.verdict != Verdict::Pass);
        assert_eq!(failing, 0.0, "{name} fails without a defect");
    }
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

fn transactions(summary: &sim::report::Summary) -> sim::check::TransactionCounts {
    summary
        .sends
        .as_ref()
        .map(|s| s.counts.transactions.clone())
        .unwrap_or_default()
}

/// A rollback that puts the real message makes rolled-back transactions visible.
#[test]
fn a_rollback_that_puts_the_message_is_caught() {
    require_caught("transaction-lost-end", "rollback_puts_message", |s| {
        s.verdict == Verdict::Fail && transactions(s).phantom > 0
    });
}

/// A check that reads no op messages asks about committed halves again, and each answer
/// commits them again: duplicates no second commit of the producer's explains.
#[test]
fn a_check_that_ignores_op_messages_is_caught() {
    require_caught("transaction-lost-end", "check_ignores_op_messages", |s| {
        s.verdict == Verdict::Fail && transactions(s).duplicated_unexplained > 0
    });
}

/// Across a manual failover, a check that reads no op messages commits again what the
/// promoted slave did receive: the failover's own named cause (`commit_not_replicated`) must
/// not explain those duplicates.
#[test]
fn a_check_that_ignores_op_messages_is_caught_across_a_failover() {
    require_caught("transaction-failover", "check_ignores_op_messages", |s| {
        s.verdict == Verdict::Fail && transactions(s).duplicated_unexplained > 0
    });
}

/// A half message stored in its real topic is consumed before its commit, and even when it is
/// rolled back.
#[test]
fn a_half_message_in_its_real_topic_is_caught() {
    require_caught("transaction-lost-end", "half_in_real_topic", |s| {
        s.verdict == Verdict::Fail && transactions(s).phantom > 0
    });
}

/// A broker that ignores delay levels hands delayed messages over at once.
#[test]
fn ignoring_the_delay_level_is_caught() {
    require_caught("delayed-messages", "ignore_delay_level", |s| {
        s.verdict == Verdict::Fail && s.consumers.iter().any(|g| g.early_deliveries > 0)
    });
}

/// A broker that counts a shrink's dropped queues as consumed: when broker-a's read queues come
/// back, the group starts past their backlog, which is readable at the end yet never
/// delivered: lost, not stranded.
#[test]
fn a_shrink_that_counts_the_dropped_queues_consumed_is_caught() {
    require_caught("queue-numbers", "shrink_counts_consumed", |s| {
        s.verdict == Verdict::Fail && consumers(s, |g| g.lost_unexplained) > 0
    });
}

/// Retention that deletes files before `fileReservedTime`: broker-b deletes its oldest files as
/// soon as its disk passes 75 %, though none is 72 hours old; the disks' records of the
/// deletions (mtime, wall clock, usage) show it.
#[test]
fn deleting_files_before_their_reserved_time_is_caught() {
    require_caught("disk-full-cleanup", "ignore_file_reserved_time", |s| {
        s.verdict == Verdict::Fail && expected(s, "deleted_early") > 0
    });
}

/// An IndexFile that puts keys in the wrong slot: queries by key miss records no recovery
/// touched (broker-b's, never crashed).
#[test]
fn an_index_that_loses_keys_is_caught() {
    require_caught("index-lookup", "index_wrong_slot", |s| {
        s.verdict == Verdict::Fail && expected(s, "index_missing_unexplained") > 0
    });
}

/// Abnormal recovery that scans from the newest CommitLog file, whatever the checkpoint says:
/// after broker-b's clock stepped back and it lost power, the checker works out where 4.9.8
/// starts from what the disk held, and does not take the clock for an excuse.
#[test]
fn a_recovery_from_the_wrong_file_after_a_clock_jump_is_caught() {
    require_caught("clock-jump", "recover_from_newest_file", |s| {
        s.verdict == Verdict::Fail && expected(s, "recovery_misstarts") > 0
    });
}

/// A consumer that commits the offset it asked for after PULL_OFFSET_MOVED, not the broker's
/// correction, takes the queue again below the queue's minimum, forever.
#[test]
fn an_uncorrected_offset_after_offset_moved_is_caught() {
    require_caught("disk-full-cleanup", "keep_offset_after_moved", |s| {
        s.verdict == Verdict::Fail && consumers(s, |g| g.uncorrected_offsets) > 0
    });
}

/// A broker that filters by the first tag of `TagA || TagB` only never hands over TagB's
/// messages: the group's subscription wants them, so they are skipped, not filtered.
#[test]
fn filtering_by_the_first_tag_only_is_caught() {
    require_caught("tags-and-filters", "filter_first_tag_only", |s| {
        s.verdict == Verdict::Fail
            && s.consumers
                .iter()
                .any(|g| g.skipped + g.lost_unexplained > 0)
    });
}

/// A broker that ignores the tag hash codes hands clients what their subscriptions exclude;
/// the clients' string compare keeps it from the listeners, and its drops show it.
#[test]
fn a_broker_that_ignores_the_tag_hash_is_caught() {
    require_caught("tags-and-filters", "broker_ignores_tag_hash", |s| {
        s.verdict == Verdict::Fail && consumers(s, |g| g.unfiltered_by_broker) > 0
    });
}

/// A client that trusts the broker's hash-code match hands `BB` to a listener subscribed to
/// `Aa` (equal hash codes): a delivery its subscription excludes.
#[test]
fn skipping_the_client_tag_compare_is_caught() {
    require_caught("tags-and-filters", "skip_client_tag_filter", |s| {
        s.verdict == Verdict::Fail && s.consumers.iter().any(|g| g.unsubscribed_deliveries > 0)
    });
}

/// A SEND_OK's promise is judged when it is made, from what the disks held then: a broker that
/// acknowledges early is caught in nearly every seed of a scenario with no fault at all.
fn require_broken_promises(name: &str, bug: &str) {
    let mut buggy = bundled_with(name, &format!("[bugs]\n{bug} = true"));
    buggy.faults.clear();
    let fraction = caught_fraction(&buggy, bug, |s| {
        s.verdict == Verdict::Fail && count(s, |c| c.broken_promises_unexplained) > 0
    });
    assert!(
        fraction >= 0.9,
        "{bug}: a broken promise caught in only {:.0}% of {SEEDS} fault-free seeds of {name}",
        fraction * 100.0
    );
}

#[test]
fn an_early_sync_flush_ack_is_a_broken_promise_without_faults() {
    require_broken_promises("power-loss-sync-flush", "ack_before_sync_flush");
}

#[test]
fn an_early_sync_master_ack_is_a_broken_promise_without_faults() {
    require_broken_promises("sync-master", "ack_before_slave_has_data");
}

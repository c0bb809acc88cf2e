//! Every cause of a redelivery, from a hand-built history: the copy goes to billing-0 at 1 s
//! and to billing-1 at 5 s; what happens in between decides the cause.

use super::{Story, only};
use crate::check::AnomalyKind;
use crate::history::Stop;
use model::event::Event;

/// Message 1 consumed by billing-0 at 1 s, then by billing-1 at 5 s, with `between` written
/// in between.
fn redelivered(between: impl FnOnce(&mut Story)) -> (Option<&'static str>, String) {
    let mut story = Story::new();
    story.sent(500, 1, "orders").consumed(1_000, "billing-0", 1);
    between(&mut story);
    let report = story
        .consumed(5_000, "billing-1", 1)
        .stored(8_000, 1, "orders")
        .read_back_done(9_000)
        .check();
    let anomaly = only(
        &report,
        AnomalyKind::Redelivered,
        "billing-1 got it again at 4.999s",
    );
    (anomaly.cause, anomaly.explanation.clone())
}

fn take_over(story: &mut Story) {
    story.assigned(3_000, "billing-1", "billing", "orders", 0);
}

fn queue_event(moved: bool) -> Event {
    let (group, consumer, broker, topic) = ("billing", "billing-1", "broker-a", "orders");
    if moved {
        Event::OffsetMoved {
            group: group.into(),
            consumer: consumer.into(),
            broker: broker.into(),
            topic: topic.into(),
            queue_id: 0,
            from: 9,
            to: 0,
        }
    } else {
        Event::PullReplica {
            group: group.into(),
            consumer: consumer.into(),
            broker: broker.into(),
            topic: topic.into(),
            queue_id: 0,
            slave: true,
        }
    }
}

#[test]
fn a_crash_before_the_commit_is_a_consumer_crash() {
    let (cause, story) = redelivered(|s| {
        s.stop(2_000, "billing-0", Stop::Kill);
        take_over(s);
    });
    assert_eq!(cause, Some("consumer crash"));
    assert!(
        story.contains("billing-1 took the queue at 3.000s"),
        "{story}"
    );
}

#[test]
fn a_clean_stop_is_a_consumer_shutdown() {
    let (cause, _) = redelivered(|s| {
        s.stop(2_000, "billing-0", Stop::Shutdown);
        take_over(s);
    });
    assert_eq!(cause, Some("consumer shutdown"));
}

#[test]
fn an_offset_moved_below_consumed_is_an_offset_reset() {
    let (cause, story) = redelivered(|s| {
        s.model(2_000, "billing-1", queue_event(true));
        take_over(s);
    });
    assert_eq!(cause, Some("offset reset"));
    assert!(story.contains("PULL_OFFSET_MOVED"), "{story}");
}

#[test]
fn offsets_committed_to_a_slave_are_named() {
    let (cause, _) = redelivered(|s| {
        s.model(2_000, "billing-1", queue_event(false));
        take_over(s);
    });
    assert_eq!(cause, Some("offsets on slave"));
}

#[test]
fn a_broker_restart_loses_recent_offsets() {
    let (cause, story) = redelivered(|s| {
        s.stop(2_000, "broker-a", Stop::Kill);
        take_over(s);
    });
    assert_eq!(cause, Some("broker restart"));
    assert!(story.contains("broker-a was killed at 2.000s"), "{story}");
}

#[test]
fn a_queue_taken_over_is_a_rebalance() {
    let (cause, _) = redelivered(take_over);
    assert_eq!(cause, Some("rebalance"));
}

#[test]
fn two_owners_at_once_are_a_rebalance() {
    let (cause, story) = redelivered(|s| {
        s.assigned(200, "billing-1", "billing", "orders", 0);
    });
    assert_eq!(cause, Some("rebalance"));
    assert!(story.contains("had owned the queue too"), "{story}");
}

#[test]
fn a_redelivery_nothing_explains_is_unexplained() {
    let (cause, _) = redelivered(|_| {});
    assert_eq!(cause, Some("unexplained"));
}

/// Message 1 failed once by billing-0 at 1 s, then two retry copies at reconsume count 1:
/// the first consumed at 12 s, the second at 40 s, with `between` written in between.
fn two_retry_copies(between: impl FnOnce(&mut Story)) -> Vec<(Option<&'static str>, String)> {
    let retry = ("orders", "%RETRY%billing");
    let mut story = Story::new();
    story
        .sent(500, 1, "orders")
        .delivered(
            1_000,
            "billing-0",
            "billing",
            1,
            ("orders", "orders"),
            1,
            0,
            false,
        )
        .delivered(12_000, "billing-0", "billing", 1, retry, 0, 1, true);
    between(&mut story);
    let report = story
        .delivered(40_000, "billing-1", "billing", 1, retry, 1, 1, true)
        .stored(45_000, 1, "orders")
        .read_back_done(50_000)
        .check();
    let found = report
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::Redelivered);
    found.map(|a| (a.cause, a.explanation.clone())).collect()
}

#[test]
fn a_retry_moved_again_after_a_broker_restart_is_a_schedule_replay() {
    let found = two_retry_copies(|s| {
        s.stop(20_000, "broker-a", Stop::Kill);
    });
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, Some("schedule replay"));
    assert!(found[0].1.contains("#3473"), "{}", found[0].1);
}

#[test]
fn a_retry_the_client_sent_itself_after_a_stored_send_back_is_named() {
    let found = two_retry_copies(|s| {
        let resend = Event::SendInvoke {
            id: super::id(1),
            topic: "%RETRY%billing".into(),
            key: None,
            tags: None,
            mode: model::event::SendMode::Sync,
            body_crc: 1,
        };
        s.model(4_000, "billing-0", resend);
    });
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, Some("send-back retried"));
}

#[test]
fn an_extra_retry_copy_nothing_explains_is_unexplained() {
    let found = two_retry_copies(|_| {});
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, Some("unexplained"));
}

#[test]
fn two_failures_sending_back_two_copies_is_no_redelivery() {
    let found = two_retry_copies(|s| {
        let topics = ("orders", "orders");
        s.delivered(2_000, "billing-1", "billing", 1, topics, 1, 0, false);
    });
    // The original copy reached two consumers (a redelivery); its two failures were each
    // sent back, so two retry copies are no further duplicate.
    let causes: Vec<_> = found.iter().map(|(cause, _)| *cause).collect();
    assert_eq!(causes, vec![Some("unexplained")], "{found:#?}");
    assert!(
        found[0].1.contains("went to billing-0 at 0.999s"),
        "{}",
        found[0].1
    );
}

/// The first delivery came from the slave through entry 0, which leads to the record of
/// offset 1; the next pull, from the master, asked for entry 1: the same record.
#[test]
fn a_delivery_through_a_slaves_misplaced_entry_is_a_misplaced_entry() {
    let report = Story::new()
        .sent(500, 1, "orders")
        .slave_read(800, "billing-0")
        .consumed(7_000, "billing-0", 1)
        .consumed(9_000, "billing-0", 1)
        .stored(10_000, 1, "orders")
        .misplaced(10_000, "broker-a-s1", "orders", 0, 1)
        .read_back_done(11_000)
        .check();
    let anomaly = only(&report, AnomalyKind::Redelivered, "at entry 0");
    assert_eq!(anomaly.cause, Some("misplaced entry"));
}

//! The consumer side: every delivery, fate and listener anomaly from a hand-built history.

use super::{Story, id, only, read_back};
use crate::check::AnomalyKind;
use crate::history::Stop;
use model::event::Event;

#[test]
fn a_stored_message_the_group_never_got_is_skipped_and_lost_unexplained() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .stored(8_000, 1, "orders")
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Skipped, "billing never got it");
    only(
        &report,
        AnomalyKind::LostUnexplained,
        "it is stored, but billing never got it",
    );
    assert_eq!(report.consumers[0].lost_unexplained, 1);
}

/// The group first took the queue at offset 2 (no committed offset: it started at the end):
/// the message stored at offset 1 was never for it. Taken from 0, the same miss is a loss.
#[test]
fn a_message_below_where_a_new_group_started_is_before_start() {
    let story = |start: u64| {
        Story::new()
            .sent(1_000, 1, "orders")
            .assigned(2_000, "billing-0", "billing", "orders", start)
            .stored(8_000, 1, "orders")
            .read_back_done(9_000)
            .check()
    };
    let started_past = story(2);
    only(
        &started_past,
        AnomalyKind::BeforeStart,
        "billing started past it",
    );
    assert_eq!(started_past.consumers[0].before_start, 1);
    assert_eq!(started_past.consumers[0].lost, 0);
    let from_zero = story(0);
    assert_eq!(from_zero.consumers[0].before_start, 0);
    assert_eq!(from_zero.consumers[0].lost_unexplained, 1);
}

/// The group read the queue from the slave, whose entry 0 holds the record of offset 1: it
/// asked for entry 1 and passed over the record. Without the slave read, nothing explains it.
#[test]
fn a_record_a_slave_keeps_below_its_offset_is_passed_over() {
    let story = |slave_read: bool| {
        let mut story = Story::new();
        story.sent(1_000, 1, "orders");
        if slave_read {
            story.slave_read(2_000, "billing-0");
        }
        story
            .stored(8_000, 1, "orders")
            .misplaced(8_000, "broker-a-s1", "orders", 0, 1)
            .read_back_done(9_000)
            .check()
    };
    let passed = story(true);
    let lost = only(&passed, AnomalyKind::Lost, "passed over this record");
    assert_eq!(lost.cause, Some("misplaced_entry"));
    assert_eq!(story(false).consumers[0].lost_unexplained, 1);
}

#[test]
fn a_message_the_broker_lost_before_delivery_is_lost_with_its_cause() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .stop(1_200, "broker-a", Stop::DiskLoss)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Lost, "lost its disk");
}

#[test]
fn an_offset_handed_out_twice_explains_a_loss() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .sent(1_100, 2, "orders")
        .delivered(
            2_000,
            "billing-0",
            "billing",
            2,
            ("orders", "orders"),
            1,
            0,
            true,
        )
        .stored(8_000, 1, "orders")
        .stored(8_001, 2, "orders")
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::Lost,
        "an offset billing had already consumed (p0-2",
    );
}

#[test]
fn a_delivery_after_the_queue_was_dropped_is_stale() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .dropped(1_500, "billing-0", "billing", "orders")
        .consumed(2_000, "billing-0", 1)
        .stored(8_000, 1, "orders")
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::StaleDelivery,
        "dropped broker-a/orders/0 at 1.500s",
    );
}

#[test]
fn a_key_delivered_out_of_send_order_is_reordered() {
    let report = Story::new()
        .invoke(1_000, 1, "orders", Some("k"))
        .invoke(1_010, 2, "orders", Some("k"))
        .consumed(2_000, "billing-0", 2)
        .consumed(2_100, "billing-0", 1)
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::Reordered,
        "after p0-2 of the same key from the same queue",
    );
}

#[test]
fn taking_a_queue_below_what_was_consumed_is_a_rewind() {
    let mut story = Story::new();
    for seq in 0..3 {
        story
            .sent(1_000, seq, "orders")
            .consumed(2_000, "billing-0", seq);
    }
    let report = story
        .assigned(3_000, "billing-1", "billing", "orders", 1)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Rewind, "2 messages again");
    assert_eq!(report.consumers[0].rewound_messages, 2);
}

#[test]
fn a_broadcasting_failure_never_consumed_is_abandoned() {
    let topics = ("prices", "prices");
    let report = Story::new()
        .sent(1_000, 1, "prices")
        .delivered(2_000, "cache-0", "cache", 1, topics, 1, 0, false)
        .delivered(2_000, "cache-1", "cache", 1, topics, 1, 0, true)
        .stored(8_000, 1, "prices")
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::Abandoned,
        "cache/cache-0 failed p0-1 1 time(s)",
    );
}

#[test]
fn a_message_in_the_groups_dead_letter_queue_is_dead_lettered() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .held(8_000, "broker-a", "%DLQ%billing", 0, Some(id(1)), 1)
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::DeadLettered,
        "parked in broker-a/%DLQ%billing@0",
    );
}

#[test]
fn a_failure_never_consumed_nor_dead_lettered_is_a_lost_retry() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .listened(2_000, "billing-0", ("orders", &[1]), 10, false)
        .stored(8_000, 1, "orders")
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::RetryLost, "its retry was lost");
}

/// A send-back broker-a stored (SUCCESS, WAIT false) and then lost with its page cache takes
/// the failure's retries with it: a named loss, counted apart from unexplained ones.
#[test]
fn a_send_back_its_broker_lost_names_the_lost_retry() {
    let back = Event::SentBack {
        broker: "broker-a".into(),
        group: "billing".into(),
        id: Some(super::id(1)),
        put: 900,
        size: 100,
    };
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .listened(2_000, "billing-0", ("orders", &[1]), 10, false)
        .model(2_011, "broker-a", back)
        .stop(2_500, "broker-a", Stop::PowerOff)
        .stored(8_000, 1, "orders")
        .read_back_done(9_000)
        .check();
    let lost = only(
        &report,
        AnomalyKind::RetryLost,
        "stored its send-back at 2.011s",
    );
    assert_eq!(lost.cause, Some("send_back_lost"));
    let billing = &report.consumers[0];
    assert_eq!((billing.retry_lost, billing.send_backs_lost), (0, 1));
}

#[test]
fn a_failure_the_committed_offset_passed_is_acknowledged() {
    let progress = Event::ConsumerProgress {
        group: "billing".into(),
        broker: "broker-a".into(),
        topic: "orders".into(),
        queue_id: 0,
        consumer_offset: 5,
        broker_offset: 5,
    };
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .listened(2_000, "billing-0", ("orders", &[1]), 10, false)
        .model(8_000, "auditor", progress)
        .stored(8_000, 1, "orders")
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::FailedAcked,
        "committed offset there is 5",
    );
}

#[test]
fn two_consumers_inside_one_orderly_queue_overlap() {
    let report = Story::new()
        .sent(1_000, 1, "ledger")
        .listened(2_000, "books-0", ("ledger", &[1]), 100, true)
        .listened(2_050, "books-1", ("ledger", &[1]), 100, true)
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::OrderlyOverlap,
        "two consumers of one orderly queue at once",
    );
}

#[test]
fn a_delivery_of_a_queue_allocated_elsewhere_is_stale() {
    let report = Story::new()
        .sent(1_000, 1, "orders")
        .allocated(1_100, "billing-0", &[0])
        .consumed(1_500, "billing-0", 1)
        .sent(1_600, 2, "orders")
        .allocated(1_700, "billing-0", &[1])
        .consumed(2_000, "billing-0", 2)
        .read_back_done(9_000)
        .check();
    let stale = only(
        &report,
        AnomalyKind::StaleDelivery,
        "rebalance at 1.700s allocated",
    );
    assert_eq!(stale.cause, Some("not allocated"));
}

#[test]
fn a_hand_over_lasts_until_the_old_owner_lets_the_queue_go() {
    let report = Story::new()
        .allocated(1_000, "billing-0", &[0, 1])
        .allocated(2_000, "billing-1", &[1])
        .allocated(9_500, "billing-0", &[0])
        .read_back_done(20_000)
        .check();
    let billing = &report.consumers[0];
    assert_eq!((billing.handovers, billing.longest_handover_ms), (1, 7_500));
}

#[test]
fn a_delayed_message_handed_over_before_its_delay_is_early() {
    let mut story = Story::new();
    story.scenario.producers[0].delay_level = Some(3); // 10 s
    let report = story
        .sent(1_000, 1, "orders")
        .consumed(5_000, "billing-0", 1)
        .sent(1_000, 2, "orders")
        .consumed(12_000, "billing-1", 2)
        .stored(20_000, 1, "orders")
        .stored(20_000, 2, "orders")
        .read_back_done(30_000)
        .check();
    let early = only(
        &report,
        AnomalyKind::EarlyDelivery,
        "delay level 3 (10.000s)",
    );
    assert_eq!(early.message.as_deref(), Some("p0-1"));
    let billing = report.consumers.iter().find(|g| g.group == "billing");
    assert_eq!(billing.map(|g| g.early_deliveries), Some(1));
}

/// A rotted queue-offset field names a position far past every entry: the record stands at
/// its entry (the index's tables are dense by offset), and the entry is misplaced.
#[test]
fn a_record_naming_a_wild_queue_offset_stands_at_its_entry() {
    let mut story = Story::new();
    let entry = model::event::QueueEntry {
        topic: "orders".into(),
        queue_id: 0,
        offset: 1,
    };
    let rotted = read_back(story.node("broker-a"), entry, 1 << 50, Some(id(1)), 1);
    let report = story
        .sent(1_000, 1, "orders")
        .consumed(2_000, "billing-0", 1)
        .model(8_000, "auditor", rotted)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Misplaced, "orders/0@1125899906842624");
}

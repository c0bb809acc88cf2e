//! The producer side: every storage, durability and divergence anomaly from a hand-built
//! history.

use super::{Story, id, of, only};
use crate::check::{AnomalyKind, Verdict};
use crate::history::{SimEvent, Stop};
use model::event::{Event, SendStatus};

#[test]
fn a_power_loss_before_the_flush_explains_a_lost_message() {
    let report = Story::new()
        .flushed(500, "broker-a", 100)
        .sent(1_000, 1, "audit")
        .stop(2_000, "broker-a", Stop::PowerOff)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Lost, "only in the page cache");
    assert_eq!(report.sends.counts.lost, 1);
    assert_eq!(report.sends.counts.lost_unexplained, 0);
}

#[test]
fn a_flushed_record_a_recovery_passed_over_is_named() {
    // The checkpoint says 13 s (less 3 s: 10 s); the second file's first record is newer,
    // the third's older (a clock stepped back): the rule starts at the third, past the
    // record at offset 100.
    let inputs = SimEvent::RecoveryInputs {
        physic_ms: 13_000,
        logics_ms: 13_000,
        files: vec![(0, 5_000), (100, 20_000), (200, 8_000)],
    };
    let recovered = Event::Recovered {
        broker: "broker-a".into(),
        abnormal: true,
        scanned_from: 200,
        max_offset: 300,
        truncated_bytes: 0,
    };
    let report = Story::new()
        .flushed(500, "broker-a", 1_000)
        .sent(1_000, 1, "audit")
        .flushed(1_500, "broker-a", 1_000)
        .stop(2_000, "broker-a", Stop::PowerOff)
        .sim(3_000, "broker-a", inputs)
        .model(3_000, "broker-a", recovered)
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::Lost,
        "passing over the files from offset 0",
    );
    assert_eq!(report.sends.counts.lost_unexplained, 0);
    assert_eq!(report.sends.counts.recovery_misstarts, 0);
}

#[test]
fn a_loss_nothing_explains_is_unexplained() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::LostUnexplained,
        "nothing in the durability model",
    );
    assert_eq!(report.sends.counts.lost_unexplained, 1);
}

#[test]
fn a_lost_weak_acknowledgement_is_unconfirmed() {
    let report = Story::new()
        .invoke(1_000, 1, "audit", None)
        .answer(1_005, 1, SendStatus::FlushDiskTimeout)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::LostUnconfirmed, "FLUSH_DISK_TIMEOUT");
    assert_eq!(report.sends.counts.lost, 0);
}

#[test]
fn a_failed_send_that_is_stored_is_recovered() {
    let report = Story::new()
        .invoke(1_000, 1, "audit", None)
        .failed(1_500, 1)
        .stored(8_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Recovered, "yet it is stored");
}

#[test]
fn a_message_at_two_offsets_is_duplicated() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .stored(8_000, 1, "audit")
        .held(8_001, "broker-a", "audit", 5, Some(id(1)), 1)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Duplicated, "stored 2 times");
}

#[test]
fn a_record_nobody_sent_is_unexpected() {
    let report = Story::new()
        .held(8_000, "broker-a", "audit", 0, Some(id(7)), 7)
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::Unexpected, "never sent");
    assert_eq!(report.verdict, Verdict::Fail, "unexpected = 0 by default");
}

#[test]
fn another_body_or_a_torn_id_is_corrupt() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .held(8_000, "broker-a", "audit", 1, Some(id(1)), 999)
        .held(8_001, "broker-a", "audit", 2, None, 0)
        .read_back_done(9_000)
        .check();
    let corrupt = of(&report, AnomalyKind::Corrupt);
    assert_eq!(corrupt.len(), 2, "{corrupt:#?}");
    assert!(corrupt[0].explanation.contains("not the one sent"));
    assert!(corrupt[1].explanation.contains("no readable UNIQ_KEY"));
}

#[test]
fn replicas_holding_different_records_diverged() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .sent(1_100, 2, "audit")
        .stored(8_000, 1, "audit")
        .held(8_001, "broker-a-s1", "audit", 1, Some(id(2)), 2)
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::Diverged,
        "holds p0-1 on broker-a but p0-2 on broker-a-s1",
    );
    assert_eq!(report.sends.counts.diverged, 1);
}

/// A record whose properties a power loss tore is described as torn, not as logs that went
/// separate ways.
#[test]
fn a_record_torn_by_a_power_loss_is_not_called_a_divergence() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .stop(2_000, "broker-a-s1", Stop::PowerOff)
        .stored(8_000, 1, "audit")
        .held(8_001, "broker-a-s1", "audit", 1, None, 1)
        .read_back_done(9_000)
        .check();
    let diverged = only(
        &report,
        AnomalyKind::Diverged,
        "broker-a-s1's power loss at 2.000s tore",
    );
    assert!(
        !diverged.explanation.contains("separate ways"),
        "{}",
        diverged.explanation
    );
}

#[test]
fn a_position_missing_on_a_replica_that_covers_it_diverged() {
    let mut story = Story::new();
    for seq in 0..3 {
        story.sent(1_000 + u64::from(seq), seq, "audit");
        story.stored(8_000, seq, "audit");
    }
    let slave = "broker-a-s1";
    story.held(8_010, slave, "audit", 0, Some(id(0)), 0);
    story.held(8_012, slave, "audit", 2, Some(id(2)), 2);
    let report = story.read_back_done(9_000).check();
    let diverged = only(&report, AnomalyKind::Diverged, "missing on broker-a-s1");
    assert_eq!(diverged.cause, Some("missing on a replica"));
}

#[test]
fn a_queue_that_could_not_be_read_leaves_its_messages_unknown() {
    let failed = Event::ReadBackFailed {
        broker: "broker-a".into(),
        replica: Story::new().node("broker-a"),
        topic: "audit".into(),
        queue_id: 0,
        error: "timeout".into(),
    };
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .model(8_000, "auditor", failed)
        .read_back_done(9_000)
        .check();
    assert!(of(&report, AnomalyKind::LostUnexplained).is_empty());
    assert_eq!(report.verdict, Verdict::Unknown);
    let unexpected = report.expectations.iter().find(|e| e.name == "unexpected");
    assert_eq!(unexpected.expect("a default").observed, "unknown");
}

/// After each fault that began while producers sent, the time to the next SEND_OK: the
/// broker's kill here costs 4 s, and a stop after the last answer is no fault of the run.
#[test]
fn the_time_to_the_next_send_ok_follows_each_fault() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .stop(2_000, "broker-a", Stop::Kill)
        .sent(5_995, 2, "audit")
        .stop(9_000, "broker-a", Stop::Kill)
        .read_back_done(9_500)
        .check();
    let after = &report.sends.after_faults;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].fault, "kill broker-a");
    assert_eq!(
        (after[0].at_ms, after[0].next_send_ok_ms),
        (2_000, Some(4_000))
    );
}

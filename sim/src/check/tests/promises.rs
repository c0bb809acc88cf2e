//! Broken promises: a SEND_OK judged against what the disks held when it was answered.

use super::{Report, SIZE, Story, of, only};
use crate::check::{AnomalyKind, Verdict};
use crate::history::{ReplicaHeld, SimEvent};
use crate::scenario::schema::{FlushMode, MasterRole};
use model::event::SendStatus;

impl Story {
    /// broker-a under SYNC_FLUSH (`flush`) and SYNC_MASTER (`replicate`).
    fn promising(flush: bool, replicate: bool) -> Story {
        let mut story = Story::new();
        let group = &mut story.scenario.broker_groups[0];
        if flush {
            group.flush = FlushMode::Sync;
        }
        if replicate {
            group.role = MasterRole::SyncMaster;
        }
        story
    }

    /// When broker-a answered message `seq`, its media held the record up to `media` and its
    /// slave up to `slave` (commitlog offsets; the record spans `100 * seq` for 100 bytes).
    fn held_when_answered(&mut self, at: u64, seq: u32, media: u64, slave: u64) -> &mut Story {
        self.held_by_slave(at, seq, media, (slave, false))
    }

    /// The same, with whether the slave held other bytes past `slave` (its log diverged).
    fn held_by_slave(
        &mut self,
        at: u64,
        seq: u32,
        media: u64,
        (slave, diverged): (u64, bool),
    ) -> &mut Story {
        let offset = u64::from(seq) * u64::from(SIZE);
        let event = SimEvent::Held {
            offset,
            end: offset + u64::from(SIZE),
            media,
            replicas: vec![ReplicaHeld {
                node: self.node("broker-a-s1"),
                upto: slave,
                diverged,
            }],
        };
        let node = self.node("broker-a");
        self.push(at, Some(node), crate::history::Recorded::Sim(event));
        self
    }
}

/// Message 1 sent, SEND_OK at 1.005s when the disks held it as given, stored.
fn answered_once(mut story: Story, media: u64, slave: (u64, bool)) -> Report {
    story
        .invoke(1_000, 1, "audit", None)
        .held_by_slave(1_004, 1, media, slave)
        .answer(1_005, 1, SendStatus::SendOk)
        .stored(2_000, 1, "audit")
        .read_back_done(9_000)
        .check()
}

#[test]
fn a_sync_flush_send_ok_before_the_media_held_it_is_broken() {
    let report = answered_once(Story::promising(true, false), 150, (0, false));
    only(
        &report,
        AnomalyKind::BrokenPromise,
        "under SYNC_FLUSH; its media held it only up to 150",
    );
    assert_eq!(report.sends.counts.broken_promises, 1);
    assert_eq!(report.verdict, Verdict::Fail);
}

#[test]
fn a_kept_promise_is_not_reported() {
    let report = Story::promising(true, true)
        .invoke(1_000, 1, "audit", None)
        .held_when_answered(1_004, 1, 200, 200)
        .answer(1_005, 1, SendStatus::SendOk)
        .invoke(1_000, 2, "audit", None)
        .held_when_answered(1_004, 2, 200, 200)
        .answer(1_005, 2, SendStatus::FlushDiskTimeout)
        .stored(2_000, 1, "audit")
        .stored(2_000, 2, "audit")
        .read_back_done(9_000)
        .check();
    assert!(
        of(&report, AnomalyKind::BrokenPromise).is_empty(),
        "{:#?}",
        report.anomalies
    );
    assert_eq!(report.verdict, Verdict::Pass);
}

#[test]
fn a_sync_master_send_ok_no_slave_held_is_broken() {
    let report = answered_once(Story::promising(false, true), 0, (180, false));
    only(
        &report,
        AnomalyKind::BrokenPromise,
        "under SYNC_MASTER; no other machine of the group held it then (broker-a-s1 held it up to 180)",
    );
}

#[test]
fn a_send_ok_no_broker_answered_is_broken() {
    let report = Story::promising(true, false)
        .sent(1_000, 1, "audit")
        .stored(2_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    only(
        &report,
        AnomalyKind::BrokenPromise,
        "which answered no SEND_OK for it",
    );
}

#[test]
fn without_a_promise_nothing_is_judged() {
    let report = Story::new()
        .sent(1_000, 1, "audit")
        .stored(2_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    assert_eq!(report.sends.counts.broken_promises, 0);
}

#[test]
fn a_slave_whose_log_diverged_breaks_the_promise_by_a_named_mechanism() {
    let report = answered_once(Story::promising(false, true), 0, (108, true));
    let anomaly = only(&report, AnomalyKind::BrokenPromise, "other bytes after");
    assert_eq!(anomaly.cause, Some("diverged_replica"));
    assert_eq!(report.sends.counts.broken_promises, 1);
    assert_eq!(report.sends.counts.broken_promises_unexplained, 0);
    assert_eq!(report.verdict, Verdict::Pass);
}

#[test]
fn a_slave_that_lost_power_before_the_answer_breaks_the_promise_by_a_named_mechanism() {
    let report = Story::promising(false, true)
        .invoke(1_000, 1, "audit", None)
        .stop(1_003, "broker-a-s1", crate::history::Stop::PowerOff)
        .held_when_answered(1_004, 1, 0, 102)
        .answer(1_005, 1, SendStatus::SendOk)
        .stored(2_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    let anomaly = only(
        &report,
        AnomalyKind::BrokenPromise,
        "broker-a-s1 lost power at 1.003s",
    );
    assert_eq!(anomaly.cause, Some("replica_lost_power"));
    assert_eq!(report.sends.counts.broken_promises_unexplained, 0);
}

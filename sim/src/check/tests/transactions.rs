//! Transactional messages: every transaction anomaly and each of its named causes, from
//! hand-built histories on the unconsumed `audit` topic (visible there means stored).

use super::{Story, id, of, only};
use crate::check::AnomalyKind;
use crate::history::Stop;
use model::event::{Event, SendMode, SendStatus, TransactionState};

const COMMIT: TransactionState = TransactionState::Commit;
const ROLLBACK: TransactionState = TransactionState::Rollback;

impl Story {
    /// Half message `seq` sent at `at`, acknowledged SEND_OK 5 ms later.
    fn half(&mut self, at: u64, seq: u32) -> &mut Story {
        self.half_of(at, seq, "audit")
    }

    /// The same, for a message of `topic`.
    fn half_of(&mut self, at: u64, seq: u32, topic: &str) -> &mut Story {
        let event = Event::SendInvoke {
            id: id(seq),
            topic: topic.into(),
            key: None,
            tags: None,
            mode: SendMode::Transaction,
            body_crc: seq,
        };
        self.model(at, "p-0", event)
            .answer(at + 5, seq, SendStatus::SendOk)
    }

    fn decided(&mut self, at: u64, seq: u32, state: TransactionState) -> &mut Story {
        let event = Event::TransactionDecided { id: id(seq), state };
        self.model(at, "p-0", event)
    }

    /// broker-a handled END_TRANSACTION for `seq`; a commit put it at `put`.
    fn ended(&mut self, at: u64, seq: u32, from_check: bool, put: Option<u64>) -> &mut Story {
        self.ended_on(at, "broker-a", seq, from_check, put)
    }

    /// The same, on one node of broker-a.
    fn ended_on(
        &mut self,
        at: u64,
        node: &str,
        seq: u32,
        from_check: bool,
        put: Option<u64>,
    ) -> &mut Story {
        let state = if put.is_some() { COMMIT } else { ROLLBACK };
        let event = Event::TransactionEnded {
            broker: "broker-a".into(),
            id: Some(id(seq)),
            requested: Some(id(seq)),
            state,
            from_check,
            half_offset: 0,
            put,
            size: 100,
            refused: None,
        };
        self.model(at, node, event)
    }

    /// Message 1 stored twice in `audit`: at queue offset 1 and at 9.
    fn stored_twice(&mut self, at: u64) -> &mut Story {
        self.stored(at, 1, "audit")
            .held(at, "broker-a", "audit", 9, Some(id(1)), 1)
    }

    fn checked(&mut self, at: u64, seq: u32, times: u32) -> &mut Story {
        let producer = Some(self.node("p-0"));
        let event = Event::TransactionChecked {
            broker: "broker-a".into(),
            id: Some(id(seq)),
            times,
            half_offset: 0,
            producer,
        };
        self.model(at, "broker-a", event)
    }
}

#[test]
fn a_committed_transaction_that_is_stored_is_visible() {
    let report = Story::new()
        .half(1_000, 1)
        .decided(1_100, 1, COMMIT)
        .ended(1_101, 1, false, Some(500))
        .stored(8_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    let counts = &report.sends.counts.transactions;
    assert_eq!((counts.committed, counts.visible, counts.lost), (1, 1, 0));
    assert!(report.anomalies.is_empty(), "{:?}", report.anomalies);
}

#[test]
fn a_commit_discarded_after_its_checks_is_lost_with_that_cause() {
    let mut story = Story::new();
    story.half(1_000, 1).decided(1_100, 1, COMMIT);
    for round in 1..=15 {
        story.checked(u64::from(round) * 60_000, 1, round);
    }
    story.held(
        950_000,
        "broker-a",
        "TRANS_CHECK_MAX_TIME_TOPIC",
        0,
        Some(id(1)),
        1,
    );
    let report = story.read_back_done(990_000).check();
    let lost = only(&report, AnomalyKind::TxnLost, "checked 15 times");
    assert_eq!(lost.cause, Some("discarded"));
    only(
        &report,
        AnomalyKind::TxnDiscarded,
        "discarded to TRANS_CHECK_MAX_TIME_TOPIC",
    );
    let counts = &report.sends.counts.transactions;
    assert_eq!(
        (counts.lost, counts.lost_unexplained, counts.discarded),
        (1, 0, 1)
    );
}

#[test]
fn a_half_lost_with_the_page_cache_explains_a_lost_commit() {
    let report = Story::new()
        .flushed(500, "broker-a", 50)
        .half(1_000, 1)
        .stop(1_050, "broker-a", Stop::PowerOff)
        .decided(1_100, 1, COMMIT)
        .read_back_done(9_000)
        .check();
    let lost = only(&report, AnomalyKind::TxnLost, "the half message was lost");
    assert_eq!(lost.cause, Some("half_lost"));
    assert_eq!(report.sends.counts.transactions.lost_unexplained, 0);
}

#[test]
fn a_commit_nothing_explains_losing_is_unexplained() {
    let report = Story::new()
        .half(1_000, 1)
        .decided(1_100, 1, COMMIT)
        .ended(1_101, 1, false, Some(500))
        .read_back_done(9_000)
        .check();
    let lost = only(&report, AnomalyKind::TxnLost, "it is stored nowhere");
    assert_eq!(lost.cause, None);
    assert_eq!(report.sends.counts.transactions.lost_unexplained, 1);
}

#[test]
fn a_rolled_back_transaction_that_is_stored_is_a_phantom() {
    let report = Story::new()
        .half(1_000, 1)
        .decided(1_100, 1, ROLLBACK)
        .stored(8_000, 1, "audit")
        .read_back_done(9_000)
        .check();
    only(&report, AnomalyKind::TxnPhantom, "decided ROLLBACK_MESSAGE");
    assert_eq!(report.sends.counts.transactions.phantom, 1);
}

#[test]
fn a_check_racing_the_producers_commit_explains_a_duplicate() {
    let report = Story::new()
        .half(1_000, 1)
        .checked(7_000, 1, 1)
        .decided(8_000, 1, COMMIT)
        .ended(8_001, 1, false, Some(500))
        .ended(67_000, 1, true, Some(900))
        .stored_twice(80_000)
        .read_back_done(90_000)
        .check();
    let duplicate = only(&report, AnomalyKind::TxnDuplicated, "#8158");
    assert_eq!(duplicate.cause, Some("check_raced_commit"));
    let counts = &report.sends.counts.transactions;
    assert_eq!((counts.duplicated, counts.duplicated_unexplained), (1, 0));
}

#[test]
fn a_check_after_the_commit_was_dispatched_is_no_race() {
    let report = Story::new()
        .half(1_000, 1)
        .decided(8_000, 1, COMMIT)
        .ended(8_001, 1, false, Some(500))
        .checked(60_000, 1, 1)
        .ended(60_003, 1, true, Some(900))
        .stored_twice(80_000)
        .read_back_done(90_000)
        .check();
    let duplicate = only(&report, AnomalyKind::TxnDuplicated, "although nothing lost");
    assert_eq!(duplicate.cause, None);
    assert_eq!(report.sends.counts.transactions.duplicated_unexplained, 1);
}

#[test]
fn two_commits_from_the_producer_are_a_repeated_commit() {
    let report = Story::new()
        .half(1_000, 1)
        .decided(1_100, 1, COMMIT)
        .ended(1_101, 1, false, Some(500))
        .ended(1_200, 1, false, Some(900))
        .stored_twice(8_000)
        .read_back_done(9_000)
        .check();
    let duplicate = only(&report, AnomalyKind::TxnDuplicated, "#5574");
    assert_eq!(duplicate.cause, Some("repeated_commit"));
}

/// Two check-backs commit message 1, asked with check counts `times`; broker-a stops (`how`)
/// between them. The duplicate's cause and story.
fn checked_twice(how: Stop, times: (u32, u32)) -> (Option<&'static str>, String) {
    let report = Story::new()
        .half(1_000, 1)
        .decided(1_100, 1, COMMIT)
        .checked(60_000, 1, times.0)
        .ended(60_003, 1, true, Some(500))
        .stop(61_000, "broker-a", how)
        .checked(120_000, 1, times.1)
        .ended(120_003, 1, true, Some(900))
        .stored_twice(130_000)
        .read_back_done(140_000)
        .check();
    let duplicates = of(&report, AnomalyKind::TxnDuplicated);
    assert_eq!(duplicates.len(), 1, "{duplicates:?}");
    (duplicates[0].cause, duplicates[0].explanation.clone())
}

#[test]
fn a_power_loss_between_two_check_commits_explains_them_as_a_lost_op_message() {
    let (cause, story) = checked_twice(Stop::PowerOff, (1, 2));
    assert_eq!(cause, Some("op_lost"), "{story}");
    assert!(story.contains("op message with the page cache"), "{story}");
}

/// A kill keeps the page cache, so the op message of the first commit survived; the check's
/// progress (persisted every 5 s) went back, and the round asked about the same half again.
#[test]
fn a_half_asked_about_twice_across_a_kill_is_a_regressed_check_progress() {
    let (cause, story) = checked_twice(Stop::Kill, (1, 1));
    assert_eq!(cause, Some("check_progress_regressed"), "{story}");
    assert!(story.contains("asked about a half it had"), "{story}");
}

/// After a kill the op message of the first commit is still there: a later copy checked
/// again is no known mechanism.
#[test]
fn a_later_copy_checked_again_across_a_kill_is_unexplained() {
    let (cause, story) = checked_twice(Stop::Kill, (1, 2));
    assert_eq!(cause, None, "{story}");
    assert!(story.contains("although nothing lost"), "{story}");
}

#[test]
fn a_commit_by_a_check_back_is_a_repair() {
    let report = Story::new()
        .half(1_000, 1)
        .decided(1_100, 1, COMMIT)
        .checked(60_000, 1, 1)
        .ended(60_003, 1, true, Some(500))
        .stored(70_000, 1, "audit")
        .read_back_done(90_000)
        .check();
    only(
        &report,
        AnomalyKind::TxnRepaired,
        "check-back #1 at 60.000s",
    );
    assert_eq!(report.sends.counts.transactions.repaired, 1);
    assert!(of(&report, AnomalyKind::TxnLost).is_empty());
}

#[test]
fn a_half_only_a_slave_kept_is_lost_with_that_cause() {
    let mut story = Story::new();
    let slave = story.node("broker-a-s1");
    let report = story
        .flushed(500, "broker-a", 50)
        .model(
            600,
            "broker-a-s1",
            Event::ReplicaStarted {
                broker: "broker-a".into(),
                offset: 0,
            },
        )
        .half(1_000, 1)
        .model(
            1_010,
            "broker-a",
            Event::Replicated {
                broker: "broker-a".into(),
                slave,
                offset: 300,
                master_offset: 300,
            },
        )
        .stop(1_050, "broker-a", Stop::PowerOff)
        .decided(1_100, 1, COMMIT)
        .read_back_done(9_000)
        .check();
    let lost = only(&report, AnomalyKind::TxnLost, "only a master checks");
    assert_eq!(lost.cause, Some("half_only_on_slave"));
    assert_eq!(report.sends.counts.transactions.lost_unexplained, 0);
}

/// A committed message a group's listener failed until it was dead-lettered reached that
/// group: it is dead-lettered there, not a lost transaction.
#[test]
fn a_committed_message_a_group_dead_lettered_is_not_lost() {
    let topics = ("orders", "orders");
    let report = Story::new()
        .half_of(1_000, 1, "orders")
        .decided(1_100, 1, COMMIT)
        .ended(1_101, 1, false, Some(500))
        .delivered(2_000, "billing-0", "billing", 1, topics, 1, 0, false)
        .stored(8_000, 1, "orders")
        .held(8_000, "broker-a", "%DLQ%billing", 0, Some(id(1)), 1)
        .read_back_done(9_000)
        .check();
    let counts = &report.sends.counts.transactions;
    assert_eq!((counts.committed, counts.visible, counts.lost), (1, 1, 0));
    assert_eq!(report.consumers[0].dead_lettered, 1);
    assert!(
        of(&report, AnomalyKind::TxnLost).is_empty(),
        "{:?}",
        report.anomalies
    );
}

/// A half whose SEND_OK was lost, sent again to the same broker: two halves there, each
/// committed (one by the producer, the orphan by a check).
#[test]
fn a_half_stored_twice_on_one_broker_explains_a_duplicate() {
    let failed = Event::SendAttemptFailed {
        id: id(1),
        attempt: 1,
        broker: "broker-a".into(),
        error: "timeout".into(),
    };
    let report = Story::new()
        .half(1_000, 1)
        .model(1_003, "p-0", failed)
        .decided(8_000, 1, COMMIT)
        .ended(8_001, 1, false, Some(500))
        .ended(67_000, 1, true, Some(900))
        .stored_twice(80_000)
        .read_back_done(90_000)
        .check();
    let duplicate = only(
        &report,
        AnomalyKind::TxnDuplicated,
        "a second half on broker-a itself",
    );
    assert_eq!(duplicate.cause, Some("half_stored_twice"));
}

/// After broker-a lost its log, an END_TRANSACTION for p0-1 found p0-2's half at the offsets
/// it named (`checkPrepareMessage` compares no id) and committed it: p0-2 is a phantom and
/// p0-1 is lost, each with that cause.
#[test]
fn an_end_that_committed_another_half_names_the_phantom_and_the_loss() {
    let ended = Event::TransactionEnded {
        broker: "broker-a".into(),
        id: Some(id(2)),
        requested: Some(id(1)),
        state: COMMIT,
        from_check: false,
        half_offset: 0,
        put: Some(900),
        size: 100,
        refused: None,
    };
    let report = Story::new()
        .half(1_000, 1)
        .half(1_010, 2)
        .decided(1_100, 1, COMMIT)
        .model(1_101, "broker-a", ended)
        .stored(8_000, 2, "audit")
        .read_back_done(9_000)
        .check();
    let phantom = only(
        &report,
        AnomalyKind::TxnPhantom,
        "an END_TRANSACTION for p0-1 committed it",
    );
    assert_eq!(phantom.cause, Some("end_for_another_half"));
    let lost = only(&report, AnomalyKind::TxnLost, "it committed p0-2 instead");
    assert_eq!(lost.cause, Some("end_took_another_half"));
    let counts = &report.sends.counts.transactions;
    assert_eq!(
        (counts.phantom_unexplained, counts.lost_unexplained),
        (0, 0)
    );
}

/// The commit and its op message stayed on the old master; the slave the operator promoted
/// found the half unresolved and committed it again.
#[test]
fn a_commit_the_promoted_slave_never_received_is_committed_again() {
    let report = Story::new()
        .half(1_000, 1)
        .replicated(1_020, 200)
        .decided(1_100, 1, COMMIT)
        .ended(1_101, 1, false, Some(500))
        .stop(30_000, "broker-a", Stop::Kill)
        .switched(40_000, "broker-a-s1")
        .ended_on(100_003, "broker-a-s1", 1, true, Some(300))
        .stored_twice(110_000)
        .read_back_done(120_000)
        .check();
    let duplicate = only(
        &report,
        AnomalyKind::TxnDuplicated,
        "never reached broker-a-s1",
    );
    assert_eq!(duplicate.cause, Some("commit_not_replicated"));
}

/// The half stayed on the old master, demoted after the slave was promoted: nobody checks it.
#[test]
fn a_half_left_on_a_demoted_master_is_lost_with_that_cause() {
    let story = || {
        let mut story = Story::new();
        story
            .half(1_000, 1)
            .replicated(1_020, 100)
            .decided(1_100, 1, COMMIT)
            .stop(1_200, "broker-a", Stop::Kill)
            .switched(10_000, "broker-a-s1");
        story
    };
    let demoted = story()
        .switched(15_000, "broker-a")
        .read_back_done(120_000)
        .check();
    let lost = only(&demoted, AnomalyKind::TxnLost, "only a master checks");
    assert_eq!(lost.cause, Some("half_left_on_old_master"));
    // Still the declared master at the end: its own check would have asked.
    let master_again = story().read_back_done(120_000).check();
    assert_eq!(of(&master_again, AnomalyKind::TxnLost)[0].cause, None);
}

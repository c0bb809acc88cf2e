//! DLedger logs: log matching and dispatch, judged from each member's records of its log.

use super::{Story, of};
use crate::check::{AnomalyKind, Verdict};
use crate::history::Stop;
use model::event::Event;

impl Story {
    /// Member `member` wrote entry `index` of `term` (its bytes' CRC `crc`) at `10 * index`.
    fn wrote(&mut self, at: u64, member: &str, (index, term, crc): (u64, u64, u32)) -> &mut Story {
        let event = Event::DLedgerStored {
            group: "broker-a".into(),
            member: member.into(),
            index,
            term,
            pos: 10 * index,
            size: 10,
            crc,
        };
        self.model(at, &format!("broker-a-{member}"), event)
    }

    fn cut(&mut self, at: u64, member: &str, from: u64, recovery: bool) -> &mut Story {
        let event = Event::DLedgerCut {
            group: "broker-a".into(),
            member: member.into(),
            from,
            recovery,
        };
        self.model(at, &format!("broker-a-{member}"), event)
    }

    fn commits(&mut self, at: u64, member: &str, index: u64) -> &mut Story {
        let event = Event::DLedgerCommitted {
            group: "broker-a".into(),
            member: member.into(),
            index,
            pos: 10 * index + 10,
        };
        self.model(at, &format!("broker-a-{member}"), event)
    }

    fn dispatches(&mut self, at: u64, member: &str, entries: std::ops::Range<u64>) -> &mut Story {
        let event = Event::DLedgerDispatched {
            group: "broker-a".into(),
            member: member.into(),
            from: 10 * entries.start,
            to: 10 * entries.end,
        };
        self.model(at, &format!("broker-a-{member}"), event)
    }
}

/// The anomalies of `kind` with their causes, and what the unexplained row judged.
fn judged(story: &Story, kind: AnomalyKind, row: &str) -> Vec<(Option<&'static str>, String)> {
    let report = story.check();
    let anomalies: Vec<_> = (of(&report, kind).into_iter())
        .map(|a| (a.cause, a.explanation.clone()))
        .collect();
    let row = (report.expectations.iter()).find(|e| e.name == row);
    let row = row.expect("the unexplained row is judged with a DLedger group");
    let unexplained = anomalies
        .iter()
        .filter(|(cause, _)| cause.is_none())
        .count();
    assert_eq!(row.observed, unexplained.to_string());
    assert_eq!(row.verdict == Verdict::Fail, unexplained > 0);
    anomalies
}

fn diverged(story: &Story) -> Vec<(Option<&'static str>, String)> {
    judged(story, AnomalyKind::LogDiverged, "log_diverged_unexplained")
}

fn dispatched(story: &Story) -> Vec<(Option<&'static str>, String)> {
    judged(
        story,
        AnomalyKind::UncommittedDispatch,
        "uncommitted_dispatches_unexplained",
    )
}

/// A leader, a follower that agrees, a follower whose stale entry is truncated and replaced.
#[test]
fn replicas_that_agree_on_what_was_committed_pass() {
    let mut story = Story::elections();
    story
        .grant(1, "n0", 1, "n0")
        .grant(2, "n1", 1, "n0")
        .leads(3, "n0", 1);
    story.wrote(10, "n0", (0, 1, 7)).wrote(11, "n1", (0, 1, 7));
    story.commits(12, "n0", 0).dispatches(13, "n0", 0..1);
    story.wrote(20, "n2", (0, 0, 99)).cut(30, "n2", 0, false);
    story.wrote(30, "n2", (0, 1, 7)).commits(31, "n2", 0);
    story.dispatches(32, "n2", 0..1);
    assert_eq!(diverged(&story), vec![]);
    assert_eq!(dispatched(&story), vec![]);
}

#[test]
fn two_entries_of_one_term_at_one_index_are_flagged() {
    let mut story = Story::elections();
    story.wrote(10, "n0", (0, 2, 7)).wrote(11, "n1", (0, 2, 8));
    let anomalies = diverged(&story);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0].0, None, "{}", anomalies[0].1);
    assert!(
        anomalies[0]
            .1
            .contains("broker-a-n1 wrote entry 0 of term 2")
    );
}

#[test]
fn a_committed_entry_replaced_is_flagged_and_a_quorum_power_loss_named() {
    let mut story = Story::elections();
    story.wrote(10, "n0", (0, 1, 7)).wrote(11, "n1", (0, 1, 7));
    story.commits(12, "n0", 0);
    // A leader cut off from the others writes there: no disagreement until it commits it.
    story.wrote(20, "n2", (0, 2, 9));
    assert_eq!(diverged(&story), vec![]);
    story.commits(21, "n2", 0);
    let anomalies = diverged(&story);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0].0, None, "{}", anomalies[0].1);

    let mut story = Story::elections();
    story.wrote(10, "n0", (0, 1, 7)).wrote(11, "n1", (0, 1, 7));
    story.commits(12, "n0", 0);
    story.stop(13, "broker-a-n0", Stop::PowerOff);
    story.stop(13, "broker-a-n1", Stop::PowerOff);
    story.cut(15, "n0", 0, true).cut(15, "n1", 0, true);
    story.wrote(20, "n2", (0, 2, 9)).commits(21, "n2", 0);
    let anomalies = diverged(&story);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(
        anomalies[0].0,
        Some("quorum_power_loss"),
        "{}",
        anomalies[0].1
    );
}

/// Raft's figure 8: n0 leads term 3 and commits its term-1 entry by counting replicas; n2,
/// leader of term 4 with an entry of term 2 there, replaces it.
#[test]
fn an_old_term_entry_committed_then_replaced_is_figure_8() {
    let mut story = Story::elections();
    story.wrote(10, "n0", (0, 1, 7));
    story.wrote(20, "n2", (0, 2, 8));
    story
        .grant(30, "n0", 3, "n0")
        .grant(31, "n1", 3, "n0")
        .leads(32, "n0", 3);
    story.wrote(33, "n1", (0, 1, 7)).commits(34, "n0", 0);
    story
        .grant(40, "n2", 4, "n2")
        .grant(41, "n1", 4, "n2")
        .leads(42, "n2", 4);
    story.cut(43, "n1", 0, false).wrote(43, "n1", (0, 2, 8));
    story.wrote(44, "n2", (1, 4, 5)).commits(45, "n2", 1);
    let anomalies = diverged(&story);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(
        anomalies[0].0,
        Some("old_term_commit"),
        "{}",
        anomalies[0].1
    );
}

#[test]
fn dispatching_an_entry_no_quorum_held_is_flagged() {
    let mut story = Story::elections();
    story.wrote(10, "n0", (0, 1, 7)).dispatches(11, "n0", 0..1);
    story.wrote(12, "n1", (0, 1, 7));
    let anomalies = dispatched(&story);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0].0, None, "{}", anomalies[0].1);
    assert!(
        anomalies[0].1.contains("1 member(s) held"),
        "{}",
        anomalies[0].1
    );
}

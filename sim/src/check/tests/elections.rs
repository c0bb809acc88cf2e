//! Election safety: the grants each voter recorded, judged per DLedger group and term.

use super::{Story, of};
use crate::check::{AnomalyKind, Verdict};
use crate::history::Stop;
use crate::scenario;
use model::event::Event;

/// One DLedger group of three members, `broker-a-n0` .. `broker-a-n2`.
const DLEDGER: &str = r#"
name = "elections-unit"
summary = "hand-built elections"
teaches = "nothing"
duration = "60s"

[cluster]
name_servers = 1

[[cluster.broker_group]]
name = "broker-a"
replication = "dledger"
peers = 3

[[topic]]
name = "audit"
queues = 1

[[producer]]
group = "p"
topic = "audit"
messages = 1
"#;

impl Story {
    pub(super) fn elections() -> Story {
        let mut story = Story::new();
        story.scenario = scenario::parse(DLEDGER, "elections-unit.toml").expect("the scenario");
        story
    }

    /// Member `voter` (`n0` ..) grants its vote in `term` to `candidate`.
    pub(super) fn grant(&mut self, at: u64, voter: &str, term: u64, candidate: &str) -> &mut Story {
        let event = Event::DLedgerVoteGranted {
            group: "broker-a".into(),
            voter: voter.into(),
            term,
            candidate: candidate.into(),
        };
        self.model(at, &format!("broker-a-{voter}"), event)
    }

    pub(super) fn leads(&mut self, at: u64, member: &str, term: u64) -> &mut Story {
        let event = Event::DLedgerLeader {
            group: "broker-a".into(),
            member: member.into(),
            term,
        };
        self.model(at, &format!("broker-a-{member}"), event)
    }
}

/// The terms with two leaders (every anomaly), and what the unexplained row judged of them.
fn judged(story: &Story) -> (u64, Vec<(Option<&'static str>, String)>) {
    let report = story.check();
    let row = (report.expectations.iter()).find(|e| e.name == "two_leaders_unexplained");
    let observed = row.expect("two_leaders_unexplained is judged with a DLedger group");
    let unexplained: u64 = observed.observed.parse().expect("a count");
    let anomalies: Vec<_> = of(&report, AnomalyKind::TwoLeaders)
        .into_iter()
        .map(|a| (a.cause, a.explanation.clone()))
        .collect();
    let without_cause = anomalies
        .iter()
        .filter(|(cause, _)| cause.is_none())
        .count();
    assert_eq!(unexplained, without_cause as u64);
    assert_eq!(observed.verdict == Verdict::Fail, unexplained > 0);
    (anomalies.len() as u64, anomalies)
}

#[test]
fn one_leader_per_term_passes() {
    let mut story = Story::elections();
    story.grant(10, "n0", 1, "n0").grant(12, "n1", 1, "n0");
    story.grant(13, "n2", 1, "n1").leads(14, "n0", 1);
    // A later term elects another: no conflict across terms.
    story
        .grant(9_000, "n1", 2, "n1")
        .grant(9_002, "n2", 2, "n1");
    story.leads(9_003, "n1", 2);
    assert_eq!(judged(&story), (0, vec![]));
}

#[test]
fn two_quorums_in_one_term_are_flagged() {
    let mut story = Story::elections();
    story.grant(10, "n0", 4, "n0").grant(11, "n1", 4, "n0");
    story.grant(20, "n2", 4, "n2").grant(21, "n1", 4, "n2");
    let (count, anomalies) = judged(&story);
    assert_eq!(count, 1);
    let (cause, story) = &anomalies[0];
    assert_eq!(*cause, None, "{story}");
    assert!(story.contains("term 4"), "{story}");
    assert!(story.contains("n0 (granted by n0, n1)"), "{story}");
    assert!(story.contains("n2 (granted by n1, n2)"), "{story}");
}

#[test]
fn a_leader_without_a_quorum_is_flagged() {
    let mut story = Story::elections();
    story.grant(10, "n0", 3, "n0").leads(11, "n0", 3);
    assert_eq!(judged(&story).0, 1);
}

#[test]
fn a_double_vote_after_a_power_loss_is_named() {
    let mut story = Story::elections();
    story.grant(10, "n0", 4, "n0").grant(11, "n1", 4, "n0");
    story.stop(15, "broker-a-n1", Stop::PowerOff);
    story.grant(20, "n2", 4, "n2").grant(21, "n1", 4, "n2");
    let (count, anomalies) = judged(&story);
    assert_eq!(count, 1);
    assert_eq!(
        anomalies[0].0,
        Some("unsynced_vote_file"),
        "{}",
        anomalies[0].1
    );
}

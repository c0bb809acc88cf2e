//! `two_leaders`: election safety of each DLedger group, judged from what each voter recorded
//! when it granted its vote and wrote it to its term file (`DLedgerVoteGranted`), never from a
//! member's own claim to lead.
//!
//! Areas verified:
//! - In each group and term, at most one candidate holds grants from a quorum (`peers / 2 + 1`
//!   distinct voters, a candidate's vote for itself counted when it recorded it).
//! - A member that announced its leadership in a term (`DLedgerLeader`) held a quorum of
//!   grants in that term.
//!
//! Two quorums in one term share a voter that granted both candidates. 0.3.1.2 writes its
//! term file without fsync, so a voter that lost power between its two grants forgot the
//! first: that mechanism is named `unsynced_vote_file` (`lost_vote_file` after a disk loss).
//! A double vote with no such stop between is unexplained: a defect of the member.
//!
//! Areas not verified: that a leader of a later term holds every committed entry (the
//! durability and divergence checks see what that costs), and pre-votes or leadership
//! transfers (0.3.1.2 as modelled has neither).

use super::index::{Grant, Index};
use super::{Anomaly, AnomalyKind};
use crate::history::Stop;
use model::Time;
use std::collections::{BTreeMap, BTreeSet};

/// A voter that lost power between two grants of one term: its term file, never fsynced,
/// forgot the first.
const UNSYNCED_VOTE_FILE: &str = "unsynced_vote_file";

/// A voter that lost its disk between two grants of one term: its term file was gone.
const LOST_VOTE_FILE: &str = "lost_vote_file";

/// Per candidate, the distinct voters that granted it.
type Tally<'a> = BTreeMap<&'a str, BTreeSet<&'a str>>;

/// The anomalies of every DLedger group's elections, and how many.
pub(super) fn judge(index: &Index<'_>, anomalies: &mut Vec<Anomaly>) -> u64 {
    let mut count = 0;
    for ((group, term), grants) in &index.elections.grants {
        let Some(quorum) = index.logs.quorum(group) else {
            continue;
        };
        let elected: Tally<'_> = tally(grants)
            .into_iter()
            .filter(|(_, voters)| voters.len() >= quorum)
            .collect();
        if elected.len() > 1 {
            count += 1;
            anomalies.push(two_quorums(index, group, *term, grants, &elected));
        }
    }
    for leader in &index.elections.leaders {
        let Some(quorum) = index.logs.quorum(&leader.group) else {
            continue;
        };
        let grants = index.elections.grants_in(&leader.group, leader.term);
        let tally = tally(grants);
        let voters = tally.get(leader.member.as_str()).map_or(0, BTreeSet::len);
        if voters < quorum {
            count += 1;
            let story = format!(
                "{} of {} announced its leadership in term {} with {voters} grant(s) recorded, \
                 fewer than a quorum of {quorum}",
                leader.member, leader.group, leader.term
            );
            anomalies.push(Anomaly::new(
                AnomalyKind::TwoLeaders,
                None,
                leader.at,
                story,
            ));
        }
    }
    count
}

fn tally(grants: &[Grant]) -> Tally<'_> {
    let mut tally = Tally::new();
    for grant in grants {
        tally
            .entry(grant.candidate.as_str())
            .or_default()
            .insert(grant.voter.as_str());
    }
    tally
}

/// Two candidates elected in one term: the witness names both and their voters, and the
/// cause when every voter that granted both lost its term file between.
fn two_quorums(
    index: &Index<'_>,
    group: &str,
    term: u64,
    grants: &[Grant],
    elected: &Tally<'_>,
) -> Anomaly {
    let mut pair = elected.iter();
    let (first, first_voters) = pair.next().expect("two elected");
    let (second, second_voters) = pair.next().expect("two elected");
    let both: Vec<&str> = first_voters.intersection(second_voters).copied().collect();
    let cause = double_votes_cause(index, grants, &both, (first, second));
    let at = grants.last().map_or(Time::ZERO, |g| g.at);
    let names = |voters: &BTreeSet<&str>| voters.iter().copied().collect::<Vec<_>>().join(", ");
    let mut story = format!(
        "term {term} of {group} elected two leaders: {first} (granted by {}) and {second} \
         (granted by {}); {} granted both",
        names(first_voters),
        names(second_voters),
        both.join(", ")
    );
    match cause {
        Some(cause) => story.push_str(&format!(
            ", each having lost its term file (never fsynced) between its two grants ({cause})"
        )),
        None => {
            story.push_str(", not each having lost its term file between: a member voted twice")
        }
    }
    let anomaly = Anomaly::new(AnomalyKind::TwoLeaders, None, at, story);
    match cause {
        Some(cause) => anomaly.because(cause),
        None => anomaly,
    }
}

/// Why each of `voters` could grant both candidates of `pair`, when one mechanism explains
/// every one of them.
fn double_votes_cause(
    index: &Index<'_>,
    grants: &[Grant],
    voters: &[&str],
    pair: (&str, &str),
) -> Option<&'static str> {
    let causes: Vec<Option<&'static str>> = (voters.iter())
        .map(|voter| forgotten(index, grants, voter, pair))
        .collect();
    causes.iter().all(Option::is_some).then(|| causes[0])?
}

/// Whether `group` elected two leaders in `term`, and if so the cause that explains it
/// (`None` inside: unexplained); `None` when it elected at most one.
pub(super) fn two_leaders_cause(
    index: &Index<'_>,
    group: &str,
    term: u64,
) -> Option<Option<&'static str>> {
    let quorum = index.logs.quorum(group)?;
    let grants = index.elections.grants_in(group, term);
    let tally = tally(grants);
    let mut elected = tally.iter().filter(|(_, voters)| voters.len() >= quorum);
    let (first, first_voters) = elected.next()?;
    let (second, second_voters) = elected.next()?;
    let both: Vec<&str> = first_voters.intersection(second_voters).copied().collect();
    Some(double_votes_cause(index, grants, &both, (first, second)))
}

/// Why `voter` could grant both candidates of `pair`: a power or disk loss of its node
/// between its first grant to one and its first to the other.
fn forgotten(
    index: &Index<'_>,
    grants: &[Grant],
    voter: &str,
    pair: (&str, &str),
) -> Option<&'static str> {
    let first_to = |candidate: &str| {
        grants
            .iter()
            .find(|g| g.voter == voter && g.candidate == candidate)
    };
    let (a, b) = (first_to(pair.0)?, first_to(pair.1)?);
    let (earlier, later) = if a.at <= b.at { (a, b) } else { (b, a) };
    let timeline = index.brokers.timelines.get(&later.node?)?;
    let between = |at: &Time| (earlier.at..=later.at).contains(at);
    let stops = timeline.stops.iter().filter(|(at, _)| between(at));
    stops.map(|(_, how)| *how).find_map(|how| match how {
        Stop::PowerOff | Stop::OsCrash => Some(UNSYNCED_VOTE_FILE),
        Stop::DiskLoss => Some(LOST_VOTE_FILE),
        Stop::Kill | Stop::Shutdown => None,
    })
}

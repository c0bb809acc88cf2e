//! `log_diverged` and `uncommitted_dispatch`: the logs of each DLedger group, judged from the
//! entries each member recorded as it wrote, dropped, committed and dispatched them
//! (`index::logs`), never from a leader's word about its followers.
//!
//! Areas verified:
//! - Log matching: two members never hold different entries at one index of one term, and a
//!   member never holds, at an index once committed, another entry than the committed one
//!   (it wrote another there, or its committed index reached one).
//! - Dispatch follows the commit: every entry whose record a member's broker dispatched to
//!   its ConsumeQueues was held by a quorum of members at some moment before.
//!
//! What 0.3.1.2 itself allows, named: two leaders in one term after a voter lost its term
//! file (`unsynced_vote_file`, from `elections`); an entry of an earlier term committed by
//! counting its replicas and then replaced by a leader that never had it (`old_term_commit`:
//! no current-term rule, Raft's figure 8); a committed entry that a quorum of its holders
//! lost with their page caches (`quorum_power_loss`); a follower whose committed position
//! stayed past a leader's TRUNCATE dispatching what the new leader wrote below it
//! (`committed_past_truncation`, dledger #316). Anything else is unexplained: a defect.
//!
//! Areas not verified: leader completeness for entries never committed (they may be lost).

use super::index::{Disagreement, EntryFact, Index, LogCommit};
use super::{Anomaly, AnomalyKind};
use crate::history::Stop;
use model::Time;

const OLD_TERM_COMMIT: &str = "old_term_commit";
const QUORUM_POWER_LOSS: &str = "quorum_power_loss";
const COMMITTED_PAST_TRUNCATION: &str = "committed_past_truncation";
const SAME_TERM_AFTER_POWER_LOSS: &str = "same_term_after_power_loss";
const TORN_ENTRY: &str = "torn_entry";

/// The counts of both kinds, and of each the anomalies no known mechanism explains.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LogCounts {
    pub diverged: u64,
    pub diverged_unexplained: u64,
    pub uncommitted_dispatches: u64,
    pub uncommitted_dispatches_unexplained: u64,
}

pub(super) fn judge(index: &Index<'_>, anomalies: &mut Vec<Anomaly>) -> LogCounts {
    let mut counts = LogCounts::default();
    for disagreement in &index.logs.disagreements {
        let anomaly = match disagreement {
            Disagreement::SameTerm {
                at,
                group,
                member,
                other,
                index: entry_index,
                entry,
            } => {
                let term = entry.term;
                let mut story = format!(
                    "{group}-{member} wrote entry {entry_index} of term {term}, which \
                     {group}-{other} holds with other bytes"
                );
                let cause = diverged_in_term(index, *at, (group, *entry_index), *entry, &mut story);
                named(AnomalyKind::LogDiverged, *at, story, cause)
            }
            Disagreement::Committed {
                at,
                group,
                member,
                index: entry_index,
                entry,
                committed,
            } => committed_replaced(index, *at, (group, member, *entry_index), *entry, committed),
            Disagreement::Dispatched {
                at,
                group,
                member,
                index: entry_index,
                entry,
                holders,
            } => dispatched(index, *at, (group, member, *entry_index), *entry, *holders),
        };
        let unexplained = u64::from(anomaly.cause.is_none());
        match anomaly.kind {
            AnomalyKind::LogDiverged => {
                counts.diverged += 1;
                counts.diverged_unexplained += unexplained;
            }
            _ => {
                counts.uncommitted_dispatches += 1;
                counts.uncommitted_dispatches_unexplained += unexplained;
            }
        }
        anomalies.push(anomaly);
    }
    counts
}

fn named(kind: AnomalyKind, at: Time, story: String, cause: Option<&'static str>) -> Anomaly {
    let anomaly = Anomaly::new(kind, None, at, story);
    match cause {
        Some(cause) => anomaly.because(cause),
        None => anomaly,
    }
}

/// A member holding, at a committed index, another entry than the committed one.
fn committed_replaced(
    index: &Index<'_>,
    at: Time,
    (group, member, entry_index): (&str, &str, u64),
    entry: EntryFact,
    committed: &LogCommit,
) -> Anomaly {
    let was = committed.entry;
    let mut story = format!(
        "{group}-{member} holds entry {entry_index} of term {} at {}, but entry \
         {entry_index} of term {} was committed by {group}-{} at {}",
        entry.term, at, was.term, committed.by, committed.at
    );
    let led = leader_term(index, group, &committed.by, committed.at);
    let quorum = index.logs.quorum(group).unwrap_or(1);
    let kept = (committed.holders.iter())
        .filter(|holder| !committed.lost_in_recovery.contains(*holder))
        .count();
    let cause = if kept < quorum {
        let lost: Vec<String> = (committed.lost_in_recovery.iter())
            .map(|member| format!("{group}-{member}"))
            .collect();
        story.push_str(&format!(
            ": {} lost it with their page caches (entries are acknowledged on a quorum of \
             page-cache writes and flushed every 10 ms), leaving fewer than a quorum of {quorum}",
            lost.join(", ")
        ));
        Some(QUORUM_POWER_LOSS)
    } else if let Some(cause) = torn(index, at, (group, entry_index), was, &mut story) {
        Some(cause)
    } else if entry.term == was.term {
        diverged_in_term(index, at, (group, entry_index), entry, &mut story)
    } else if led.is_some_and(|term| was.term < term) && entry.term > was.term {
        story.push_str(&format!(
            ": {group}-{} committed it in term {}, counting replicas of an entry of an earlier term \
             (0.3.1.2 has no current-term rule); a leader of a later term that never held it \
             replaced it (Raft's figure 8)",
            committed.by,
            led.unwrap_or_default()
        ));
        Some(OLD_TERM_COMMIT)
    } else {
        None
    };
    named(AnomalyKind::LogDiverged, at, story, cause)
}

/// A member that dispatched an entry no quorum ever held.
fn dispatched(
    index: &Index<'_>,
    at: Time,
    (group, member, entry_index): (&str, &str, u64),
    entry: EntryFact,
    holders: usize,
) -> Anomaly {
    let mut story = format!(
        "{group}-{member} dispatched the record of entry {entry_index} (term {}, position \
         {}) at {at}, which {holders} member(s) held and no quorum ever did",
        entry.term, entry.pos
    );
    let key = (group.to_string(), member.to_string());
    let truncated = (index.logs.cuts_below_committed.get(&key))
        .and_then(|cuts| cuts.iter().rev().find(|cut| **cut <= at));
    let cause = truncated.map(|cut| {
        story.push_str(&format!(
            ": a TRUNCATE at {cut} cut its log below its committed index, whose position \
             stayed (dledger #316), so it dispatched what its leader wrote below it"
        ));
        COMMITTED_PAST_TRUNCATION
    });
    // A copy torn at a power loss that its member's recovery kept is held by the members it
    // was pushed to, never by a quorum that wrote it.
    let cause = cause.or_else(|| torn(index, at, (group, entry_index), entry, &mut story));
    named(AnomalyKind::UncommittedDispatch, at, story, cause)
}

/// Why two entries of one term differ at one index, told on `story`: a copy torn at a power
/// loss, two leaders elected in the term, or one elected twice around its own power loss.
fn diverged_in_term(
    index: &Index<'_>,
    at: Time,
    (group, entry_index): (&str, u64),
    entry: EntryFact,
    story: &mut String,
) -> Option<&'static str> {
    if let Some(cause) = torn(index, at, (group, entry_index), entry, story) {
        return Some(cause);
    }
    story.push_str(&format!(": two leaders appended in term {}", entry.term));
    same_term_cause(index, group, entry.term)
}

/// A member that lost power before `at` while the entry at `entry_index` (at `entry`'s
/// position) was not yet on its media, and whose recovery kept the entry: 0.3.1.2's recovery
/// checks an entry's header and not its body (no CRC), so a page torn at the power loss stays
/// in the log and is pushed on as it is.
fn torn(
    index: &Index<'_>,
    at: Time,
    (group, entry_index): (&str, u64),
    entry: EntryFact,
    story: &mut String,
) -> Option<&'static str> {
    let end = entry.pos + u64::from(entry.size);
    let nodes = index.brokers.groups.get(group)?;
    let (member, lost_at, flushed) = (nodes.iter().enumerate()).find_map(|(k, node)| {
        let member = crate::scenario::DLedgerGroup::member_id(k);
        let timeline = index.brokers.timelines.get(node)?;
        let recoveries = index
            .logs
            .recoveries
            .get(&(group.to_string(), member.clone()))?;
        timeline.stops.iter().find_map(|(stop, how)| {
            let power = matches!(how, Stop::PowerOff) && *stop <= at;
            let flushed = timeline.flushed_by(*stop);
            let kept = recoveries
                .iter()
                .find(|(recovered, _)| recovered >= stop)
                .is_some_and(|(_, from)| *from > entry_index);
            (power && flushed < end && kept).then(|| (member.clone(), *stop, flushed))
        })
    })?;
    story.push_str(&format!(
        ": {group}-{member} lost power at {lost_at} with its log flushed only up to {flushed}, \
         short of the entry's end at {end}, and its recovery kept the entry; 0.3.1.2 checks no \
         CRC of an entry's body, so a copy torn at the power loss stays and is pushed on"
    ));
    Some(TORN_ENTRY)
}

/// Why two entries of `term` could differ at one index: two leaders elected in it (a voter's
/// term file lost), or one leader elected in it twice around its own power loss. 0.3.1.2's
/// first vote after a restart keeps the term, and voters that granted it before grant it
/// again: with the log's tail lost, it writes other entries at the indexes it lost.
fn same_term_cause(index: &Index<'_>, group: &str, term: u64) -> Option<&'static str> {
    if let Some(cause) = super::elections::two_leaders_cause(index, group, term) {
        return cause;
    }
    let leaderships =
        (index.elections.leaders.iter()).filter(|l| l.group == group && l.term == term);
    let mut by_member: std::collections::BTreeMap<&str, Vec<Time>> = Default::default();
    for leadership in leaderships {
        by_member
            .entry(&leadership.member)
            .or_default()
            .push(leadership.at);
    }
    let lost_power = |member: &str, (from, to): (Time, Time)| {
        let node = member_node(index, group, member);
        let timeline = node.and_then(|node| index.brokers.timelines.get(&node));
        let stops = timeline.map_or(&[][..], |t| &t.stops[..]);
        stops
            .iter()
            .any(|(at, how)| (from..=to).contains(at) && how.loses_page_cache())
    };
    by_member
        .iter()
        .any(|(member, times)| {
            times.len() > 1 && lost_power(member, (times[0], times[times.len() - 1]))
        })
        .then_some(SAME_TERM_AFTER_POWER_LOSS)
}

/// The node member `member` (`n0`, ...) of DLedger group `group` runs on.
fn member_node(index: &Index<'_>, group: &str, member: &str) -> Option<model::NodeId> {
    let k: usize = member.strip_prefix('n')?.parse().ok()?;
    index.brokers.groups.get(group)?.get(k).copied()
}

/// The term `member` of `group` led in at `at`: its last leadership announced by then.
fn leader_term(index: &Index<'_>, group: &str, member: &str, at: Time) -> Option<u64> {
    (index.elections.leaders.iter())
        .filter(|l| l.group == group && l.member == member && l.at <= at)
        .map(|l| l.term)
        .next_back()
}

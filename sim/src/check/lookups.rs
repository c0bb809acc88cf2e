//! `index_missing`: a record the auditor read back on a replica that QUERY_MESSAGE by its
//! `UNIQ_KEY` did not find there. 4.9.8's recovery after a crash deletes the index files newer
//! than the checkpoint's index timestamp (every file not yet full) and rebuilds only what it
//! re-dispatches (`messageIndexSafe` off): a record stored before the crash and before the
//! re-dispatch point is missing for good (`index_dropped_at_recovery`). Any other miss is
//! `index_missing_unexplained`: a bug.
//!
//! The operator's queries by key (`query-keys`) are judged the same way, while the cluster
//! runs: each message with the key that the queried broker acknowledged (SEND_OK, as its
//! store host) at least `QUERY_SETTLE_MS` before the query must be in the answer, unless
//! the answer was capped, the machine lost its page cache in between (the record may be
//! gone: the loss checks judge that), or retention deleted its file by then.

use super::index::Index;
use super::index::KeyAnswer;
use super::sends::KeyQueryRound;
use super::spec;
use super::{Anomaly, AnomalyKind, SendCounts};
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// Judges the auditor's lookups and the operator's queries; returns the operator's rounds.
pub(super) fn judge(
    index: &Index<'_>,
    counts: &mut SendCounts,
    anomalies: &mut Vec<Anomaly>,
) -> Vec<KeyQueryRound> {
    let rounds = judge_key_answers(index, counts, anomalies);
    judge_auditor_lookups(index, counts, anomalies);
    rounds
}

fn judge_auditor_lookups(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    let facts = &index.retention;
    for (at, replica, broker, id) in &facts.index_misses {
        counts.index_missing += 1;
        let stored = (index.sends.record(*id))
            .and_then(|r| r.first_invoke())
            .unwrap_or_default();
        let node = index.name(*replica);
        let group = if node == broker {
            String::new()
        } else {
            format!(" ({broker})")
        };
        let mut story = format!(
            "{id}, read back on {node}{group}, is not found there by its UNIQ_KEY \
             (QUERY_MESSAGE at {at})"
        );
        let drop = facts.recovery_index_drops(*replica, stored).next();
        let anomaly = match drop {
            Some((dropped_at, file)) => {
                story.push_str(&format!(
                    ": {node}'s recovery at {dropped_at} deleted {file}, newer than the \
                     checkpoint's index timestamp, and rebuilt only what it re-dispatched \
                     (messageIndexSafe off)"
                ));
                Anomaly::new(AnomalyKind::IndexMissing, Some(*id), *at, story)
                    .because("index_dropped_at_recovery")
            }
            None => {
                counts.index_missing_unexplained += 1;
                story.push_str(": nothing deleted its index file");
                Anomaly::new(AnomalyKind::IndexMissing, Some(*id), *at, story)
            }
        };
        anomalies.push(anomaly);
    }
}

/// Each message the operator's uncapped answers should have held and did not; and each
/// round's figures.
fn judge_key_answers(
    index: &Index<'_>,
    counts: &mut SendCounts,
    anomalies: &mut Vec<Anomaly>,
) -> Vec<KeyQueryRound> {
    let mut rounds: BTreeMap<Time, KeyQueryRound> = BTreeMap::new();
    let mut answers: BTreeMap<(NodeId, &str), Vec<&KeyAnswer>> = BTreeMap::new();
    for answer in &index.retention.key_answers {
        let round = rounds.entry(answer.asked).or_insert_with(|| KeyQueryRound {
            at_ms: answer.asked.as_ms(),
            ..KeyQueryRound::default()
        });
        round.answers += 1;
        if answer.capped {
            round.capped += 1;
            continue;
        }
        let asked = answers.entry((answer.replica, answer.key.as_str()));
        asked.or_default().push(answer);
    }
    for (id, record) in index.sends.messages() {
        let (Some(key), Some(ack)) = (&record.key, &record.ok) else {
            continue;
        };
        if record.transactional {
            continue;
        }
        let Some(asked) = answers.get(&(ack.store_host, &**key)) else {
            continue;
        };
        let asked = asked
            .iter()
            .filter(|a| a.topic == *record.topic && ack.at.plus_ms(spec::QUERY_SETTLE_MS) <= a.at);
        for answer in asked {
            if answer.found.contains(&id) || kept_from(index, answer, ack).is_some() {
                continue;
            }
            counts.index_missing += 1;
            rounds.entry(answer.asked).or_default().missing += 1;
            anomalies.push(key_miss(index, counts, answer, id, ack.at));
        }
    }
    rounds.into_values().collect()
}

/// Why `answer` cannot be held to the message: its machine lost its page cache, or retention
/// deleted its file, between the acknowledgement and the query.
fn kept_from(index: &Index<'_>, answer: &KeyAnswer, ack: &super::index::Ack) -> Option<Time> {
    let timeline = index.brokers.timelines.get(&answer.replica);
    let stops = timeline.map_or(&[][..], |t| &t.stops[..]);
    let lost = stops
        .iter()
        .find(|(at, how)| (ack.at..=answer.at).contains(at) && how.loses_page_cache());
    let deleted = (index.retention)
        .took(answer.replica, ack.commit_log_offset, ack.at)
        .filter(|deletion| deletion.at <= answer.at);
    lost.map(|(at, _)| *at)
        .or(deleted.map(|deletion| deletion.at))
}

/// The anomaly of one message a query by key did not find.
fn key_miss(
    index: &Index<'_>,
    counts: &mut SendCounts,
    answer: &KeyAnswer,
    id: MessageId,
    acked: Time,
) -> Anomaly {
    let node = index.name(answer.replica);
    let mut story = format!(
        "{id}, acknowledged by {node} at {acked}, is not in its answer to the operator's \
         QUERY_MESSAGE for `{}` at {}",
        answer.key, answer.at
    );
    let drop = (index.retention)
        .recovery_index_drops(answer.replica, acked)
        .find(|(dropped_at, _)| *dropped_at <= answer.at);
    match drop {
        Some((dropped_at, file)) => {
            story.push_str(&format!(
                ": {node}'s recovery at {dropped_at} deleted {file}, newer than the \
                 checkpoint's index timestamp, and rebuilt only what it re-dispatched \
                 (messageIndexSafe off)"
            ));
            Anomaly::new(AnomalyKind::IndexMissing, Some(id), answer.at, story)
                .because("index_dropped_at_recovery")
        }
        None => {
            counts.index_missing_unexplained += 1;
            story.push_str(": nothing deleted its index file");
            Anomaly::new(AnomalyKind::IndexMissing, Some(id), answer.at, story)
        }
    }
}

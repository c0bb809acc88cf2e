//! What is stored, judged from the auditor's read-back against what producers invoked and
//! were answered: each message stored once (`duplicated` when at two queue offsets), as sent
//! (`corrupt` when another body or no readable id), and only if sent (`unexpected`);
//! `recovered` when every send of it failed or ended unknown, yet it is stored.

use super::explain::{
    TIMED_OUT_APPEND_COMMITTED, explain_duplicate, explain_recovered, quorum_timeout,
};
use super::index::{Index, Record};
use super::{Anomaly, AnomalyKind, SendCounts};

/// The per-message counts and anomalies.
pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    let delays = super::consumers::delays::delays_by_client(index);
    for (id, r) in index.sends.messages() {
        counts.messages += 1;
        let sent_at = r.first_invoke().unwrap_or_default();
        for copy in r.copies.iter().filter(|copy| copy.body_crc != r.body_crc) {
            counts.corrupt += 1;
            let story = format!(
                "stored at {}/{}@{} (commitlog {}) with a body that is not the one sent \
                 (CRC {:08x}, sent {:08x})",
                copy.broker,
                copy.queue_id,
                copy.queue_offset,
                copy.commit_log_offset,
                copy.body_crc,
                r.body_crc
            );
            anomalies.push(Anomaly::new(AnomalyKind::Corrupt, Some(id), sent_at, story));
        }
        let stored = !r.copies.is_empty();
        counts.stored += u64::from(stored);
        counts.busy_answers += u64::from(r.refused());
        if r.ok.is_some() {
            counts.acked += 1;
        } else if r.infos() > 0 || r.outcomes < r.invokes {
            counts.unknown += 1;
        } else if r.weak().is_none() {
            counts.failed += 1;
        }
        if r.transactional {
            continue; // Judged by `transactions`: a commit puts it, a rollback does not.
        }
        if r.copies.len() > 1 {
            counts.duplicated += 1;
            let mut story = explain_duplicate(r);
            if let Some(replay) = schedule_replay(index, &delays, id, r) {
                story.push_str(&replay);
            }
            let anomaly = Anomaly::new(AnomalyKind::Duplicated, Some(id), sent_at, story);
            anomalies.push(after_quorum_timeout(index, r, anomaly));
        }
        if let Some(beyond) = r.stored_beyond_attempts() {
            counts.refused_but_stored += 1;
            let story = format!(
                "{}; {beyond} more cop{} than the attempts no broker refused: an attempt answered \
                 SYSTEM_BUSY was stored (4.9.8 answers it only for a request it never processes)",
                explain_duplicate(r),
                if beyond == 1 { "y" } else { "ies" }
            );
            let anomaly = Anomaly::new(AnomalyKind::RefusedButStored, Some(id), sent_at, story);
            anomalies.push(anomaly);
        }
        if stored && r.ack().is_none() {
            counts.recovered += 1;
            let story = explain_recovered(r);
            let anomaly = Anomaly::new(AnomalyKind::Recovered, Some(id), sent_at, story);
            anomalies.push(after_quorum_timeout(index, r, anomaly));
        }
    }
}

/// A message stored although (or once more than) its sends said: named
/// `timed_out_append_committed` when a DLedger leader answered one of its attempts SYSTEM_ERROR
/// after waiting for a quorum, with the story of that attempt.
fn after_quorum_timeout(index: &Index<'_>, r: &Record, mut anomaly: Anomaly) -> Anomaly {
    match quorum_timeout(index, r) {
        Some(story) => {
            anomaly.explanation.push_str(&story);
            anomaly.because(TIMED_OUT_APPEND_COMMITTED)
        }
        None => anomaly,
    }
}

/// Records read back that no producer sent, or without a readable id.
pub(super) fn strays(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    for (at, copy, id) in &index.read_back.strays {
        let place = format!(
            "{} queue {} offset {}",
            copy.broker, copy.queue_id, copy.queue_offset
        );
        let anomaly = match id {
            Some(id) => {
                counts.unexpected += 1;
                let story = format!("{id} stored at {place}, but never sent");
                Anomaly::new(AnomalyKind::Unexpected, Some(*id), *at, story)
            }
            None => {
                counts.corrupt += 1;
                let story = format!(
                    "a record at {place} (commitlog {}) has no readable UNIQ_KEY: its properties \
                     were torn, and recovery checks only the body's CRC",
                    copy.commit_log_offset
                );
                Anomaly::new(AnomalyKind::Corrupt, None, *at, story)
            }
        };
        anomalies.push(anomaly);
    }
}

/// A delayed message stored twice after a restart of its broker: the schedule service moved it
/// again from progress `delayOffset.json` had saved up to 10 s before.
fn schedule_replay(
    index: &Index<'_>,
    delays: &[Option<(u32, u64)>],
    id: model::MessageId,
    r: &Record,
) -> Option<String> {
    let (level, _) = (*delays.get(id.producer as usize)?)?;
    let copy = r.copies.first()?;
    let sent = r.first_invoke()?;
    let mut timelines = index.brokers.group_timelines(&copy.broker);
    let (at, _) = timelines.find_map(|t| t.stops.iter().find(|(at, _)| *at >= sent))?;
    Some(format!(
        "; it waited in SCHEDULE_TOPIC_XXXX (delay level {level}), and {} stopped at {at}: the \
         restarted schedule service moved it again from the progress delayOffset.json had saved \
         (every 10 s)",
        copy.broker
    ))
}

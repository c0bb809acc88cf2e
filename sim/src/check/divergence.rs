//! Replicas that went separate ways, judged from what the auditor read back from every
//! replica of a group: a queue position holding different records on two replicas, or held by
//! one replica and missing on another whose log covers that commitlog offset. Classic
//! replication never compares or truncates a slave's log, so either is `diverged`.

use super::index::{Index, Position};
use super::{Anomaly, AnomalyKind, SendCounts};
use model::MessageId;
use std::collections::BTreeSet;

pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    let read_back = &index.read_back;
    let mut diverged: BTreeSet<&Position> = BTreeSet::new();
    let show =
        |id: &Option<MessageId>| id.map_or("an unreadable record".to_string(), |id| id.to_string());
    for conflict in &read_back.conflicts {
        diverged.insert(&conflict.position);
        let (broker, topic, queue_id, queue_offset) = &conflict.position;
        let ((first, first_id), (second, second_id)) = (conflict.first, conflict.second);
        let story = format!(
            "{broker}/{topic}/{queue_id}@{queue_offset} holds {} on {} but {} on {}: the \
             replicas' logs went separate ways, and classic replication never compares or \
             truncates them",
            show(&first_id),
            index.name(first),
            show(&second_id),
            index.name(second)
        );
        anomalies.push(Anomaly::new(
            AnomalyKind::Diverged,
            second_id,
            conflict.at,
            story,
        ));
    }
    let holes = read_back.holes();
    for (position, holder, missing) in &holes {
        if !diverged.insert(position) {
            continue;
        }
        let (broker, topic, queue_id, queue_offset) = position;
        let story = format!(
            "{broker}/{topic}/{queue_id}@{queue_offset} is on {} but missing on {}, whose log \
             covers that commitlog offset: the replicas' logs went separate ways",
            index.name(*holder),
            index.name(*missing)
        );
        let at = index.sends.last_outcome;
        let anomaly = Anomaly::new(AnomalyKind::Diverged, None, at, story);
        anomalies.push(anomaly.because("missing on a replica"));
    }
    counts.diverged = diverged.len() as u64;
}

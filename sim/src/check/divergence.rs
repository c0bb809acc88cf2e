//! Replicas that went separate ways, judged from what the auditor read back from every
//! replica of a group: a queue position holding different records on two replicas, or held by
//! one replica and missing on another whose log covers that commitlog offset. Classic
//! replication never compares or truncates a slave's log, so either is `diverged`.

use super::index::{Index, Position};
use super::{Anomaly, AnomalyKind, SendCounts};
use crate::history::Stop;
use model::{MessageId, NodeId};
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
        let held = format!(
            "{broker}/{topic}/{queue_id}@{queue_offset} holds {} on {} but {} on {}",
            show(&first_id),
            index.name(first),
            show(&second_id),
            index.name(second)
        );
        let torn = [(first, first_id), (second, second_id)]
            .into_iter()
            .find_map(|(node, id)| torn_by_power_loss(index, node, id));
        let story = match torn {
            Some(why) => format!("{held}: {why}"),
            None => format!(
                "{held}: the replicas' logs went separate ways, and classic replication never \
                 compares or truncates them"
            ),
        };
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

/// A record whose properties cannot be read on a machine that lost power: the power loss tore
/// its write (a page only partly on the media), which is not a divergence of the logs.
fn torn_by_power_loss(index: &Index<'_>, node: NodeId, id: Option<MessageId>) -> Option<String> {
    if id.is_some() {
        return None;
    }
    let timeline = index.brokers.timelines.get(&node)?;
    let mut stops = timeline.stops.iter().rev();
    let (at, _) = stops.find(|(_, how)| *how == Stop::PowerOff)?;
    Some(format!(
        "{}'s power loss at {at} tore that record's write (part of its page reached the media), \
         so its properties cannot be read there",
        index.name(node)
    ))
}

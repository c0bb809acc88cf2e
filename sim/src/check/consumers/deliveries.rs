//! Checks over single deliveries, in history order: `stale_delivery` (handed to the listener
//! after its consumer's rebalance had allocated the queue elsewhere, or after it had dropped
//! the queue), deliveries of no message as sent (`corrupt`,
//! `unexpected`), `reordered` (a message of a sharding key first delivered after a later one),
//! and `rewind` (a queue taken below what the audience had been handed from it).

use super::GroupFigures;
use crate::check::index::{Index, Queue, Stale};
use crate::check::{Anomaly, AnomalyKind, SendCounts};
use std::collections::BTreeMap;

pub(super) fn judge(
    index: &Index<'_>,
    groups: &mut [GroupFigures],
    counts: &mut SendCounts,
    anomalies: &mut Vec<Anomaly>,
) {
    stale(index, groups, anomalies);
    odd(index, counts, anomalies);
    order(index, groups, anomalies);
    rewinds(index, groups, anomalies);
}

fn stale(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    for (audience, stale) in &index.consumers.stale {
        groups[*audience].stale_deliveries += 1;
        let (broker, topic, queue_id, offset) = &stale.copy;
        let (consumer, handed) = (&stale.consumer, stale.handed);
        let (story, cause) = match stale.why {
            Stale::Dropped(at) => (
                format!(
                    "{consumer} dropped {broker}/{topic}/{queue_id} at {at}, yet handed offset \
                     {offset} to its listener at {handed}"
                ),
                "dropped",
            ),
            Stale::NotAllocated(at) => (
                format!(
                    "{consumer}'s rebalance at {at} allocated {broker}/{topic}/{queue_id} to \
                     other consumers, yet it handed offset {offset} to its listener at {handed}"
                ),
                "not allocated",
            ),
        };
        let kind = AnomalyKind::StaleDelivery;
        let anomaly = Anomaly::new(kind, stale.id, handed, story);
        anomalies.push(anomaly.because(cause));
    }
}

fn odd(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    for (_, odd) in &index.consumers.odd {
        let consumer = &odd.consumer;
        let (broker, topic, queue_id, offset) = &odd.copy;
        let (kind, story) = match odd.id {
            None => {
                counts.corrupt += 1;
                let story = format!(
                    "{consumer} got a message without a readable id from \
                     {broker}/{topic}/{queue_id}@{offset}"
                );
                (AnomalyKind::Corrupt, story)
            }
            Some(id) if odd.sent => {
                counts.corrupt += 1;
                let story = format!("{consumer} got {id} with a body that is not the one sent");
                (AnomalyKind::Corrupt, story)
            }
            Some(id) => {
                counts.unexpected += 1;
                (
                    AnomalyKind::Unexpected,
                    format!("{consumer} got {id}, which nobody sent"),
                )
            }
        };
        anomalies.push(Anomaly::new(kind, odd.id, odd.at, story));
    }
}

/// First deliveries of a key's messages must follow their send order.
fn order(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    // Per (audience, producer, key): the highest sequence number delivered so far, its queue.
    let mut last: BTreeMap<(usize, u32, &str), (u32, &Queue)> = BTreeMap::new();
    for (audience, (id, here, at, consumer)) in &index.consumers.first_keyed {
        let Some(key) = index.sends.record(*id).and_then(|r| r.key.as_deref()) else {
            continue;
        };
        let entry = last.entry((*audience, id.producer, key));
        let latest = entry.or_insert((id.seq, here));
        if id.seq >= latest.0 {
            *latest = (id.seq, here);
            continue;
        }
        groups[*audience].reordered += 1;
        let (seq, (b, t, q)) = *latest;
        let queues = if latest.1 == here {
            "from the same queue".to_string()
        } else {
            format!("from {b}/{t}/{q}: the key's messages were on two queues")
        };
        let (broker, topic, queue_id) = here;
        let story = format!(
            "{consumer} got {id} (key {key}) from {broker}/{topic}/{queue_id} at {at}, after \
             p{}-{seq} of the same key {queues}",
            id.producer
        );
        anomalies.push(Anomaly::new(AnomalyKind::Reordered, Some(*id), *at, story));
    }
}

fn rewinds(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    for (audience, take) in &index.consumers.takes {
        if take.offset >= take.frontier {
            continue;
        }
        let again = take.frontier - take.offset;
        let figures = &mut groups[*audience];
        figures.rewinds += 1;
        figures.rewound_messages += again;
        let (broker, topic, queue_id) = &take.queue;
        let story = format!(
            "{} took {broker}/{topic}/{queue_id} at {} from offset {}, but the group had \
             consumed up to {}: {again} messages again",
            take.consumer, take.at, take.offset, take.frontier
        );
        anomalies.push(Anomaly::new(AnomalyKind::Rewind, None, take.at, story));
    }
}

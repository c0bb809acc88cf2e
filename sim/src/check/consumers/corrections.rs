//! PULL_OFFSET_MOVED taken: after a broker moved a consumer's offset up (its queue's minimum
//! passed it: retention deleted what it pointed at), the consumer commits the corrected offset
//! 10 s later and takes the queue again from there. A take of the same queue by the same
//! consumer below the correction, with no broker stop in between that could have lost the
//! commit, is `uncorrected_offset`: it asks for deleted messages again, forever.

use super::GroupFigures;
use crate::check::index::Index;
use crate::check::{Anomaly, AnomalyKind};

pub(super) fn judge(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    let story = &index.consumers.story;
    for (audience, take) in &index.consumers.takes {
        let moves = story.offset_moves.get(&take.queue).into_iter().flatten();
        let mut mine =
            moves.filter(|(at, consumer, ..)| *at < take.at && *consumer == take.consumer);
        let Some((moved_at, _, from, to)) = mine.next_back() else {
            continue;
        };
        if to <= from || take.offset >= *to {
            continue;
        }
        let (broker, topic, queue_id) = &take.queue;
        let mut timelines = index.brokers.group_timelines(broker);
        let restarted =
            timelines.any(|t| (t.stops.iter()).any(|(at, _)| *moved_at <= *at && *at <= take.at));
        if restarted {
            continue; // The broker may have lost the committed correction.
        }
        groups[*audience].uncorrected_offsets += 1;
        let story = format!(
            "{} took {broker}/{topic}/{queue_id} at {} from offset {}, though the broker had \
             moved it from {from} to {to} at {moved_at} (PULL_OFFSET_MOVED): the correction was \
             never committed",
            take.consumer, take.at, take.offset
        );
        let anomaly = Anomaly::new(AnomalyKind::UncorrectedOffset, None, take.at, story);
        anomalies.push(anomaly);
    }
}

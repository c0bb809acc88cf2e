//! Delayed messages (`delay_level` on a producer): none may be handed to a listener before its
//! delay has passed since it was first sent (`early_delivery`). The broker stores it no earlier
//! than the send began and delivers it one level's delay after it stored it, so the first
//! invoke plus the delay is the earliest any audience may get it.

use super::GroupFigures;
use crate::check::index::Index;
use crate::check::spec::delay_ms;
use crate::check::{Anomaly, AnomalyKind};
use crate::scenario::NodeRole;
use model::time::format_ms;

/// Each producer client's delay level and delay, by client number (message ids' producer
/// part).
pub(in crate::check) fn delays_by_client(index: &Index<'_>) -> Vec<Option<(u32, u64)>> {
    let mut delays = Vec::new();
    for node in &index.scenario.nodes {
        if let NodeRole::Producer {
            producer, client, ..
        } = node.role
        {
            let level = index.scenario.producers[producer].delay_level;
            let client = client as usize;
            if delays.len() <= client {
                delays.resize(client + 1, None);
            }
            delays[client] = level.map(|level| (level, delay_ms(level)));
        }
    }
    delays
}

pub(super) fn judge(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    let delays = delays_by_client(index);
    if delays.iter().all(Option::is_none) {
        return;
    }
    let audiences = index.consumers.audiences.iter();
    for (audience, figures) in audiences.zip(groups.iter_mut()) {
        for (id, record) in index
            .sends
            .messages()
            .filter(|(_, r)| *r.topic == *audience.topic)
        {
            let Some(Some((level, delay))) = delays.get(id.producer as usize) else {
                continue;
            };
            let fate = audience.messages.get(id.producer as usize);
            let handed = fate.and_then(|list| list.get(id.seq as usize)?.first);
            let (Some(handed), Some(sent)) = (handed, record.first_invoke()) else {
                continue;
            };
            let due = sent.plus_ms(*delay);
            if handed < due {
                figures.early_deliveries += 1;
                let story = format!(
                    "sent at {sent} with delay level {level} ({}), yet handed to {} at {handed}, \
                     {} before it was due",
                    format_ms(*delay),
                    audience.name,
                    format_ms(due.ms_since(handed))
                );
                anomalies.push(Anomaly::new(
                    AnomalyKind::EarlyDelivery,
                    Some(id),
                    handed,
                    story,
                ));
            }
        }
    }
}

/// When a delayed message falls due, if that is after the run ended: it may still wait in
/// `SCHEDULE_TOPIC_XXXX`, which nobody reads back, so its fate is not known.
pub(in crate::check) fn due_after_end(
    index: &Index<'_>,
    delays: &[Option<(u32, u64)>],
    (id, record): (model::MessageId, &crate::check::index::Record),
) -> Option<model::Time> {
    let Some(Some((_, delay))) = delays.get(id.producer as usize) else {
        return None;
    };
    let due = record.first_invoke()?.plus_ms(*delay);
    (due > index.end).then_some(due)
}

//! Why a stored, acknowledged message never reached a group that read its queue: its queue
//! offset had been handed out before, to another message the group consumed, and the broker
//! gave the offset out again after losing the queue's tail.

use crate::check::index::{Audience, Index, Record};
use model::MessageId;

/// A stored message the group never got because its queue offset had already been consumed:
/// the broker lost the queue's tail (power loss, truncation), handed its offsets out again,
/// and the group's consumers read on from where they were. The story, if that is what happened.
pub(in crate::check) fn reused_offset(
    audience: &Audience,
    index: &Index<'_>,
    record: &Record,
    id: MessageId,
) -> Option<String> {
    record.copies.iter().find_map(|copy| {
        let queue = copy.queue();
        let (other, at) = audience.seen_at.get(&(queue, copy.queue_offset))?;
        if *other == id {
            return None;
        }
        let recovered = (index.brokers)
            .group_timelines(&copy.broker)
            .filter_map(|timeline| timeline.recoveries.iter().find(|(recovered, ..)| recovered > at))
            .map(|(recovered, ..)| *recovered)
            .min();
        let recovery = recovered.map_or(String::new(), |recovered| {
            format!(" {} restarted at {recovered} without the tail of the queue and", copy.broker)
        });
        let passed = recovered.map_or(String::new(), |at| {
            super::passed_over::restart_clause(index, &copy.broker, at)
        });
        Some(format!(
            "stored at {}/{}/{}@{}, an offset {} had already consumed ({other} at {at});{recovery} handed the \
             offset out again, and the group's consumers, already past it, never read it{passed}",
            copy.broker, copy.topic, copy.queue_id, copy.queue_offset, audience.name
        ))
    })
}

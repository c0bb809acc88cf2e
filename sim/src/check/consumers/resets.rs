//! `reset_missed`: a broker that answered an operator's reset sent the group's consumers to
//! an offset of each queue; every message at or past it that the group had been handed
//! before the reset must be handed to it again afterwards. One that is not was missed:
//! `consumer stopped` when an instance of the group stopped while the reset was being
//! applied (a consumer that dies in `resetOffset`'s 10 s sleep never applies it, and the
//! queue's next owner starts from the old committed offset), else unexplained.

use super::GroupFigures;
use crate::check::index::{Audience, Index, Queue, Reset};
use crate::check::spec::RESET_OFFSET_SLEEP_MS;
use crate::check::{Anomaly, AnomalyKind};
use model::{MessageId, Time};

/// Every reset of the audience's group, queue by queue.
pub(super) fn judge(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    anomalies: &mut Vec<Anomaly>,
) {
    if audience.consumer.is_some() {
        return; // Brokers refuse to reset a broadcasting group's offsets.
    }
    let resets = index.consumers.story.resets.iter();
    for (queue, resets) in resets {
        for reset in resets.iter().filter(|r| r.group == audience.group) {
            for (id, offset, handed) in missed(audience, queue, reset) {
                let stopped = stopped_during(index, audience, reset);
                figures.reset_missed += 1;
                let (broker, topic, queue_id) = queue;
                let mut story = format!(
                    "{broker}/{topic}/{queue_id}@{offset} went to {} at {handed}; an operator \
                     reset the group to offset {} at {}, yet it never got it again",
                    audience.name, reset.offset, reset.asked
                );
                let cause = match stopped {
                    Some((name, at)) => {
                        story.push_str(&format!(
                            "; {name} stopped at {at}, before its 10 s sleep ended, so it never \
                             applied the reset and the queue's next owner took the old offset"
                        ));
                        "consumer stopped"
                    }
                    None => {
                        figures.reset_missed_unexplained += 1;
                        "unexplained"
                    }
                };
                let anomaly = Anomaly::new(AnomalyKind::ResetMissed, Some(id), reset.asked, story);
                anomalies.push(anomaly.because(cause));
            }
        }
    }
}

/// The messages of `queue` at or past the reset's offset the audience was first handed before
/// the reset was asked and never again after it.
fn missed<'a>(
    audience: &'a Audience,
    queue: &'a Queue,
    reset: &'a Reset,
) -> impl Iterator<Item = (MessageId, u64, Time)> + 'a {
    let from = (queue.clone(), reset.offset);
    let to = (queue.clone(), u64::MAX);
    let seen = audience.seen_at.range(from..=to);
    seen.filter(move |(_, (_, handed))| *handed < reset.asked)
        .filter(move |((_, offset), (id, _))| {
            let fate = audience.messages.get(id.producer as usize);
            let fate = fate.and_then(|list| list.get(id.seq as usize));
            let copies = fate.map_or(&[][..], |f| &f.copies[..]);
            let (broker, topic, queue_id) = queue;
            let again = |c: &&crate::check::index::CopyDeliveries| {
                c.copy == (broker.clone(), topic.clone(), *queue_id, *offset)
                    && c.last > reset.asked
            };
            !copies.iter().any(|c| again(&c))
        })
        .map(|((_, offset), (id, handed))| (*id, *offset, *handed))
}

/// An instance of the group that stopped between the reset's ask and the end of its sleep.
fn stopped_during(index: &Index<'_>, audience: &Audience, reset: &Reset) -> Option<(String, Time)> {
    let end = reset.answered.plus_ms(RESET_OFFSET_SLEEP_MS + 1_000);
    let group = index
        .scenario
        .consumers
        .iter()
        .find(|c| c.group == audience.group)?;
    let names = group.nodes.iter().map(|node| index.name(*node));
    let stops = &index.consumers.story.consumer_stops;
    names
        .filter_map(|name| {
            let list = stops.get(name)?;
            let (at, _) = list
                .iter()
                .find(|(at, _)| *at >= reset.asked && *at <= end)?;
            Some((name.to_string(), *at))
        })
        .min_by_key(|(_, at)| *at)
}

//! What became of every message of an audience's topic, after the history: consumed
//! (`delivered`, and `lost_after_delivery` when the broker lost it afterwards), parked in the
//! group's `%DLQ%` topic (`dead_lettered`), failed and dropped by a broadcasting instance
//! (`abandoned`), stored but never handed over (`skipped`), or acknowledged and never
//! delivered (`lost`, `lost_unconfirmed`, `lost_unexplained`, with the durability model's
//! cause). A clustering group's failures are judged by `listener` (`retry_lost`).

use super::GroupFigures;
use crate::check::explain::{
    behind_on_slave, describe_ack, loss_cause, reused_offset, truncated_member,
};
use crate::check::index::{Audience, Fate, Index, Record};
use crate::check::retention::expiry;
use crate::check::sends::percentile;
use crate::check::{Anomaly, AnomalyKind};
use model::event::SendStatus;
use model::{MessageId, Time};

/// After the history: what became of every message of the audience's topic.
pub(super) fn judge(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    anomalies: &mut Vec<Anomaly>,
) {
    let mut latencies = Vec::new();
    let joins_late = joins_late(index, audience);
    let messages = index.sends.messages();
    for (id, record) in messages.filter(|(_, r)| *r.topic == *audience.topic) {
        let fate = audience.messages.get(id.producer as usize);
        let fate = fate.and_then(|list| list.get(id.seq as usize));
        if let Some(consumed) = fate.and_then(|f| f.consumed) {
            figures.delivered += 1;
            if joins_late && stored_before_start(audience, record) {
                figures.from_the_past += 1;
            }
            let expired = record.ack().and_then(|ack| expiry(index, ack));
            if record.copies.is_empty() && record.ok.is_some() && expired.is_none() {
                figures.lost_after_delivery += 1;
            }
            if let Some(sent) = record.first_invoke() {
                latencies.push(consumed.ms_since(sent));
            }
            continue;
        }
        if super::filters::explains_absence(index, audience, (id, record), figures, anomalies) {
            continue;
        }
        let sent_at = record.first_invoke().unwrap_or_default();
        if let Some(story) = dead_lettered(audience, id, record, fate) {
            figures.dead_lettered += 1;
            let anomaly = Anomaly::new(AnomalyKind::DeadLettered, Some(id), sent_at, story);
            anomalies.push(anomaly);
            continue;
        }
        if record.transactional {
            continue; // Whether it should have come at all is the transaction checker's call.
        }
        if let Some(anomaly) = named_absence(index, audience, figures, (id, record)) {
            anomalies.push(anomaly);
            continue;
        }
        if let Some(fate) = fate.filter(|f| f.first.is_some()) {
            // A clustering group retries what failed: its fate is `retry_lost`, judged
            // from the listener's calls (and unknown without the DLQ read back).
            if audience.consumer.is_some() {
                figures.abandoned += 1;
                anomalies.push(abandoned(audience, id, fate, sent_at));
            }
            continue;
        }
        if let Some(copy) = record.copies.first() {
            figures.skipped += 1;
            let story = format!(
                "stored at {}/{}/{}@{}, but {} never got it",
                copy.broker, copy.topic, copy.queue_id, copy.queue_offset, audience.name
            );
            anomalies.push(Anomaly::new(AnomalyKind::Skipped, Some(id), sent_at, story));
        }
        if let Some(anomaly) = lost(index, audience, figures, id, record) {
            anomalies.push(anomaly);
        }
    }
    if !latencies.is_empty() {
        figures.end_to_end_p50_ms = percentile(&mut latencies, 50);
        figures.end_to_end_p99_ms = percentile(&mut latencies, 99);
    }
}

/// A message every copy of which lies below where the audience first took its queue: the
/// new group started past it.
fn before_start(audience: &Audience, id: MessageId, record: &Record) -> Option<Anomaly> {
    let mut copies = record.copies.iter().filter(|c| *c.topic == *audience.topic);
    let mut first = None;
    for copy in copies.by_ref() {
        let queue = copy.queue();
        let (at, consumer, offset) = audience.starts.get(&queue)?;
        if copy.queue_offset >= *offset {
            return None;
        }
        first.get_or_insert((copy, *at, consumer, *offset));
    }
    let (copy, at, consumer, offset) = first?;
    let story = format!(
        "stored at {}/{}/{}@{}, below offset {offset}, where {consumer} first took the queue \
         at {at} with no committed offset: {} started past it",
        copy.broker, copy.topic, copy.queue_id, copy.queue_offset, audience.name
    );
    let at = record.first_invoke().unwrap_or_default();
    Some(Anomaly::new(AnomalyKind::BeforeStart, Some(id), at, story))
}

/// A stored message the audience never got for a reason of its own, counted: retention
/// deleted it, no consumer could read its queue, an operator's reset passed it, or a new
/// group started past it.
fn named_absence(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    (id, record): (MessageId, &Record),
) -> Option<Anomaly> {
    if let Some(anomaly) = expired(index, audience, figures, id, record) {
        return Some(anomaly);
    }
    let (anomaly, figure) = if let Some(anomaly) = stranded(index, audience, id, record) {
        (anomaly, &mut figures.stranded)
    } else if let Some(anomaly) = reset_past(index, audience, id, record) {
        (anomaly, &mut figures.skipped)
    } else {
        (
            before_start(audience, id, record)?,
            &mut figures.before_start,
        )
    };
    *figure += 1;
    Some(anomaly)
}

/// A message stored before an operator's reset of the group that sent its queue past it
/// (`resetOffsetByTime` with `force`, to a time after the group's position): skipped by the
/// operator, not lost.
fn reset_past(
    index: &Index<'_>,
    audience: &Audience,
    id: MessageId,
    record: &Record,
) -> Option<Anomaly> {
    let ack = record.ack()?;
    let story = &index.consumers.story;
    let mut copies = record.copies.iter().filter(|c| *c.topic == *audience.topic);
    let (copy, reset) = copies.find_map(|copy| {
        let queue = copy.queue();
        let resets = story.resets.get(&queue)?;
        let past = resets.iter().find(|r| {
            r.group == audience.group && r.offset > copy.queue_offset && ack.at <= r.asked
        })?;
        Some((copy, past))
    })?;
    let text = format!(
        "stored at {}/{}/{}@{}; an operator's reset at {} sent {} to offset {}, past it, before \
         it was consumed",
        copy.broker,
        copy.topic,
        copy.queue_id,
        copy.queue_offset,
        reset.asked,
        audience.name,
        reset.offset
    );
    let anomaly = Anomaly::new(AnomalyKind::Skipped, Some(id), ack.at, text);
    Some(anomaly.because("operator reset"))
}

/// Whether the audience's group joins after the start (every instance has a `start`): only
/// then is what it consumed from before its first take "from the past".
fn joins_late(index: &Index<'_>, audience: &Audience) -> bool {
    let blocks = index.scenario.consumers.iter();
    let mut group = blocks.filter(|c| c.group == audience.group).peekable();
    group.peek().is_some() && group.all(|c| c.starts_ms.iter().all(Option::is_some))
}

/// Whether a message was acknowledged before the audience first took its queue, from the
/// queue's beginning.
fn stored_before_start(audience: &Audience, record: &Record) -> bool {
    let Some(ack) = record.ok.as_ref() else {
        return false;
    };
    let queue = (
        ack.broker.to_string(),
        record.topic.to_string(),
        ack.queue_id,
    );
    (audience.starts.get(&queue)).is_some_and(|(at, _, offset)| ack.at < *at && *offset == 0)
}

/// A message a broadcasting instance's listener failed and the instance dropped.
fn abandoned(audience: &Audience, id: MessageId, fate: &Fate, sent_at: Time) -> Anomaly {
    let deliveries: u32 = fate.copies.iter().map(|c| c.count).sum();
    let story = format!(
        "{} failed {id} {deliveries} time(s) and never retried it (a broadcasting consumer \
         drops what its listener fails)",
        audience.name
    );
    Anomaly::new(AnomalyKind::Abandoned, Some(id), sent_at, story)
}

/// A message whose CommitLog file retention deleted before the audience had it: `expired`, or
/// `lost_unexplained` when the rules kept the file.
fn expired(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    id: MessageId,
    record: &Record,
) -> Option<Anomaly> {
    let expiry = expiry(index, record.ack()?)?;
    let f = &mut *figures;
    expiry.count(&mut f.lost, &mut f.lost_unexplained, &mut f.expired);
    let story = format!("{}; {} never got it", expiry.story, audience.name);
    Some(Anomaly::new(expiry.kind, Some(id), expiry.at, story))
}

/// A message stored only in queues of the audience's topic no consumer could read at the end.
fn stranded(
    index: &Index<'_>,
    audience: &Audience,
    id: MessageId,
    record: &Record,
) -> Option<Anomaly> {
    let mut copies = record
        .copies
        .iter()
        .filter(|c| *c.topic == *audience.topic)
        .peekable();
    copies.peek()?;
    let mut why = None;
    for copy in copies {
        let unreadable = index
            .topics
            .unreadable(&copy.topic, &copy.broker, copy.queue_id)?;
        why.get_or_insert((copy, unreadable));
    }
    let (copy, unreadable) = why?;
    let story = format!(
        "stored at {}/{}/{}@{}, but {}: {} never got it (stranded)",
        copy.broker, copy.topic, copy.queue_id, copy.queue_offset, unreadable, audience.name
    );
    let at = record.first_invoke().unwrap_or_default();
    Some(Anomaly::new(AnomalyKind::Stranded, Some(id), at, story))
}

/// The story of a message parked in the audience's dead-letter queue, if it is.
fn dead_lettered(
    audience: &Audience,
    id: MessageId,
    record: &Record,
    fate: Option<&Fate>,
) -> Option<String> {
    let mut letters = record.dead_letters().iter();
    let (_, copy) = letters.find(|(group, _)| *group == audience.group)?;
    let failures: u32 = fate.map_or(0, |f| f.copies.iter().map(|c| c.count).sum());
    Some(format!(
        "{}'s listener failed {id} {failures} time(s); out of retries, it is parked in {}/{}@{}",
        audience.name, copy.broker, copy.topic, copy.queue_offset
    ))
}

/// An acknowledged message the audience never got: why, as far as the facts tell.
fn lost(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    id: MessageId,
    record: &Record,
) -> Option<Anomaly> {
    let ack = record.ack()?;
    let acked = describe_ack(ack);
    let name = &audience.name;
    let (kind, story) = if ack.status != SendStatus::SendOk {
        figures.lost_unconfirmed += 1;
        let story = format!("{acked}; {name} never got it");
        (AnomalyKind::LostUnconfirmed, story)
    } else if let Some(story) = reused_offset(audience, index, record, id) {
        figures.lost += 1;
        (AnomalyKind::Lost, format!("{acked}; {story}"))
    } else if let Some((story, cause)) = passed_over(index, id, record) {
        figures.lost += 1;
        let story = format!("{acked}; {story}");
        let anomaly = Anomaly::new(AnomalyKind::Lost, Some(id), ack.at, story);
        return Some(anomaly.because(cause));
    } else if !record.copies.is_empty() {
        figures.lost += 1;
        figures.lost_unexplained += 1;
        let story = format!("{acked}; it is stored, but {name} never got it");
        (AnomalyKind::LostUnexplained, story)
    } else {
        figures.lost += 1;
        match loss_cause(index, ack) {
            Some(cause) => (AnomalyKind::Lost, format!("{acked}; {cause}")),
            None => {
                figures.lost_unexplained += 1;
                let story = format!("{acked}; nothing in the durability model explains its loss");
                (AnomalyKind::LostUnexplained, story)
            }
        }
    };
    Some(Anomaly::new(kind, Some(id), ack.at, story))
}

/// A stored message the group passed over through an entry that led elsewhere: a slave's
/// misplaced entry, or a ConsumeQueue a DLedger TRUNCATE left stale; the story and its cause.
fn passed_over(
    index: &Index<'_>,
    id: MessageId,
    record: &Record,
) -> Option<(String, &'static str)> {
    let on_slave = passed_on_slave(index, id, record).map(|story| (story, "misplaced_entry"));
    on_slave.or_else(|| passed_stale_entry(index, record).map(|s| (s, "stale_consume_queue")))
}

/// A stored message of a DLedger group one of whose members a leader's TRUNCATE cut below
/// what it had dispatched: its ConsumeQueue entries stay (4.9.8 cuts them only at recovery),
/// and a pull through one whose record is gone skips it (`getMessage` passes over an entry it
/// cannot read), so the group moved past the offset this message later took.
fn passed_stale_entry(index: &Index<'_>, record: &Record) -> Option<String> {
    let copy = record.copies.first()?;
    let (member, _) = truncated_member(index, &copy.broker, Time::from_ms(u64::MAX))?;
    Some(format!(
        "a leader's TRUNCATE cut {}'s log below what it had dispatched, leaving ConsumeQueue \
         entries whose records are gone (4.9.8 cuts them only at recovery); a pull through such \
         an entry skips it, so the group passed {}/{}@{} before this message took it",
        member, copy.broker, copy.queue_id, copy.queue_offset
    ))
}

/// A stored message the group passed over while it read the queue from a slave whose entry
/// for it sits below its queue offset.
fn passed_on_slave(index: &Index<'_>, id: MessageId, record: &Record) -> Option<String> {
    record.copies.iter().find_map(|copy| {
        let queue = copy.queue();
        let entry = behind_on_slave(index, id, &queue, Time::from_ms(u64::MAX))?;
        Some(format!(
            "{}: a consumer asks a slave for the offset it would ask the master, so it asked for \
             entry {} and passed over this record",
            entry.story(index, &queue),
            entry.queue_offset
        ))
    })
}

//! `wrong_start`: where a new group first took a queue of its topic, held to 4.9.8's rule
//! (`ConsumerManageProcessor.queryConsumerOffset`, then `computePullFromWhere`) from the
//! acknowledgements. A broker answers a group it has no offset for with 0 while the queue's
//! first message is not "in disk" (the CommitLog has grown no more than
//! `accessMessageInMemoryMaxRatio` of the machine's memory past it); otherwise
//! CONSUME_FROM_FIRST_OFFSET starts at 0 and CONSUME_FROM_LAST_OFFSET at the queue's end.
//! CONSUME_FROM_TIMESTAMP's search is not judged, nor a take whose answer could have gone
//! either way in the second before it (`QUERY_SETTLE_MS`: the log grew across the limit, or
//! sends were stored and not yet acknowledged).

use super::GroupFigures;
use crate::check::index::{Audience, Index};
use crate::check::spec::{ACCESS_MESSAGE_IN_MEMORY_MAX_RATIO, QUERY_SETTLE_MS};
use crate::check::{Anomaly, AnomalyKind};
use model::Time;
use std::collections::BTreeMap;

/// One acknowledged record of a broker group: when, its queue, and where it ends in the log.
struct Acked {
    at: Time,
    queue: (String, u32),
    queue_offset: u64,
    commit_log_offset: u64,
    end: u64,
}

/// Every audience's first takes, against the acknowledgements (folded once, for all).
pub(super) fn judge(
    index: &Index<'_>,
    audiences: &[Audience],
    groups: &mut [GroupFigures],
    anomalies: &mut Vec<Anomaly>,
) {
    let mut acked = None;
    for (audience, figures) in audiences.iter().zip(groups) {
        let scenario = index.scenario;
        let Some(group) = (scenario.consumers.iter()).find(|c| c.group == audience.group) else {
            continue;
        };
        if audience.consumer.is_some() || group.consume_timestamp_ms.is_some() {
            continue; // A broadcasting instance starts from its own file; a search is not judged.
        }
        let acked = acked.get_or_insert_with(|| acked_by_broker(index));
        let from_first = group.consume_from_first;
        judge_audience(index, (audience, from_first), acked, figures, anomalies);
    }
}

/// One audience's first takes of its topic's queues.
fn judge_audience(
    index: &Index<'_>,
    (audience, from_first): (&Audience, bool),
    acked: &BTreeMap<&str, Vec<Acked>>,
    figures: &mut GroupFigures,
    anomalies: &mut Vec<Anomaly>,
) {
    let scenario = index.scenario;
    for ((broker, topic, queue_id), (at, consumer, offset)) in &audience.starts {
        if *topic != audience.topic {
            continue;
        }
        let Some(log) = acked.get(broker.as_str()) else {
            continue;
        };
        let groups = scenario.broker_groups.iter();
        let Some(spec) = groups.into_iter().find(|g| g.name == *broker) else {
            continue;
        };
        let memory = spec.memory_bytes / 100 * ACCESS_MESSAGE_IN_MEMORY_MAX_RATIO;
        let queue = (topic.clone(), *queue_id);
        let rule = Rule {
            log,
            queue: &queue,
            at: *at,
            memory,
        };
        let Some(why) = rule.wrong(*offset, from_first) else {
            continue;
        };
        figures.wrong_starts += 1;
        let story = format!(
            "{consumer} first took {broker}/{topic}/{queue_id} at {at} from offset {offset}, with \
             no committed offset: {why}"
        );
        anomalies.push(Anomaly::new(AnomalyKind::WrongStart, None, *at, story));
    }
}

/// Every acknowledged record, per broker group, in acknowledgement order.
fn acked_by_broker<'a>(index: &'a Index<'_>) -> BTreeMap<&'a str, Vec<Acked>> {
    let mut by_broker: BTreeMap<&str, Vec<Acked>> = BTreeMap::new();
    for (_, record) in index.sends.messages() {
        let Some(ack) = record.ack() else {
            continue;
        };
        by_broker.entry(&ack.broker).or_default().push(Acked {
            at: ack.at,
            queue: (record.topic.to_string(), ack.queue_id),
            queue_offset: ack.queue_offset,
            commit_log_offset: ack.commit_log_offset,
            end: ack.commit_log_offset + u64::from(ack.size),
        });
    }
    for log in by_broker.values_mut() {
        log.sort_by_key(|a| a.at);
    }
    by_broker
}

/// What a broker knew when it answered a new group's first take of a queue.
struct Rule<'a> {
    log: &'a [Acked],
    queue: &'a (String, u32),
    at: Time,
    /// `accessMessageInMemoryMaxRatio` of the machine's memory.
    memory: u64,
}

impl Rule<'_> {
    /// Why `offset` breaks the rule, if it certainly does.
    fn wrong(&self, offset: u64, from_first: bool) -> Option<String> {
        let settled = Time::from_ms(self.at.as_ms().saturating_sub(QUERY_SETTLE_MS));
        let first = self
            .log
            .iter()
            .find(|a| a.queue == *self.queue && a.queue_offset == 0)?;
        if first.at > settled {
            return None; // The queue may have been empty when the broker answered.
        }
        let (early, late) = (self.by(settled), self.by(self.at));
        let grown = |acked: &[Acked]| {
            let end = acked.iter().map(|a| a.end).max().unwrap_or(0);
            end.saturating_sub(first.commit_log_offset)
        };
        let (in_disk_surely, in_memory_surely) =
            (grown(early) > self.memory, grown(late) <= self.memory);
        if offset == 0 {
            return (!from_first && in_disk_surely).then(|| {
                "the broker answered 0 though the queue's first message was in disk (the log had \
                 grown past accessMessageInMemoryMaxRatio of memory beyond it), and \
                 CONSUME_FROM_LAST_OFFSET starts at the queue's end"
                    .to_string()
            });
        }
        if from_first || in_memory_surely {
            return Some(
                "the broker answers a new group 0 while the queue's first message is not in disk, \
                 and CONSUME_FROM_FIRST_OFFSET starts at 0"
                    .to_string(),
            );
        }
        let acked_before = (early.iter().filter(|a| a.queue == *self.queue)).count() as u64;
        (offset < acked_before).then(|| {
            format!(
                "CONSUME_FROM_LAST_OFFSET starts at the queue's end, and {acked_before} of its \
                 messages had been acknowledged a second before"
            )
        })
    }

    /// The records acknowledged by `by`.
    fn by(&self, by: Time) -> &[Acked] {
        let count = self.log.partition_point(|a| a.at <= by);
        &self.log[..count]
    }
}

//! Why one stored copy was delivered twice to one audience: the consumer that had it stopped
//! before committing past it, an offset reset sent a consumer below it, the group committed to
//! a slave the master never heard from, the broker came back with older offsets, the first
//! delivery came through a slave's misplaced entry (`slave_entries`), or the queue moved to
//! another consumer (rebalance); `unexplained` when none of these happened.

use super::slave_entries::behind_on_slave;
use crate::check::RedeliveryCauses;
use crate::check::index::{ExtraCopy, Index, Redelivery, Story};
use crate::history::Stop;
use model::Time;
use model::time::format_ms;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(in crate::check) enum Cause {
    ConsumerCrash,
    StuckMessage,
    ConsumerShutdown,
    OffsetReset,
    BrokerRestart,
    SlaveOffsets,
    ScheduleReplay,
    SendBackRetried,
    MisplacedEntry,
    OperatorReset,
    ConsumedDirectly,
    Rebalance,
    Unexplained,
}

impl Cause {
    pub fn name(self) -> &'static str {
        match self {
            Cause::ConsumerCrash => "consumer crash",
            Cause::StuckMessage => "stuck message",
            Cause::ConsumerShutdown => "consumer shutdown",
            Cause::OffsetReset => "offset reset",
            Cause::BrokerRestart => "broker restart",
            Cause::SlaveOffsets => "offsets on slave",
            Cause::ScheduleReplay => "schedule replay",
            Cause::SendBackRetried => "send-back retried",
            Cause::MisplacedEntry => "misplaced entry",
            Cause::OperatorReset => "operator reset",
            Cause::ConsumedDirectly => "consumed directly",
            Cause::Rebalance => "rebalance",
            Cause::Unexplained => "unexplained",
        }
    }

    pub fn count(self, causes: &mut RedeliveryCauses) -> &mut u64 {
        match self {
            Cause::ConsumerCrash => &mut causes.consumer_crash,
            Cause::StuckMessage => &mut causes.stuck_message,
            Cause::ConsumerShutdown => &mut causes.consumer_shutdown,
            Cause::OffsetReset => &mut causes.offset_reset,
            Cause::BrokerRestart => &mut causes.broker_restart,
            Cause::SlaveOffsets => &mut causes.slave_offsets,
            Cause::ScheduleReplay => &mut causes.schedule_replay,
            Cause::SendBackRetried => &mut causes.send_back_retried,
            Cause::MisplacedEntry => &mut causes.misplaced_entry,
            Cause::OperatorReset => &mut causes.operator_reset,
            Cause::ConsumedDirectly => &mut causes.consumed_directly,
            Cause::Rebalance => &mut causes.rebalance,
            Cause::Unexplained => &mut causes.unexplained,
        }
    }

    /// An offset reset below consumed, still stored messages is a defect, not a trade-off.
    pub fn explained(self) -> bool {
        !matches!(self, Cause::OffsetReset | Cause::Unexplained)
    }
}

/// Why a stored copy was delivered twice, and the story: who had it, what happened to them
/// or to the broker, and who took the queue over from where.
pub(in crate::check) fn explain_redelivery(
    index: &Index<'_>,
    group: &str,
    redelivery: &Redelivery,
) -> (Cause, String) {
    let story = &index.consumers.story;
    let (broker, topic, queue_id, offset) = &redelivery.copy;
    let ((t1, first), (t2, second)) = (&redelivery.first, &redelivery.second);
    let mut parts = vec![format!(
        "{broker}/{topic}/{queue_id}@{offset} went to {first} at {t1}"
    )];
    let (mut cause, why) = match operator_cause(index, group, redelivery) {
        Some((cause, story)) => (cause, Some(story)),
        None => first_cause(index, redelivery),
    };
    parts.extend(why);
    match handover(story, redelivery) {
        Some(how) => parts.push(how),
        None if cause == Cause::Rebalance => cause = Cause::Unexplained,
        None => {}
    }
    parts.push(format!(
        "{second} got it again at {t2} ({} later)",
        format_ms(t2.ms_since(*t1))
    ));
    (cause, parts.join("; "))
}

/// What let the first delivery go uncommitted, between the two deliveries: a stop of the
/// first consumer, an offset reset, commits to a slave, a broker restart, a slave's misplaced
/// entry; else a rebalance.
fn first_cause(index: &Index<'_>, redelivery: &Redelivery) -> (Cause, Option<String>) {
    let (brokers, story) = (&index.brokers, &index.consumers.story);
    let (broker, topic, queue_id, offset) = &redelivery.copy;
    let ((t1, first), (t2, _)) = (&redelivery.first, &redelivery.second);
    let within = |at: &Time| at >= t1 && at <= t2;
    let queue = (broker.clone(), topic.clone(), *queue_id);
    let stops = story.consumer_stops.get(first);
    let first_stop = stops.and_then(|stops| stops.iter().find(|(at, _)| within(at)));
    let moves = story.offset_moves.get(&queue);
    let reset = moves.and_then(|m| m.iter().find(|(at, _, _, to)| within(at) && to <= offset));
    let broker_stop = (brokers.group_nodes(broker))
        .filter_map(|(node, timeline)| {
            let (at, how) = timeline.stops.iter().find(|(at, ..)| within(at))?;
            Some((*at, *how, node))
        })
        .min_by_key(|(at, ..)| *at);
    // The commit of the first delivery leaves within 5 s: if the group read the queue from a
    // slave by then, the commit went to the slave, and the master never saw it.
    let reads = story.slave_reads.get(&queue);
    let slave_read = reads.and_then(|r| {
        r.iter()
            .find(|read| read.plus_ms(5_000) >= *t1 && *read <= t2)
    });
    let (cause, story) = match (first_stop, reset, slave_read, broker_stop) {
        (Some((at, how)), ..) => match stuck_before(index, redelivery, first, *at) {
            Some(stuck) => (Cause::StuckMessage, stuck),
            None => consumer_stopped(first, *at, *how),
        },
        (None, Some((at, consumer, from, to)), ..) => (
            Cause::OffsetReset,
            format!(
                "at {at} PULL_OFFSET_MOVED sent {consumer} from offset {from} back to {to}, below \
                 messages the group had consumed and the broker still stores"
            ),
        ),
        (None, None, Some(read), _) => (
            Cause::SlaveOffsets,
            format!(
                "from {read} the group read the queue from {broker}'s slave and committed its \
                 offsets there, which the master never saw"
            ),
        ),
        (None, None, None, Some((at, how, node))) => {
            // A DLedger group's members are named apart; a classic group by its master.
            let dledger = index.logs.is_dledger(broker);
            let stopped = if dledger { index.name(node) } else { broker };
            broker_stopped(stopped, at, how)
        }
        (None, None, None, None) => match behind_on_slave(index, redelivery.id, &queue, *t1) {
            Some(entry) => (
                Cause::MisplacedEntry,
                format!(
                    "{}: the first delivery came through that entry, and the next pull asked for \
                     the entry after it, which on the master is this record again",
                    entry.story(index, &queue)
                ),
            ),
            None => match stale_entries(index, broker, *t2) {
                Some(story) => (Cause::MisplacedEntry, story),
                None => match held_at_handover(index, redelivery, first) {
                    Some(story) => (Cause::StuckMessage, story),
                    None => return (Cause::Rebalance, None),
                },
            },
        },
    };
    (cause, Some(story))
}

/// An operator's doing: one of the deliveries is one the operator sent directly, or a reset
/// of the group answered between them sent the queue to this copy's offset or below (the
/// first delivery may come up to the reset's 10 s sleep after the answer: the consumer keeps
/// consuming until it applies it).
fn operator_cause(
    index: &Index<'_>,
    group: &str,
    redelivery: &Redelivery,
) -> Option<(Cause, String)> {
    let story = &index.consumers.story;
    let ((t1, first), (t2, second)) = (&redelivery.first, &redelivery.second);
    let direct = |(at, consumer): (&Time, &String)| {
        let key = (redelivery.id, consumer.clone(), *at);
        story.directs.contains(&key).then(|| {
            format!("an operator sent it to {consumer} directly at {at} (CONSUME_MESSAGE_DIRECTLY)")
        })
    };
    if let Some(how) = direct((t2, second)).or_else(|| direct((t1, first))) {
        return Some((Cause::ConsumedDirectly, how));
    }
    let (broker, topic, queue_id, offset) = &redelivery.copy;
    let queue = (broker.clone(), topic.clone(), *queue_id);
    let resets = story.resets.get(&queue)?;
    let applied_by =
        |answered: Time| answered.plus_ms(crate::check::spec::RESET_OFFSET_SLEEP_MS + 1_000);
    let reset = resets.iter().find(|r| {
        r.group == group && r.offset <= *offset && r.asked <= *t2 && *t1 <= applied_by(r.answered)
    })?;
    Some((
        Cause::OperatorReset,
        format!(
            "an operator reset {group}'s offsets at {}: {broker} sent its consumers offset {} for the queue, at or below this copy",
            reset.asked, reset.offset
        ),
    ))
}

/// A message of the same queue below this copy that `first`'s listener had held since before
/// the copy's first delivery, through a commit interval, and still held when `first` stopped:
/// the committed offset could
/// not pass it (the process queue commits its smallest pending offset), so everything
/// consumed after it is consumed again. The story, if so.
fn stuck_before(
    index: &Index<'_>,
    redelivery: &Redelivery,
    first: &str,
    stopped: Time,
) -> Option<String> {
    let t1 = redelivery.first.0;
    let calls = index.listener.interrupted.iter();
    let long = |call: &&crate::check::index::Call| {
        stopped.ms_since(call.at) >= crate::check::spec::PERSIST_CONSUMER_OFFSET_MS
    };
    let stuck = calls.filter(long).filter(|call| {
        call.consumer == first && call.at <= t1 && call.end == stopped && !call.crashed
    });
    let (call, id, offset) = held_below(index, redelivery, stuck)?;
    Some(format!(
        "{first} stopped at {stopped} with {id} (offset {offset}) in its listener since {}: the \
         committed offset could not pass it, so what {first} consumed after it went again",
        call.at
    ))
}

/// A long call of `first` that held a lower offset of the queue since before the copy's
/// first delivery and was still running when the copy was delivered again: the queue moved
/// with its committed offset held back. The story, if so.
fn held_at_handover(index: &Index<'_>, redelivery: &Redelivery, first: &str) -> Option<String> {
    let ((t1, _), (t2, second)) = (&redelivery.first, &redelivery.second);
    let calls = index.listener.long.iter();
    let stuck = calls.filter(|call| call.consumer == first && call.at <= *t1 && call.end >= *t2);
    let (call, id, offset) = held_below(index, redelivery, stuck)?;
    Some(format!(
        "the queue moved from {first} to {second} while {id} (offset {offset}) sat in {first}'s \
         listener since {}: the committed offset could not pass it",
        call.at
    ))
}

/// Of `calls`, the one holding the lowest message of the copy's queue below the copy.
fn held_below<'a>(
    index: &Index<'_>,
    redelivery: &Redelivery,
    calls: impl Iterator<Item = &'a crate::check::index::Call>,
) -> Option<(&'a crate::check::index::Call, model::MessageId, u64)> {
    let (broker, topic, queue_id, offset) = &redelivery.copy;
    let queue = (broker.clone(), topic.clone(), *queue_id);
    let held = calls.flat_map(|call| call.messages.iter().map(move |m| (call, m)));
    held.filter(|(_, m)| {
        m.queue_offset < *offset && crate::check::consumers::queue_of(index.scenario, m) == queue
    })
    .filter_map(|(call, m)| Some((call, m.id?, m.queue_offset)))
    .min_by_key(|(_, _, offset)| *offset)
}

/// A member of DLedger group `broker` a leader's TRUNCATE cut below what it had dispatched
/// before `by`: its ConsumeQueue entries stay (4.9.8 cuts them at recovery only) and point
/// where other records now lie, so a pull through one hands over a record already consumed.
fn stale_entries(index: &Index<'_>, broker: &str, by: Time) -> Option<String> {
    let (name, at) = super::truncated_member(index, broker, by)?;
    Some(format!(
        "a leader's TRUNCATE at {at} cut {name}'s log below what it had dispatched; its \
         ConsumeQueue entries stay (4.9.8 cuts them at recovery only) and point where other \
         records now lie, and a pull through one handed this record over again"
    ))
}

/// The first consumer stopped between the deliveries: a shutdown commits only what its last
/// auto commit (or persist) took, any other stop not even that.
fn consumer_stopped(first: &str, at: Time, how: Stop) -> (Cause, String) {
    if how == Stop::Shutdown {
        let story = format!(
            "{first} shut down at {at} having committed only what its last auto commit (or \
             persist) took"
        );
        return (Cause::ConsumerShutdown, story);
    }
    let how = match how {
        Stop::PowerOff => "lost power",
        Stop::OsCrash => "crashed with its OS",
        _ => "crashed",
    };
    let story = format!("{first} {how} at {at} before its offset was committed past it");
    (Cause::ConsumerCrash, story)
}

/// A broker of the group stopped between the deliveries and came back with the consumer
/// offsets it had last written.
fn broker_stopped(broker: &str, at: Time, how: Stop) -> (Cause, String) {
    let how = match how {
        Stop::PowerOff => "lost power",
        Stop::OsCrash => "crashed with its OS",
        Stop::DiskLoss => "lost its disk",
        Stop::Shutdown => "shut down",
        Stop::Kill => "was killed",
    };
    let story = format!(
        "{broker} {how} at {at}; its consumer offsets are written every 5 s, so it came back \
         with older ones"
    );
    (Cause::BrokerRestart, story)
}

/// Who got the copy the second time, and how they came to own its queue: a take-over between
/// the deliveries, or an ownership shared since before (rebalancing is not coordinated: with
/// different views of the group or of the route, two consumers can own one queue at once).
fn handover(story: &Story, redelivery: &Redelivery) -> Option<String> {
    let (broker, topic, queue_id, offset) = &redelivery.copy;
    let ((t1, first), (t2, second)) = (&redelivery.first, &redelivery.second);
    let queue = (broker.clone(), topic.clone(), *queue_id);
    let takeovers = story.takeovers.get(&queue).map_or(&[][..], Vec::as_slice);
    let takeover = takeovers
        .iter()
        .rev()
        .find(|(at, _, from)| at >= t1 && at <= t2 && from <= offset);
    if let Some((at, consumer, from)) = takeover {
        return Some(format!(
            "{consumer} took the queue at {at} from the committed offset {from} ({} behind)",
            offset - from + 1
        ));
    }
    let shared = takeovers.iter().rev().find(|(at, consumer, from)| {
        at <= t2 && consumer == second && consumer != first && from <= offset
    });
    shared.map(|(at, consumer, from)| {
        format!(
            "{consumer} had owned the queue too since {at} (from offset {from}): the two \
             consumers' views of the group or of the topic's queues differed"
        )
    })
}

/// Why an audience got more retry copies of a message at one reconsume count than its
/// failures sent back: the consumer's send-back was stored although it failed or timed out,
/// and the client sent the copy itself (`DefaultMQPushConsumerImpl.sendMessageBack`); or a
/// broker of the group restarted after the failure, and its ScheduleMessageService, whose
/// delay offsets are persisted every 10 s, moved the copy from its delay level to `%RETRY%`
/// again (#3473).
pub(in crate::check) fn explain_retry_copy(
    index: &Index<'_>,
    extra: &ExtraCopy,
) -> (Cause, String) {
    let (broker, topic, queue_id, offset) = &extra.copy;
    let ((t1, first), (t2, second)) = (&extra.earlier, &extra.second);
    let mut parts = vec![format!(
        "{} failed at {} and was sent back once, yet a retry copy went to {first} at {t1} and \
         another with the same reconsume count, at {broker}/{topic}/{queue_id}@{offset}, to \
         {second} at {t2}",
        extra.id, extra.failed_at
    )];
    let own = index.sends.consumer_retry_sends(extra.id);
    let resent = own
        .iter()
        .find(|(at, _)| *at >= extra.failed_at && at <= t2);
    let restart = (index.brokers)
        .group_timelines(broker)
        .filter_map(|timeline| {
            let mut stops = timeline.stops.iter().rev();
            stops.find(|(at, _)| *at > extra.failed_at && at < t2)
        })
        .max_by_key(|(at, _)| *at);
    let cause = if let Some((at, consumer)) = resent {
        parts.push(format!(
            "{} sent the retry copy itself at {at} after its CONSUMER_SEND_MSG_BACK failed, \
             though the broker had stored the send-back",
            index.name(*consumer)
        ));
        Cause::SendBackRetried
    } else if let Some((at, how)) = restart {
        parts.push(format!(
            "{broker} stopped ({}) at {at}; its ScheduleMessageService persists the delay \
             levels' offsets every 10 s, so after the restart it moved the copy to %RETRY% \
             again (#3473)",
            how.name()
        ));
        Cause::ScheduleReplay
    } else {
        Cause::Unexplained
    };
    (cause, parts.join("; "))
}

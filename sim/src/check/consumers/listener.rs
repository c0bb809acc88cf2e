//! Consumer guarantees judged from facts the consumer model cannot produce by mistake: the
//! application's own record of each listener call (`ListenerCall`, emitted by the workload's
//! listener when it is called, with how long it stays inside and what it answers), the
//! messages the auditor read back from the brokers' `%DLQ%` queues, and the committed offsets
//! the auditor read from each group's current master at the end (`ConsumerProgress`). A
//! consumer model that calls its listener without the lock, drops a retry, or moves its offset
//! past a failure cannot hide it: the call, the missing copy and the broker's offset are
//! recorded by other parts.
//!
//! - `orderly_overlaps` (orderly clustering groups): two consumers inside the listener for the
//!   same queue at once. A call lasts from its start for its `duration_ms`, or until its
//!   process stopped. RocketMQ's guarantee: a queue is consumed only under its broker lock
//!   (`ConsumeMessageOrderlyService`, `RebalanceLockManager`), which one client holds.
//! - `retry_lost` (clustering push groups): the listener failed a message, and no listener
//!   call ever consumed it, nor is it in the group's `%DLQ%` queue: at-least-once with
//!   retries is broken (a failed send-back must become a retry, a client-side copy, or a local
//!   re-consumption: `ConsumeMessageConcurrentlyService.processConsumeResult`).
//! - `failed_acked` (clustering push groups): the listener failed a message and it was never
//!   handed to a listener again, nor consumed by any call, nor dead-lettered, yet the group's
//!   committed offset on its queue passed it: a failure acknowledged as consumed (4.9.8 keeps
//!   a message whose send-back failed in the process queue, so the offset cannot pass it).
//!   Two owners of one queue during a rebalance can both get a message; a failure of one of
//!   them that the other consumed is no violation.
//!
//! The failure checks need the read-back: without it the DLQ's contents are unknown, and the
//! figures are not counted (the verdict is unknown anyway).

use crate::check::explain::loss_cause;
use crate::check::index::{Ack, Call, Index, Queue};
use crate::check::{Anomaly, AnomalyKind};
use crate::scenario::Scenario;
use model::event::ListenedMessage;
use model::protocol::route::dlq_topic;
use model::{MessageId, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The figures per consumer group (by the group's name).
#[derive(Clone, Debug, Default)]
pub(super) struct ListenerFigures {
    pub orderly_overlaps: u64,
    pub retry_lost: u64,
    pub failed_acked: u64,
    /// Failures whose send-back a broker stored and then lost (named, not in the two above).
    pub send_backs_lost: u64,
}

/// The figures of every clustering group, and the anomalies with their witnesses.
pub(super) fn judge(
    index: &Index<'_>,
    anomalies: &mut Vec<Anomaly>,
) -> BTreeMap<String, ListenerFigures> {
    let scenario = index.scenario;
    let read_back = &index.read_back;
    let mut figures: BTreeMap<String, ListenerFigures> = BTreeMap::new();
    for group in scenario.consumers.iter().filter(|g| !g.broadcasting) {
        let calls = index.listener.calls.get(&group.group);
        let calls = calls.map_or(&[][..], Vec::as_slice);
        let entry = figures.entry(group.group.clone()).or_default();
        if group.orderly() {
            entry.orderly_overlaps += overlaps(scenario, calls, anomalies);
        }
        let dlq_known = read_back.done && !read_back.dlq_unread.contains(&group.group);
        if !group.lite_pull() && dlq_known {
            let counts = failures(index, &group.group, calls, anomalies);
            entry.retry_lost += counts.retry_lost;
            entry.failed_acked += counts.failed_acked;
            entry.send_backs_lost += counts.send_backs_lost;
        }
    }
    figures
}

/// The broker group that stored a message (its store host is one of the group's nodes).
fn broker_of(scenario: &Scenario, store_host: NodeId) -> String {
    scenario
        .broker_groups
        .iter()
        .find(|g| g.nodes.contains(&store_host))
        .map_or_else(|| format!("{store_host:?}"), |g| g.name.clone())
}

/// The queue a message a listener was handed came from.
pub(in crate::check) fn queue_of(scenario: &Scenario, message: &ListenedMessage) -> Queue {
    (
        broker_of(scenario, message.store_host),
        message.topic.clone(),
        message.queue_id,
    )
}

/// Orderly: per queue, the calls of different consumers that overlap in time.
fn overlaps(scenario: &Scenario, calls: &[Call], anomalies: &mut Vec<Anomaly>) -> u64 {
    let mut by_queue: BTreeMap<Queue, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        if let Some(first) = call.messages.first() {
            by_queue
                .entry(queue_of(scenario, first))
                .or_default()
                .push(call);
        }
    }
    let mut count = 0;
    for ((broker, topic, queue_id), mut list) in by_queue {
        list.sort_by_key(|call| call.at);
        // Per consumer: the call of it that leaves the listener last so far.
        let mut inside: BTreeMap<&str, &Call> = BTreeMap::new();
        for call in list {
            for (other, earlier) in &inside {
                if *other == call.consumer || earlier.end <= call.at {
                    continue;
                }
                count += 1;
                let offset = |c: &Call| c.messages.first().map_or(0, |m| m.queue_offset);
                anomalies.push(Anomaly::new(
                    AnomalyKind::OrderlyOverlap,
                    call.messages.first().and_then(|m| m.id),
                    call.at,
                    format!(
                        "{other} was inside the listener for {broker}/{topic}/{queue_id} from {} to {} \
                         (offset {}), when {} entered it at {} (offset {}): two consumers of one orderly queue at once",
                        earlier.at,
                        earlier.end,
                        offset(earlier),
                        call.consumer,
                        call.at,
                        offset(call)
                    ),
                ));
            }
            let last = inside.entry(call.consumer.as_str()).or_insert(call);
            if call.end > last.end {
                *last = call;
            }
        }
    }
    count
}

/// The send-back of a failure that a broker stored (SUCCESS, WAIT false) and then lost, as
/// the durability model tells: 4.9.8 moves the group's offset past a failure once its
/// send-back is stored, so the lost copy takes the message's retries with it.
const SEND_BACK_LOST: &str = "send_back_lost";

/// Why the failed message's retry copy is gone, if a broker stored it and then lost it.
fn send_back_lost(index: &Index<'_>, group: &str, id: MessageId) -> Option<String> {
    let backs = index.listener.sent_back.get(&(group.to_string(), id))?;
    backs.iter().find_map(|back| {
        let broker = back.broker.as_str().into();
        let stored = Ack::put_by_broker(back.at, broker, back.node, (back.put, back.size));
        let cause = loss_cause(index, &stored)?;
        Some(format!(
            "{} stored its send-back at {} (commitlog {}; a send-back waits for no flush or \
             slave) and the group moved past it; then the copy was lost: {cause}",
            back.broker, back.at, back.put
        ))
    })
}

/// What became of the failures of one group.
#[derive(Default)]
struct FailureCounts {
    retry_lost: u64,
    failed_acked: u64,
    send_backs_lost: u64,
}

/// What became of each failure of one group.
fn failures(
    index: &Index<'_>,
    group: &str,
    calls: &[Call],
    anomalies: &mut Vec<Anomaly>,
) -> FailureCounts {
    let dead = index.read_back.dead.get(group);
    let is_dead = |id: &MessageId| dead.is_some_and(|d| d.contains(id));
    let (consumed, last_call) = consumption(calls);
    let (mut lost, mut acked) = (BTreeSet::new(), BTreeSet::new());
    let mut named: BTreeMap<MessageId, String> = BTreeMap::new();
    for call in calls.iter().filter(|c| !c.success && !c.crashed) {
        for message in &call.messages {
            let Some(id) = message.id else { continue };
            // Consumed by some call (another owner of the queue may have had it too), or
            // parked in the DLQ: at-least-once holds.
            if is_dead(&id) || consumed.contains(&id) {
                continue;
            }
            if !named.contains_key(&id)
                && let Some(why) = send_back_lost(index, group, id)
            {
                named.insert(id, why);
            }
            let cause = named.get(&id);
            if lost.insert(id) {
                let story = retry_lost_story(call, id, group);
                let anomaly = named_anomaly(AnomalyKind::RetryLost, id, call.at, story, cause);
                anomalies.push(anomaly);
            }
            let followed_up = last_call.get(&id).is_some_and(|last| *last > call.at);
            if !followed_up
                && let Some(story) = failed_acked_story(index, group, call, message)
                && acked.insert(id)
            {
                let anomaly = named_anomaly(AnomalyKind::FailedAcked, id, call.at, story, cause);
                anomalies.push(anomaly);
            }
        }
    }
    let unnamed =
        |set: &BTreeSet<MessageId>| set.iter().filter(|id| !named.contains_key(id)).count();
    FailureCounts {
        retry_lost: unnamed(&lost) as u64,
        failed_acked: unnamed(&acked) as u64,
        send_backs_lost: named.len() as u64,
    }
}

/// Of a group's calls that did not crash: the messages one of them consumed, and when each
/// message's last call was.
fn consumption(calls: &[Call]) -> (BTreeSet<MessageId>, BTreeMap<MessageId, Time>) {
    let mut consumed: BTreeSet<MessageId> = BTreeSet::new();
    let mut last_call: BTreeMap<MessageId, Time> = BTreeMap::new();
    for call in calls.iter().filter(|c| !c.crashed) {
        for id in call.messages.iter().filter_map(|m| m.id) {
            if call.success {
                consumed.insert(id);
            }
            last_call.insert(id, call.at);
        }
    }
    (consumed, last_call)
}

/// The story of a failure no listener of the group consumed later and no DLQ holds.
fn retry_lost_story(call: &Call, id: MessageId, group: &str) -> String {
    format!(
        "{}'s listener failed {id} at {}; no listener of {group} ever consumed it, and it \
         is in no {} queue: its retry was lost",
        call.consumer,
        call.at,
        dlq_topic(group)
    )
}

/// The story of a failed message the group's committed offset on its queue passed, if it did.
fn failed_acked_story(
    index: &Index<'_>,
    group: &str,
    call: &Call,
    message: &ListenedMessage,
) -> Option<String> {
    let queue = queue_of(index.scenario, message);
    let committed = index
        .listener
        .committed
        .get(&(group.to_string(), queue.clone()))?;
    if *committed <= message.queue_offset {
        return None;
    }
    let (broker, topic, queue_id) = queue;
    let id = message.id?;
    Some(format!(
        "{}'s listener failed {id} ({broker}/{topic}/{queue_id}@{}) at {}; it was never \
         handed to a listener again nor dead-lettered, yet {group}'s committed offset there is \
         {committed}: a failure acknowledged as consumed",
        call.consumer, message.queue_offset, call.at
    ))
}

/// The anomaly, with the send-back's loss as its cause when there is one.
fn named_anomaly(
    kind: AnomalyKind,
    id: MessageId,
    at: Time,
    story: String,
    cause: Option<&String>,
) -> Anomaly {
    match cause {
        Some(why) => {
            Anomaly::new(kind, Some(id), at, format!("{story}; {why}")).because(SEND_BACK_LOST)
        }
        None => Anomaly::new(kind, Some(id), at, story),
    }
}

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

use crate::check::sends::{Anomaly, AnomalyKind};
use crate::history::{History, SimEvent};
use crate::scenario::Scenario;
use model::client::consumer::ConsumeMode;
use model::event::{Event, ListenedMessage};
use model::protocol::route::dlq_topic;
use model::{MessageId, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The figures per consumer group (by the group's name).
#[derive(Clone, Debug, Default)]
pub(super) struct ListenerFigures {
    pub orderly_overlaps: u64,
    pub retry_lost: u64,
    pub failed_acked: u64,
}

/// A queue: (broker, topic, queue id).
type Queue = (String, String, u32);

/// One listener call, as the application reported it.
struct Call {
    at: Time,
    /// When it left the listener: its start plus its duration, or its process's stop.
    end: Time,
    consumer: String,
    success: bool,
    crashed: bool,
    messages: Vec<ListenedMessage>,
}

/// The facts, gathered in one pass over the history.
#[derive(Default)]
struct Facts {
    /// Per consumer group: its listener calls, in time order.
    calls: BTreeMap<String, Vec<Call>>,
    /// Per group: the ids read back from its dead-letter queues.
    dead: BTreeMap<String, BTreeSet<MessageId>>,
    /// Per (group, queue): the committed offset on the group's master at the end.
    committed: BTreeMap<(String, Queue), u64>,
    read_back_done: bool,
    /// Groups whose dead-letter queues could not all be read.
    dlq_unread: BTreeSet<String>,
}

/// The figures of every group, and the anomalies with their witnesses.
pub(super) fn judge(
    scenario: &Scenario,
    history: &History,
) -> (BTreeMap<String, ListenerFigures>, Vec<Anomaly>) {
    let facts = gather(scenario, history);
    let mut figures: BTreeMap<String, ListenerFigures> = BTreeMap::new();
    let mut anomalies = Vec::new();
    for group in scenario.consumers.iter().filter(|g| !g.broadcasting) {
        let calls = facts.calls.get(&group.group).map_or(&[][..], Vec::as_slice);
        let entry = figures.entry(group.group.clone()).or_default();
        if group.mode == ConsumeMode::Orderly {
            entry.orderly_overlaps += overlaps(scenario, calls, &mut anomalies);
        }
        let dlq_known = facts.read_back_done && !facts.dlq_unread.contains(&group.group);
        if group.mode != ConsumeMode::LitePull && dlq_known {
            let (lost, acked) = failures(scenario, &group.group, calls, &facts, &mut anomalies);
            entry.retry_lost += lost;
            entry.failed_acked += acked;
        }
    }
    (figures, anomalies)
}

fn gather(scenario: &Scenario, history: &History) -> Facts {
    let mut facts = Facts::default();
    let group_of = |node: NodeId| {
        scenario
            .consumers
            .iter()
            .find(|g| g.nodes.contains(&node))
            .map(|g| g.group.clone())
    };
    for entry in history.entries() {
        let at = entry.at;
        if let (Some(SimEvent::Stopped { .. }), Some(node)) = (entry.sim(), entry.node) {
            // A stopped process is out of its listener.
            let Some(group) = group_of(node) else {
                continue;
            };
            let name = &scenario.nodes[node.index()].name;
            for call in facts.calls.entry(group).or_default().iter_mut().rev() {
                if call.consumer == *name && call.end > at {
                    call.end = at;
                }
            }
            continue;
        }
        match entry.model() {
            Some(Event::ListenerCall {
                messages,
                duration_ms,
                success,
                crashed,
            }) => {
                let Some(node) = entry.node else { continue };
                let Some(group) = group_of(node) else {
                    continue;
                };
                facts.calls.entry(group).or_default().push(Call {
                    at,
                    end: at.plus_ms(if *crashed { 0 } else { *duration_ms }),
                    consumer: scenario.nodes[node.index()].name.clone(),
                    success: *success,
                    crashed: *crashed,
                    messages: messages.clone(),
                });
            }
            Some(Event::ReadBack {
                topic,
                id: Some(id),
                ..
            }) => {
                if let Some(group) = topic.strip_prefix("%DLQ%") {
                    facts.dead.entry(group.to_string()).or_default().insert(*id);
                }
            }
            Some(Event::ReadBackFailed { topic, .. }) => {
                if let Some(group) = topic.strip_prefix("%DLQ%") {
                    facts.dlq_unread.insert(group.to_string());
                }
            }
            Some(Event::ReadBackDone { .. }) => facts.read_back_done = true,
            Some(Event::ConsumerProgress {
                group,
                broker,
                topic,
                queue_id,
                consumer_offset,
                ..
            }) => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                facts
                    .committed
                    .insert((group.clone(), queue), *consumer_offset);
            }
            _ => {}
        }
    }
    facts
}

/// The broker group that stored a message (its store host is one of the group's nodes).
fn broker_of(scenario: &Scenario, store_host: NodeId) -> String {
    scenario
        .broker_groups
        .iter()
        .find(|g| g.nodes.contains(&store_host))
        .map_or_else(|| format!("{store_host:?}"), |g| g.name.clone())
}

fn queue_of(scenario: &Scenario, message: &ListenedMessage) -> Queue {
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
                anomalies.push(Anomaly {
                    kind: AnomalyKind::OrderlyOverlap,
                    message: call.messages.first().and_then(|m| m.id).map(|id| id.to_string()),
                    at_ms: call.at.as_ms(),
                    cause: None,
                    explanation: format!(
                        "{other} was inside the listener for {broker}/{topic}/{queue_id} from {} to {} \
                         (offset {}), when {} entered it at {} (offset {}): two consumers of one orderly queue at once",
                        earlier.at,
                        earlier.end,
                        offset(earlier),
                        call.consumer,
                        call.at,
                        offset(call)
                    ),
                });
            }
            let last = inside.entry(call.consumer.as_str()).or_insert(call);
            if call.end > last.end {
                *last = call;
            }
        }
    }
    count
}

/// What became of each failure: (retry_lost, failed_acked) of one group.
fn failures(
    scenario: &Scenario,
    group: &str,
    calls: &[Call],
    facts: &Facts,
    anomalies: &mut Vec<Anomaly>,
) -> (u64, u64) {
    let dead = facts.dead.get(group);
    let is_dead = |id: &MessageId| dead.is_some_and(|d| d.contains(id));
    // Per message: when a call consumed it, and its calls' times.
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
    let (mut lost, mut acked) = (BTreeSet::new(), BTreeSet::new());
    for call in calls.iter().filter(|c| !c.success && !c.crashed) {
        for message in &call.messages {
            let Some(id) = message.id else { continue };
            // Consumed by some call (another owner of the queue may have had it too), or
            // parked in the DLQ: at-least-once holds.
            if is_dead(&id) || consumed.contains(&id) {
                continue;
            }
            if lost.insert(id) {
                anomalies.push(Anomaly {
                    kind: AnomalyKind::RetryLost,
                    message: Some(id.to_string()),
                    at_ms: call.at.as_ms(),
                    cause: None,
                    explanation: format!(
                        "{}'s listener failed {id} at {}; no listener of {group} ever consumed it, and it \
                         is in no {} queue: its retry was lost",
                        call.consumer,
                        call.at,
                        dlq_topic(group)
                    ),
                });
            }
            let followed_up = last_call.get(&id).is_some_and(|last| *last > call.at);
            let queue = queue_of(scenario, message);
            let committed = facts.committed.get(&(group.to_string(), queue.clone()));
            if !followed_up
                && let Some(committed) = committed
                && *committed > message.queue_offset
                && acked.insert(id)
            {
                let (broker, topic, queue_id) = queue;
                anomalies.push(Anomaly {
                    kind: AnomalyKind::FailedAcked,
                    message: Some(id.to_string()),
                    at_ms: call.at.as_ms(),
                    cause: None,
                    explanation: format!(
                        "{}'s listener failed {id} ({broker}/{topic}/{queue_id}@{}) at {}; it was never \
                         handed to a listener again nor dead-lettered, yet {group}'s committed offset there is \
                         {committed}: a failure acknowledged as consumed",
                        call.consumer,
                        message.queue_offset,
                        call.at
                    ),
                });
            }
        }
    }
    (lost.len() as u64, acked.len() as u64)
}

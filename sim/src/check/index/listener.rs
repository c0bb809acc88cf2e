//! The application's own record of each listener call (`ListenerCall`, emitted by the
//! workload's listener when it is called), closed by its process's stop, and the committed
//! offsets the auditor read from each group's current master at the end (`ConsumerProgress`).

use super::consumers::Queue;
use crate::history::SimEvent;
use crate::scenario::Scenario;
use model::event::{Event, ListenedMessage};
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// One listener call, as the application reported it.
#[derive(Clone)]
pub(in crate::check) struct Call {
    pub at: Time,
    /// When it left the listener: its start plus its duration, or its process's stop.
    pub end: Time,
    pub consumer: String,
    pub success: bool,
    pub crashed: bool,
    pub messages: Vec<ListenedMessage>,
}

#[derive(Default)]
pub(in crate::check) struct ListenerFacts {
    /// Per consumer group: its listener calls, in time order.
    pub calls: BTreeMap<String, Vec<Call>>,
    /// Per (group, queue): the committed offset on the group's master at the end.
    pub committed: BTreeMap<(String, Queue), u64>,
    /// Per (group, message): the send-backs a broker stored (as the broker reported them).
    pub sent_back: BTreeMap<(String, MessageId), Vec<SentBack>>,
    /// Calls their process's stop cut short, as they stood then.
    pub interrupted: Vec<Call>,
    /// Calls longer than a commit interval (`spec::PERSIST_CONSUMER_OFFSET_MS`), as reported.
    pub long: Vec<Call>,
}

/// A send-back a broker stored: when, where and which commitlog bytes.
#[derive(Clone, Debug)]
pub(in crate::check) struct SentBack {
    pub at: Time,
    pub node: NodeId,
    pub broker: String,
    pub put: u64,
    pub size: u32,
}

/// The consumer group a node belongs to.
fn group_of(scenario: &Scenario, node: NodeId) -> Option<&str> {
    let group = scenario.consumers.iter().find(|g| g.nodes.contains(&node));
    group.map(|g| g.group.as_str())
}

impl ListenerFacts {
    pub fn observe_sim(&mut self, scenario: &Scenario, at: Time, node: NodeId, event: &SimEvent) {
        let SimEvent::Stopped { .. } = event else {
            return;
        };
        // A stopped process is out of its listener.
        let Some(group) = group_of(scenario, node) else {
            return;
        };
        let name = &scenario.nodes[node.index()].name;
        let calls = self.calls.entry(group.to_string()).or_default();
        for call in calls.iter_mut().rev() {
            if call.consumer == *name && call.end > at {
                call.end = at;
                self.interrupted.push(call.clone());
            }
        }
    }

    pub fn observe(&mut self, scenario: &Scenario, at: Time, node: Option<NodeId>, event: &Event) {
        match event {
            Event::ListenerCall {
                messages,
                duration_ms,
                success,
                crashed,
            } => {
                let Some(node) = node else { return };
                let Some(group) = group_of(scenario, node) else {
                    return;
                };
                let call = Call {
                    at,
                    end: at.plus_ms(if *crashed { 0 } else { *duration_ms }),
                    consumer: scenario.nodes[node.index()].name.clone(),
                    success: *success,
                    crashed: *crashed,
                    messages: messages.clone(),
                };
                if call.end.ms_since(call.at) >= crate::check::spec::PERSIST_CONSUMER_OFFSET_MS {
                    self.long.push(call.clone());
                }
                self.calls.entry(group.to_string()).or_default().push(call);
            }
            Event::SentBack {
                broker,
                group,
                id: Some(id),
                put,
                size,
            } => {
                let Some(node) = node else { return };
                let back = SentBack {
                    at,
                    node,
                    broker: broker.clone(),
                    put: *put,
                    size: *size,
                };
                let key = (group.clone(), *id);
                self.sent_back.entry(key).or_default().push(back);
            }
            Event::ConsumerProgress {
                group,
                broker,
                topic,
                queue_id,
                consumer_offset,
                ..
            } => {
                let queue = (broker.clone(), topic.clone(), *queue_id);
                let key = (group.clone(), queue);
                self.committed.insert(key, *consumer_offset);
            }
            _ => {}
        }
    }
}

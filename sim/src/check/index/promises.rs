//! The facts a SEND_OK's promise is judged by: what the disks held of the record when a broker
//! answered (`Held`, read off the simulated disks by the harness), and every SEND_OK a
//! producer received from a group whose answers promise something.

use crate::history::{ReplicaHeld, SimEvent};
use crate::scenario::Scenario;
use crate::scenario::schema::{FlushMode, MasterRole};
use model::event::{Event, SendStatus};
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// What a SEND_OK answer promised, by its broker group's settings.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(in crate::check) struct Promise {
    /// SYNC_FLUSH: the record is on the answering machine's media.
    pub flushed: bool,
    /// How many other machines of the group hold the record: one under SYNC_MASTER with
    /// slaves, a quorum less the leader in a DLedger group, none otherwise.
    pub replicas: usize,
    /// The group is a DLedger group: its leader answers once a quorum holds the entry.
    pub quorum: bool,
}

/// What the disks held of a record when a broker answered SEND_OK for it.
#[derive(Clone, Debug)]
pub(in crate::check) struct Held {
    pub at: Time,
    /// How far into the record the answering machine's media held it.
    pub media: u64,
    /// How far each other machine of the group held the same bytes.
    pub replicas: Vec<ReplicaHeld>,
}

/// A SEND_OK a producer received.
#[derive(Clone, Debug)]
pub(in crate::check) struct Answer {
    pub at: Time,
    pub id: MessageId,
    pub store_host: NodeId,
    pub offset: u64,
    pub size: u32,
    pub promise: Promise,
}

#[derive(Debug, Default)]
pub(in crate::check) struct PromiseFacts {
    /// Per broker group, by name.
    promises: BTreeMap<String, Promise>,
    /// Per (answering node, commitlog offset), in history order (an offset a truncation
    /// reused is answered again).
    held: BTreeMap<(NodeId, u64), Vec<Held>>,
    pub answers: Vec<Answer>,
}

impl PromiseFacts {
    pub fn new(scenario: &Scenario) -> PromiseFacts {
        let promises = scenario.broker_groups.iter().map(|group| {
            let sync_master = group.role == MasterRole::SyncMaster && group.nodes.len() > 1;
            let replicas = match group.is_dledger() {
                true => group.nodes.len() / 2,
                false => usize::from(sync_master),
            };
            let promise = Promise {
                flushed: group.flush == FlushMode::Sync,
                replicas,
                quorum: group.is_dledger(),
            };
            (group.name.clone(), promise)
        });
        PromiseFacts {
            promises: promises
                .filter(|(_, p)| p.flushed || p.replicas > 0)
                .collect(),
            ..PromiseFacts::default()
        }
    }

    pub fn observe_sim(&mut self, at: Time, node: Option<NodeId>, event: &SimEvent) {
        let (
            Some(node),
            SimEvent::Held {
                offset,
                media,
                replicas,
                ..
            },
        ) = (node, event)
        else {
            return;
        };
        let held = Held {
            at,
            media: *media,
            replicas: replicas.clone(),
        };
        self.held.entry((node, *offset)).or_default().push(held);
    }

    pub fn observe(&mut self, at: Time, event: &Event) {
        let Event::SendOk {
            id,
            status: SendStatus::SendOk,
            broker,
            store_host,
            commit_log_offset,
            size,
            ..
        } = event
        else {
            return;
        };
        let Some(promise) = self.promises.get(broker) else {
            return;
        };
        self.answers.push(Answer {
            at,
            id: *id,
            store_host: *store_host,
            offset: *commit_log_offset,
            size: *size,
            promise: *promise,
        });
    }

    /// What the disks held of the answer's record when it was given: the last `Held` of its
    /// node and offset recorded by the time the producer received it.
    pub fn held(&self, answer: &Answer) -> Option<&Held> {
        let all = self.held.get(&(answer.store_host, answer.offset))?;
        all.iter().rev().find(|held| held.at <= answer.at)
    }
}

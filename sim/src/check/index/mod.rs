//! The index: the single fold over the history that every checker reads. Each part keeps the
//! facts of one side of the system, keyed for the checkers' lookups; none of them judges.
//!
//! - `sends`: what producers invoked and were answered, one record per message.
//! - `brokers`: each broker node's stops, rotted bytes, flushes, recoveries, slave reports.
//! - `read_back`: what the auditor read from every replica at the end (into the records, and
//!   per queue position), and what it could not read.
//! - `consumers`: what each audience was handed, and the story of consumers and queues.
//! - `ownership`: what each consumer's rebalances allocated to it, and the hand-overs.
//! - `listener`: the application's listener calls and the committed offsets at the end.
//! - `subscriptions`: what each consumer instance subscribes to (by tag).
//! - `routes`: removal and route catch-up times.
//! - `misplaced`: ConsumeQueue entries read back that lead elsewhere, and their known causes.
//! - `promises`: what the disks held when brokers answered SEND_OK, and the answers.
//! - `transactions`: local decisions, END_TRANSACTION, checks and discarded half messages.
//! - `elections`: the votes DLedger members granted and the leaderships they announced.
//! - `logs`: each DLedger member's log as it recorded it, and where the logs disagreed.
//! - `topics`: the read queues and permission clients saw at the end, and topic updates.
//! - `retention`: the CommitLog files retention deleted, and whether the settings allowed it.
//! - `recoveries`: where each abnormal recovery began, and where 4.9.8's rule begins it.

mod brokers;
mod consumers;
mod elections;
mod listener;
mod logs;
mod misplaced;
mod ownership;
pub(super) use ownership::Handover;
mod promises;
mod read_back;
mod recoveries;
mod retention;
mod routes;
mod sends;
mod subscriptions;
mod topics;
pub(super) mod transactions;

pub(crate) use brokers::BrokerFacts;
#[cfg(test)]
pub(super) use brokers::rotted_offset;
pub(super) use brokers::{BrokerTimeline, LagMark};
pub(super) use consumers::{
    Audience, ConsumerFacts, CopyDeliveries, ExtraCopy, Fate, Queue, Redelivery, Reset, Stale,
    Story,
};
pub(super) use elections::{ElectionFacts, Grant};
pub(super) use listener::{Call, ListenerFacts};
pub(super) use logs::{Disagreement, EntryFact, LogCommit, LogFacts, Removal};
pub(super) use misplaced::MisplacedFacts;
pub(super) use promises::{Answer, Held, PromiseFacts};
pub(super) use read_back::{Position, ReadBackFacts};
pub(super) use recoveries::{RecoveryFacts, RecoveryStart};
pub(super) use retention::{Deletion, KeyAnswer, RetentionFacts};
pub(super) use routes::RouteFacts;
pub(super) use sends::{Ack, Record, SendFacts};
pub(crate) use subscriptions::Subscription;
pub(super) use subscriptions::{Wanted, wanted};
pub(super) use topics::TopicFacts;
pub(super) use transactions::{Transaction, TransactionFacts};

use crate::history::{History, Recorded};
use crate::scenario::Scenario;

pub(super) struct Index<'a> {
    pub scenario: &'a Scenario,
    pub sends: SendFacts,
    pub brokers: BrokerFacts,
    pub read_back: ReadBackFacts,
    pub consumers: ConsumerFacts,
    pub listener: ListenerFacts,
    pub routes: RouteFacts,
    pub misplaced: MisplacedFacts,
    pub transactions: TransactionFacts,
    pub promises: PromiseFacts,
    pub elections: ElectionFacts,
    pub logs: LogFacts,
    pub topics: TopicFacts,
    pub retention: RetentionFacts,
    pub recoveries: RecoveryFacts,
    /// When the history ends.
    pub end: model::Time,
}

impl<'a> Index<'a> {
    /// Folds the history into the facts, in one pass.
    pub fn build(scenario: &'a Scenario, history: &History) -> Index<'a> {
        let mut index = Index {
            scenario,
            sends: SendFacts::new(scenario),
            brokers: BrokerFacts::new(scenario),
            read_back: ReadBackFacts::new(scenario),
            consumers: ConsumerFacts::new(scenario),
            listener: ListenerFacts::default(),
            routes: RouteFacts::default(),
            misplaced: MisplacedFacts::default(),
            transactions: TransactionFacts::default(),
            promises: PromiseFacts::new(scenario),
            elections: ElectionFacts::default(),
            logs: LogFacts::new(scenario),
            topics: TopicFacts::default(),
            retention: RetentionFacts::default(),
            recoveries: RecoveryFacts::default(),
            end: history.end(),
        };
        for entry in history.entries() {
            let (at, node) = (entry.at, entry.node);
            match &entry.event {
                Recorded::Sim(event) => {
                    let name = node.map(|n| scenario.nodes[n.index()].name.as_str());
                    index.sends.observe_sim(at, name, event);
                    index.brokers.observe_sim(at, node, event);
                    index.promises.observe_sim(at, node, event);
                    let (Some(node), Some(name)) = (node, name) else {
                        continue;
                    };
                    index.consumers.observe_sim(at, name, event);
                    index.listener.observe_sim(scenario, at, node, event);
                    index.routes.observe_sim(at, node, event);
                    index.retention.observe_sim(scenario, at, node, event);
                    index.recoveries.observe_sim(node, event);
                }
                Recorded::Model(event) => {
                    index.sends.observe(at, node, event);
                    index.brokers.observe(at, node, event);
                    index.read_back.observe(at, event, &mut index.sends);
                    index.consumers.observe(at, event, &index.sends);
                    index.listener.observe(scenario, at, node, event);
                    index.transactions.observe(at, node, event);
                    index.promises.observe(at, event);
                    index.elections.observe(at, node, event);
                    index.logs.observe(at, event);
                    index.topics.observe(at, event);
                    index.retention.observe(at, event);
                    index.recoveries.observe(at, node, event);
                    if let Some(node) = node {
                        index.routes.observe(at, node, event);
                        index.misplaced.observe(at, node, event);
                    }
                }
            }
        }
        let end = history.end();
        index.consumers.story.ownership.finish(end);
        index.sends.finish();
        index
    }

    /// A node's name.
    pub fn name(&self, node: model::NodeId) -> &str {
        &self.scenario.nodes[node.index()].name
    }
}

/// A message's entry in a table indexed densely by producer and sequence number, which grows
/// as needed (message ids are dense, so the table stays small and lookups stay O(1)).
pub(super) fn dense_entry<T: Default>(table: &mut Vec<Vec<T>>, id: model::MessageId) -> &mut T {
    let producer = id.producer as usize;
    if table.len() <= producer {
        table.resize_with(producer + 1, Vec::new);
    }
    let seq = id.seq as usize;
    if table[producer].len() <= seq {
        table[producer].resize_with(seq + 1, T::default);
    }
    &mut table[producer][seq]
}

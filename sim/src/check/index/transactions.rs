//! Transactional messages: what each application decided (`TransactionDecided`, emitted by
//! the application itself from its own database), what its producer sent (END_TRANSACTION),
//! what brokers did (ends handled, checks, discards: the model's word, for the stories), and
//! the discarded copies the auditor read back from `TRANS_CHECK_MAX_TIME_TOPIC`.

use model::event::{Event, SendMode, TransactionState};
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// An END_TRANSACTION a producer sent.
#[derive(Clone, Debug)]
pub(in crate::check) struct EndSent {
    pub at: Time,
    pub state: TransactionState,
    pub from_check: bool,
    pub to: Option<NodeId>,
}

/// An END_TRANSACTION a broker handled.
#[derive(Clone, Debug)]
pub(in crate::check) struct Ended {
    pub at: Time,
    pub node: Option<NodeId>,
    pub broker: String,
    pub state: TransactionState,
    pub from_check: bool,
    /// The real message's commitlog offset and size, when it was put.
    pub put: Option<(u64, u32)>,
    pub refused: Option<String>,
    /// The transaction the request named, when the half at its offsets was another's.
    pub for_other: Option<MessageId>,
}

/// A check-back: the copy number, and the producer asked (none: the group had no channel).
#[derive(Clone, Debug)]
pub(in crate::check) struct Checked {
    pub at: Time,
    pub broker: String,
    pub times: u32,
    pub producer: Option<NodeId>,
}

/// Everything known about one transactional message.
#[derive(Clone, Debug, Default)]
pub(in crate::check) struct Transaction {
    pub decided: Option<(Time, TransactionState)>,
    pub ends_sent: Vec<EndSent>,
    pub ended: Vec<Ended>,
    pub checks: Vec<Checked>,
    /// Discarded copies read back: (broker, queue offset).
    pub discarded: Vec<(String, u64)>,
    /// Its END_TRANSACTION found another transaction's half at its offsets: (when, broker,
    /// whose half, whether it put that one).
    pub took_other: Vec<(Time, String, MessageId, bool)>,
}

#[derive(Default)]
pub(in crate::check) struct TransactionFacts {
    pub transactions: BTreeMap<MessageId, Transaction>,
}

impl TransactionFacts {
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        let list = &mut self.transactions;
        match event {
            Event::SendInvoke { id, mode, .. } if *mode == SendMode::Transaction => {
                list.entry(*id).or_default();
            }
            Event::TransactionDecided { id, state } => {
                list.entry(*id).or_default().decided = Some((at, *state));
            }
            Event::TransactionEndSent {
                id,
                state,
                from_check,
                to,
            } => list.entry(*id).or_default().ends_sent.push(EndSent {
                at,
                state: *state,
                from_check: *from_check,
                to: *to,
            }),
            Event::TransactionEnded {
                broker,
                id: Some(id),
                requested,
                state,
                from_check,
                put,
                size,
                refused,
                ..
            } => {
                let for_other = requested.filter(|named| named != id);
                list.entry(*id).or_default().ended.push(Ended {
                    at,
                    node,
                    broker: broker.clone(),
                    state: *state,
                    from_check: *from_check,
                    put: put.map(|offset| (offset, *size)),
                    refused: refused.clone(),
                    for_other,
                });
                if let Some(named) = for_other {
                    let took = (at, broker.clone(), *id, put.is_some());
                    list.entry(named).or_default().took_other.push(took);
                }
            }
            Event::TransactionChecked {
                broker,
                id: Some(id),
                times,
                producer,
                ..
            } => list.entry(*id).or_default().checks.push(Checked {
                at,
                broker: broker.clone(),
                times: *times,
                producer: *producer,
            }),
            Event::ReadBack {
                broker,
                topic,
                queue_offset,
                id: Some(id),
                ..
            } if topic == crate::check::spec::TRANSACTION_DISCARD_TOPIC => {
                let discarded = &mut list.entry(*id).or_default().discarded;
                let copy = (broker.clone(), *queue_offset);
                if !discarded.contains(&copy) {
                    discarded.push(copy);
                }
            }
            _ => {}
        }
    }
}

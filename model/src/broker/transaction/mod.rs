//! Transactional messages on the broker, as 4.9.8 has them (`TransactionalMessageBridge`,
//! `EndTransactionProcessor`, `TransactionalMessageServiceImpl`).
//!
//! A half message is stored in `RMQ_SYS_TRANS_HALF_TOPIC` (queue 0) with its real topic and
//! queue in its properties, where no consumer sees it. END_TRANSACTION commits it (the real
//! message is put, then an op message marks the half done) or rolls it back (the op message
//! only). Op messages live in `RMQ_SYS_TRANS_OP_HALF_TOPIC`, their body the half's queue
//! offset. The broker keeps no other state: a repeated commit stores the message again
//! (#5574). `check` is the service that asks producers about halves nobody resolved.

mod check;
mod producers;

pub use check::CheckLoop;
pub use producers::Producers;

use super::Running;
use super::store::Appended;
use super::store::record::{StoreRequest, StoredMessage};
use crate::event::{Event, TransactionState};
use crate::ids::MessageId;
use crate::message::{decode_properties, encode_properties, property};
use crate::node::Context;
use crate::protocol::{EndTransaction, ResponseCode};
use std::collections::BTreeMap;

/// Where half messages wait (`TransactionalMessageUtil.buildHalfTopic`).
pub const HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
/// Where op messages mark halves resolved (`buildOpTopic`).
pub const OP_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
/// Where halves checked `transactionCheckMax` times go (`TopicValidator`).
pub const DISCARD_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
/// The group whose offsets are the check's progress (`buildConsumerGroup`).
pub const CHECK_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// The op message's tag (`REMOVETAG`).
const REMOVE_TAG: &str = "d";

/// `MessageSysFlag`'s transaction bits.
pub mod sys_flag {
    /// A half message as stored in the half topic: an ordinary record there.
    pub const NOT_TYPE: i32 = 0;
    /// A half message as its producer flags it (`TRANSACTION_PREPARED_TYPE`).
    pub const PREPARED: i32 = 1 << 2;
    pub const COMMIT: i32 = 2 << 2;
    pub const ROLLBACK: i32 = 3 << 2;
    const MASK: i32 = 3 << 2;

    /// `resetTransactionValue`.
    pub fn with(flag: i32, kind: i32) -> i32 {
        (flag & !MASK) | kind
    }

    /// `CommitLogDispatcherBuildConsumeQueue`: prepared and rolled-back records get no
    /// ConsumeQueue entry.
    pub fn dispatched(flag: i32) -> bool {
        !matches!(flag & MASK, PREPARED | ROLLBACK)
    }

    /// A rollback's record (`CommitLogDispatcherBuildIndex` skips it).
    pub fn rolled_back(flag: i32) -> bool {
        flag & MASK == ROLLBACK
    }
}

/// Whether a producer sent this message as a half message.
pub fn is_half(properties: &BTreeMap<String, String>) -> bool {
    properties
        .get(property::TRANSACTION_PREPARED)
        .map(String::as_str)
        == Some("true")
}

/// `parseHalfMessageInner`: a half message goes to the half topic, queue 0, with its real
/// topic and queue kept in its properties.
pub fn rewrite_half(request: &mut StoreRequest) {
    let mut properties = decode_properties(&request.properties);
    properties.insert(property::REAL_TOPIC.to_string(), request.topic.clone());
    let queue = request.queue_id.to_string();
    properties.insert(property::REAL_QUEUE_ID.to_string(), queue);
    request.properties = encode_properties(&properties);
    request.sys_flag = sys_flag::with(request.sys_flag, sys_flag::NOT_TYPE);
    request.topic = HALF_TOPIC.to_string();
    request.queue_id = 0;
}

/// `endMessageTransaction`: the real message a committed half becomes, in its real topic and
/// queue, flagged COMMIT, not waiting for flush or slave (`setWaitStoreMsgOK(false)`).
fn real_message(half: &StoredMessage) -> Option<StoreRequest> {
    let mut properties = half.properties.clone();
    let topic = properties.remove(property::REAL_TOPIC)?;
    let queue_id = properties.remove(property::REAL_QUEUE_ID)?.parse().ok()?;
    properties.insert(property::WAIT_STORE_MSG_OK.to_string(), "false".into());
    Some(StoreRequest {
        topic,
        queue_id,
        flag: half.flag,
        sys_flag: sys_flag::COMMIT,
        body: half.body.clone(),
        properties: encode_properties(&properties),
        born_timestamp_ms: half.born_timestamp_ms,
        born_host: half.born_host,
        reconsume_times: half.reconsume_times,
    })
}

/// `makeOpMessageInner`: marks the half at `half_queue_offset` resolved.
fn op_message(half: &StoredMessage, half_queue_offset: u64, now_ms: u64) -> StoreRequest {
    let mut properties = BTreeMap::new();
    properties.insert(property::TAGS.to_string(), REMOVE_TAG.to_string());
    properties.insert(property::WAIT_STORE_MSG_OK.to_string(), "false".into());
    StoreRequest {
        topic: OP_TOPIC.to_string(),
        queue_id: 0,
        flag: 0,
        sys_flag: sys_flag::NOT_TYPE,
        body: half_queue_offset.to_string().into_bytes(),
        properties: encode_properties(&properties),
        born_timestamp_ms: now_ms,
        born_host: half.store_host,
        reconsume_times: 0,
    }
}

/// What END_TRANSACTION did, for the history.
struct Ended {
    put: Option<(u64, u32)>,
    refused: Option<String>,
    /// The id of the half the record at the named offsets holds, when one was found.
    half: Option<MessageId>,
}

impl Ended {
    fn refused(why: impl Into<String>) -> Ended {
        Ended {
            put: None,
            refused: Some(why.into()),
            half: None,
        }
    }
}

impl Running {
    /// `EndTransactionProcessor.processRequest` (a oneway request: nothing is answered).
    pub(super) fn handle_end_transaction(&mut self, ctx: &mut Context<'_>, end: EndTransaction) {
        let ended = self.end_transaction(ctx, &end);
        let (put, size) = ended.put.map_or((None, 0), |(at, size)| (Some(at), size));
        let requested = MessageId::from_uniq_key(&end.msg_id);
        ctx.emit(Event::TransactionEnded {
            broker: self.config.broker_name.clone(),
            // The half the record holds: `checkPrepareMessage` compares no id, so after a
            // broker lost its log it may be another transaction's.
            id: ended.half.or(requested),
            requested,
            state: end.state,
            from_check: end.from_transaction_check,
            half_offset: end.commit_log_offset,
            put,
            size,
            refused: ended.refused,
        });
    }

    fn end_transaction(&mut self, ctx: &mut Context<'_>, end: &EndTransaction) -> Ended {
        if !self.config.role.is_master() {
            return Ended::refused(ResponseCode::SlaveNotAvailable.name());
        }
        if end.state == TransactionState::Unknown {
            return Ended::refused("UNKNOW: nothing to do");
        }
        let puts = end.state == TransactionState::Commit || self.config.bugs.rollback_puts_message;
        let store = &mut self.store;
        let Some(half) = store.look_message_by_offset(ctx.disk(), end.commit_log_offset) else {
            return Ended::refused("SYSTEM_ERROR: find prepared transaction message failed");
        };
        if let Err(why) = check_prepare_message(&half, end) {
            crate::probe!(TXN_REFUSED);
            return Ended {
                half: half.message_id(),
                ..Ended::refused(why)
            };
        }
        match end.state {
            TransactionState::Commit => crate::probe!(TXN_COMMIT),
            _ => crate::probe!(TXN_ROLLBACK),
        }
        let mut ended = Ended {
            put: None,
            refused: None,
            half: half.message_id(),
        };
        if puts {
            let Some(real) = real_message(&half) else {
                return Ended::refused("SYSTEM_ERROR: no real topic in the half message");
            };
            crate::invariant!(
                ![HALF_TOPIC, OP_TOPIC].contains(&real.topic.as_str()),
                "commit-leaves-system-topics",
                "the half at commitlog {} would be committed into {}",
                end.commit_log_offset,
                real.topic
            );
            match store.put(ctx, &real) {
                Ok(appended) => {
                    check_after_half(&half, &appended, "commit");
                    ended.put = Some((appended.physical_offset, appended.bytes as u32));
                }
                Err(error) => return Ended::refused(format!("put failed: {error:?}")),
            }
        }
        // `deletePrepareMessage`: the op message; its put result is ignored.
        let op = op_message(&half, half.queue_offset, ctx.wall_clock_ms());
        if let Ok(appended) = store.put(ctx, &op) {
            check_after_half(&half, &appended, "op message");
        }
        ended
    }
}

/// What END_TRANSACTION stores lands past the half it read: the half is in the log, and a put
/// appends at the log's end.
fn check_after_half(half: &StoredMessage, appended: &Appended, what: &str) {
    crate::invariant!(
        appended.physical_offset > half.commit_log_offset,
        "txn-end-stored-after-its-half",
        "the {what} for the half at {} was stored at {}",
        half.commit_log_offset,
        appended.physical_offset
    );
}

/// `checkPrepareMessage`: the record at the offset is the half the request names.
fn check_prepare_message(half: &StoredMessage, end: &EndTransaction) -> Result<(), String> {
    if half.property(property::PRODUCER_GROUP) != Some(end.producer_group.as_str()) {
        return Err("SYSTEM_ERROR: the producer group is different".into());
    }
    if half.queue_offset != end.tran_state_table_offset {
        return Err("SYSTEM_ERROR: the transaction state table offset is wrong".into());
    }
    if half.commit_log_offset != end.commit_log_offset {
        return Err("SYSTEM_ERROR: the commit log offset is wrong".into());
    }
    Ok(())
}

//! The transaction check (`TransactionalMessageCheckService`, `TransactionalMessageServiceImpl
//! .check`): every `transactionCheckInterval`, a master walks its half queue from the check's
//! progress. A half that an op message marks done is passed; one checked `transactionCheckMax`
//! times is discarded; one stored after the round began or younger than `transactionTimeOut`
//! ends the round; any other is re-put as a copy with its check count raised, and a producer of
//! its group is asked about the copy (CHECK_TRANSACTION_STATE, oneway). The progress is the
//! `CID_RMQ_SYS_TRANS` group's offsets on the half and op queues.
//!
//! 4.9.8 reads op messages 32 at a time and reads more before it asks about a half; here the
//! round reads them all first, which decides the same halves. Its loop runs every interval
//! from the broker's start; here it sleeps while no half message waits (a round would find
//! nothing), and wakes in the same phase.

use super::Producers;
use super::{CHECK_GROUP, DISCARD_TOPIC, HALF_TOPIC, OP_TOPIC, REMOVE_TAG};
use crate::broker::offsets::Offsets;
use crate::broker::store::MessageStore;
use crate::broker::store::record::{StoreRequest, StoredMessage};
use crate::broker::topics::Topics;
use crate::broker::{BrokerConfig, BrokerTimer, Pending, Running};
use crate::disk::Disk;
use crate::event::Event;
use crate::ids::RequestId;
use crate::message::{encode_properties, property};
use crate::node::Context;
use crate::protocol::{CheckTransactionState, Request};
use crate::time::Time;
use crate::timer::Timer;
use std::collections::{BTreeMap, BTreeSet};

/// What the op queue says: half offset -> op offset, and the op offsets already done with.
#[derive(Default)]
struct OpView {
    removed: BTreeMap<u64, u64>,
    done: BTreeSet<u64>,
}

/// `fillOpRemoveMap`, for every op message from `op_offset` on.
fn read_ops(store: &MessageStore, disk: &dyn Disk, op_offset: u64, half_offset: u64) -> OpView {
    let mut view = OpView::default();
    let Some(queue) = store.consume_queue(OP_TOPIC, 0) else {
        return view;
    };
    let mut offset = op_offset.max(queue.min_offset());
    while let Some(entries) = queue.entries(disk, offset, 32) {
        for entry in entries {
            let op = store.look_message_by_offset(disk, entry.commit_log_offset);
            let marked = op
                .as_ref()
                .filter(|m| m.property(property::TAGS) == Some(REMOVE_TAG));
            let half = marked.and_then(|m| std::str::from_utf8(&m.body).ok()?.parse().ok());
            match half {
                Some(half) if half < half_offset => {
                    view.done.insert(offset);
                }
                Some(half) => {
                    view.removed.insert(half, offset);
                }
                None => {}
            }
            offset += 1;
        }
    }
    view
}

/// `calculateOpOffset`: past every op done with, as far as they are contiguous.
fn next_op_offset(done: &BTreeSet<u64>, old: u64) -> u64 {
    let mut next = old;
    for offset in done.range(old..) {
        if *offset != next {
            break;
        }
        next += 1;
    }
    next
}

/// The op progress moves forward, over ops the round is done with only; none of those lies
/// before the progress it started from.
fn check_op_progress(done: &BTreeSet<u64>, old: u64, next: u64) {
    crate::invariant!(
        done.first().is_none_or(|first| *first >= old),
        "txn-check-done-ops-not-before-progress",
        "an op at {:?} done with in a round from op offset {old}",
        done.first()
    );
    crate::invariant!(
        next >= old && (next == old || done.contains(&(next - 1))),
        "txn-check-op-progress-moves-forward",
        "the op progress went from {old} to {next}"
    );
}

/// The half message at a half-queue offset, or `None` past the queue's end.
fn half_at(store: &MessageStore, disk: &dyn Disk, offset: u64) -> Option<Option<StoredMessage>> {
    let queue = store.consume_queue(HALF_TOPIC, 0)?;
    let entry = queue.entries(disk, offset, 1)?.into_iter().next()?;
    Some(store.look_message_by_offset(disk, entry.commit_log_offset))
}

/// A half message stored again: the copy the check asks about (`renewHalfMessageInner`), or
/// the one it discards (`toMessageExtBrokerInner` into the discard topic).
fn copy_of(half: &StoredMessage, topic: &str) -> StoreRequest {
    StoreRequest {
        topic: topic.to_string(),
        queue_id: 0,
        flag: half.flag,
        sys_flag: super::sys_flag::NOT_TYPE,
        body: half.body.clone(),
        properties: encode_properties(&half.properties),
        born_timestamp_ms: half.born_timestamp_ms,
        born_host: half.born_host,
        reconsume_times: half.reconsume_times,
    }
}

/// What the round does with one half.
enum Step {
    Discard(u32),
    Check(u32),
    Stop,
}

/// The check's loop: rounds keep the phase of a loop that started with the broker, every
/// interval. Without half messages a round finds nothing, so the loop sleeps until one arrives.
pub struct CheckLoop {
    started_at: Time,
    armed: bool,
}

impl CheckLoop {
    pub fn new(started_at: Time) -> CheckLoop {
        CheckLoop {
            started_at,
            armed: false,
        }
    }

    /// Arms the next round, if a half message waits and none is armed.
    fn arm(&mut self, ctx: &mut Context<'_>, interval_ms: u64, backlog: u64) {
        if self.armed || backlog == 0 {
            return;
        }
        self.armed = true;
        let since_start = ctx.now().ms_since(self.started_at);
        let delay = interval_ms - since_start % interval_ms;
        ctx.set_timer(delay, Timer::Broker(BrokerTimer::TransactionCheck));
    }
}

/// What a round works on: the broker's store and tables, and its settings.
struct Round<'a> {
    config: &'a BrokerConfig,
    store: &'a mut MessageStore,
    offsets: &'a mut Offsets,
    topics: &'a mut Topics,
    producers: &'a mut Producers,
    /// Registrations with the name servers in flight (a new discard topic registers).
    pending: &'a mut BTreeMap<RequestId, Pending>,
}

impl Running {
    /// Arms the next round of a master's check, if a half message waits.
    pub(in crate::broker) fn arm_transaction_check(&mut self, ctx: &mut Context<'_>) {
        if self.config.role.is_master() {
            let backlog = self.transaction_backlog();
            let interval = self.config.transaction.check_interval_ms;
            self.check_loop.arm(ctx, interval, backlog);
        }
    }

    pub(in crate::broker) fn transaction_check(&mut self, ctx: &mut Context<'_>) {
        self.check_loop.armed = false;
        if self.config.role.is_master() {
            let mut round = Round {
                config: &self.config,
                store: &mut self.store,
                offsets: &mut self.offsets,
                topics: &mut self.topics,
                producers: &mut self.producers,
                pending: &mut self.pending,
            };
            round.run(ctx);
        }
        self.arm_transaction_check(ctx);
    }

    /// Half messages the check has not passed yet, for the runtime info.
    pub(in crate::broker) fn transaction_backlog(&self) -> u64 {
        let end = self.store.max_offset_in_queue(HALF_TOPIC, 0);
        end.saturating_sub(check_progress(&self.store, &self.offsets, HALF_TOPIC))
    }
}

/// How far the check has come in a queue (`fetchConsumeOffset`: the queue's first offset
/// when the group has none).
fn check_progress(store: &MessageStore, offsets: &Offsets, topic: &str) -> u64 {
    let first = store.min_offset_in_queue(topic, 0);
    offsets.query(CHECK_GROUP, topic, 0).unwrap_or(first)
}

impl Round<'_> {
    fn check_progress(&self, topic: &str) -> u64 {
        check_progress(self.store, self.offsets, topic)
    }

    fn run(&mut self, ctx: &mut Context<'_>) {
        let start = ctx.wall_clock_ms();
        let (half_offset, op_offset) = (
            self.check_progress(HALF_TOPIC),
            self.check_progress(OP_TOPIC),
        );
        let store = &*self.store;
        let end = store.max_offset_in_queue(HALF_TOPIC, 0);
        let mut ops = match self.config.bugs.check_ignores_op_messages {
            true => OpView::default(),
            false => read_ops(store, ctx.disk(), op_offset, half_offset),
        };
        let mut next = half_offset;
        while next < end {
            if let Some(op) = ops.removed.remove(&next) {
                crate::probe!(TXN_CHECK_OP_DONE);
                ops.done.insert(op);
                next += 1;
                continue;
            }
            let store = &*self.store;
            let Some(half) = half_at(store, ctx.disk(), next) else {
                break;
            };
            let Some(half) = half else {
                next += 1; // Unreadable: passed, as a pull past it would.
                continue;
            };
            match self.step(&half, start) {
                Step::Stop => break,
                Step::Discard(times) => self.discard(ctx, &half, times),
                Step::Check(times) => {
                    if !self.ask_producer(ctx, &half, times) {
                        break;
                    }
                }
            }
            next += 1;
        }
        crate::invariant!(
            next >= half_offset,
            "check-progress-moves-forward",
            "a round started at half offset {half_offset} and ended at {next}"
        );
        crate::invariant!(
            next <= end.max(half_offset),
            "txn-check-round-within-half-queue",
            "a round from {half_offset} passed the half queue's end {end}, to {next}"
        );
        // Only what moved is written, as 4.9.8 does.
        if next != half_offset {
            self.offsets.commit(CHECK_GROUP, HALF_TOPIC, 0, next);
        }
        let op_next = next_op_offset(&ops.done, op_offset);
        check_op_progress(&ops.done, op_offset, op_next);
        if op_next != op_offset {
            self.offsets.commit(CHECK_GROUP, OP_TOPIC, 0, op_next);
        }
        self.check_progress_kept(HALF_TOPIC, half_offset, next);
        self.check_progress_kept(OP_TOPIC, op_offset, op_next);
    }

    /// The progress a round ends with is what the next round starts from.
    fn check_progress_kept(&self, topic: &str, from: u64, to: u64) {
        let kept = self.check_progress(topic);
        crate::invariant!(
            kept == to,
            "txn-check-progress-read-back",
            "a round took {topic} from {from} to {to}, and the next would start at {kept}"
        );
    }

    /// `needDiscard`, then the round's stopping rules, for a half no op message resolved.
    fn step(&self, half: &StoredMessage, start_ms: u64) -> Step {
        let times: u32 = half
            .property(property::TRANSACTION_CHECK_TIMES)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        if times >= self.config.transaction.check_max {
            return Step::Discard(times);
        }
        if half.store_timestamp_ms >= start_ms {
            return Step::Stop;
        }
        let age = start_ms as i64 - half.born_timestamp_ms as i64;
        let timeout = self.config.transaction.timeout_ms as i64;
        // `isNeedCheck`, every op message read: older than the timeout, or born in the future.
        if age > timeout || age < 0 {
            Step::Check(times + 1)
        } else {
            Step::Stop
        }
    }

    fn discard(&mut self, ctx: &mut Context<'_>, half: &StoredMessage, times: u32) {
        crate::probe!(TXN_DISCARD);
        if self.topics.create_if_missing(ctx.disk(), DISCARD_TOPIC, 1) {
            crate::broker::register_all(ctx, self.config, self.topics, self.pending);
        }
        let store = &mut *self.store;
        let _ = store.put(ctx, &copy_of(half, DISCARD_TOPIC));
        ctx.emit(Event::TransactionDiscarded {
            broker: self.config.broker_name.clone(),
            id: half.message_id(),
            times,
        });
    }

    /// `putBackHalfMsgQueue`, then `resolveHalfMsg`: re-puts the half with its check count
    /// and asks a producer of its group about the copy. False if the copy was not stored.
    fn ask_producer(&mut self, ctx: &mut Context<'_>, half: &StoredMessage, times: u32) -> bool {
        let mut copy = half.clone();
        copy.properties
            .insert(property::TRANSACTION_CHECK_TIMES.into(), times.to_string());
        let store = &mut *self.store;
        let Ok(appended) = store.put(ctx, &copy_of(&copy, HALF_TOPIC)) else {
            return false;
        };
        let group = half.property(property::PRODUCER_GROUP).unwrap_or_default();
        let producer = self.producers.available_channel(group);
        let msg_id = half.property(property::UNIQ_KEY).unwrap_or_default();
        if let Some(producer) = producer {
            crate::probe!(TXN_CHECK);
            let check = CheckTransactionState {
                producer_group: group.to_string(),
                tran_state_table_offset: appended.queue_offset,
                commit_log_offset: appended.physical_offset,
                msg_id: msg_id.to_string(),
            };
            ctx.oneway(producer, Request::CheckTransactionState(check));
        }
        ctx.emit(Event::TransactionChecked {
            broker: self.config.broker_name.clone(),
            id: half.message_id(),
            times,
            half_offset: appended.physical_offset,
            producer,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_op_offset_moves_past_contiguous_done_ops_only() {
        let done: BTreeSet<u64> = [3, 4, 6].into_iter().collect();
        assert_eq!(next_op_offset(&done, 3), 5);
        assert_eq!(next_op_offset(&done, 2), 2);
    }
}

//! The consume services (`ConsumeMessageConcurrentlyService`, `ConsumeMessageOrderlyService`,
//! and the lite pull consumer's `poll`): a pool of consume threads runs the listener; results
//! move the committed offset, and failures go back to the broker for a delayed retry
//! (concurrent) or are retried in place after a pause (orderly). A lite pull application is one
//! thread polling the pulled batches in order; a batch's offset moves when it is polled and is
//! committed at a later poll, at most every 5 s (`maybeAutoCommit`).
//!
//! Here the thread pool and the concurrent service's results; `send_back` (failures back to
//! the broker), `orderly` (the orderly service's results) and `lite` (the lite pull
//! application's poll) are files of their own.

use super::{ConsumeMode, Consumer, ConsumerPending, ConsumerTimer, consumer_timer};
use crate::broker::store::record::StoredMessage;
use crate::client::producer::SendOutcome;
use crate::client::{ClientCore, Pending};
use crate::event::{Event, SendMode};
use crate::message::{Message, property};
use crate::node::{Context, RpcError};
use crate::protocol::route::{MASTER_ID, retry_topic};
use crate::protocol::{MessageQueue, Request, Response, ResponseCode, SendMsgBack};
use crate::time::Time;
use std::collections::{BTreeMap, VecDeque};

mod lite;
mod orderly;
mod send_back;

/// A message whose send-back failed is consumed again locally this much later.
const RECONSUME_LATER_LOCALLY_MS: u64 = 5_000;
/// `CONSUMER_SEND_MSG_BACK`'s timeout.
const SEND_BACK_TIMEOUT_MS: u64 = 5_000;
/// An orderly request that finds its queue unlocked tries again this much later.
const ORDERLY_RELOCK_DELAY_MS: u64 = 3_000;
/// `DefaultLitePullConsumer.autoCommitIntervalMillis`.
const AUTO_COMMIT_INTERVAL_MS: u64 = 5_000;
/// `DefaultLitePullConsumer.pollTimeoutMillis`.
const POLL_TIMEOUT_MS: u64 = 5_000;

#[derive(Clone, Debug)]
pub(super) struct ConsumeRequest {
    queue: MessageQueue,
    pq: u64,
    msgs: Vec<StoredMessage>,
    success: bool,
    /// Send-backs still in flight, and the messages whose send-back failed.
    outstanding: usize,
    back_failed: Vec<usize>,
    /// Whether this request holds one of the consume threads.
    running: bool,
    /// When the listener got the batch.
    started: Time,
}

#[derive(Clone, Debug)]
pub(super) struct ConsumeService {
    threads: usize,
    running: usize,
    waiting: VecDeque<u64>,
    requests: BTreeMap<u64, ConsumeRequest>,
    /// Retries the broker could not take, sent by the inner producer: op -> (request, index).
    fallbacks: BTreeMap<u64, (u64, usize)>,
    next: u64,
    /// Lite pull: each owned queue's offset as of the last poll, committed at the next auto
    /// commit (`AssignedMessageQueue.consumerOffset`).
    polled: BTreeMap<MessageQueue, u64>,
    /// Lite pull: when a poll commits again (`nextAutoCommitDeadline`).
    next_auto_commit: Time,
    /// Lite pull: counts the batches polled, so that a poll timeout can tell whether the
    /// application has been idle since it started waiting.
    idle_generation: u64,
}

impl ConsumeService {
    pub(super) fn new(threads: usize) -> ConsumeService {
        ConsumeService {
            threads: threads.max(1),
            running: 0,
            waiting: VecDeque::new(),
            requests: BTreeMap::new(),
            fallbacks: BTreeMap::new(),
            next: 0,
            polled: BTreeMap::new(),
            next_auto_commit: Time::ZERO,
            idle_generation: 0,
        }
    }

    pub(super) fn busy(&self) -> bool {
        !self.requests.is_empty()
    }

    /// Requests waiting for a thread (for a lite pull consumer: `consumeRequestCache`).
    pub(super) fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// A running request gave its consume thread back.
    fn thread_freed(&mut self) {
        crate::invariant!(
            self.running > 0,
            "consume-thread-freed-once",
            "a consume thread freed with none running ({} requests, {} waiting)",
            self.requests.len(),
            self.waiting.len()
        );
        self.running -= 1;
    }

    /// A queue is no longer owned: what was polled from it is not committed.
    pub(super) fn forget(&mut self, queue: &MessageQueue) {
        self.polled.remove(queue);
    }

    fn add(&mut self, queue: &MessageQueue, pq: u64, msgs: Vec<StoredMessage>) -> u64 {
        self.next += 1;
        let request = ConsumeRequest {
            queue: queue.clone(),
            pq,
            msgs,
            success: false,
            outstanding: 0,
            back_failed: Vec::new(),
            running: false,
            started: Time::ZERO,
        };
        self.requests.insert(self.next, request);
        self.next
    }
}

impl Consumer {
    /// `submitConsumeRequest`.
    pub(super) fn submit_consume(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
        pq: u64,
        msgs: Vec<StoredMessage>,
        dispatch: bool,
    ) {
        match self.config.mode {
            ConsumeMode::Orderly => {
                if dispatch {
                    let id = self.consume.add(queue, pq, Vec::new());
                    self.consume.waiting.push_back(id);
                }
            }
            ConsumeMode::LitePull => {
                let id = self.consume.add(queue, pq, msgs);
                self.consume.waiting.push_back(id);
            }
            ConsumeMode::Concurrently => {
                for batch in msgs.chunks(self.config.consume_message_batch_max_size.max(1)) {
                    let id = self.consume.add(queue, pq, batch.to_vec());
                    self.consume.waiting.push_back(id);
                }
            }
        }
        self.try_start(ctx, core);
    }

    fn try_start(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        while self.consume.running < self.consume.threads {
            let Some(id) = self.consume.waiting.pop_front() else {
                return;
            };
            if !self.start_request(ctx, core, id) {
                return; // The process crashed.
            }
        }
    }

    /// `ConsumeRequest.run`: the listener gets the batch. Returns `false` if the process
    /// crashed in the middle of it.
    fn start_request(&mut self, ctx: &mut Context<'_>, _core: &mut ClientCore, id: u64) -> bool {
        let Some(request) = self.consume.requests.get(&id) else {
            return true;
        };
        let queue = request.queue.clone();
        let live = self.queues.get(&queue).filter(|pq| pq.id == request.pq);
        let dropped = live.is_none_or(|pq| pq.dropped);
        if dropped && !self.config.bugs.consume_dropped_queue {
            // "the message queue not be able to consume, because it's dropped"
            self.consume.requests.remove(&id);
            return true;
        }
        if self.config.orderly() {
            let now = ctx.now();
            let Some(pq) = self.queues.get_mut(&queue).filter(|pq| pq.id == request.pq) else {
                self.consume.requests.remove(&id);
                return true;
            };
            if self.config.locks_queues() && (!pq.locked || pq.lock_expired(now)) {
                ctx.set_timer(
                    ORDERLY_RELOCK_DELAY_MS,
                    consumer_timer(ConsumerTimer::Resubmit { request: id }),
                );
                return true;
            }
            let batch = pq.take(self.config.consume_message_batch_max_size.max(1));
            if batch.is_empty() {
                self.consume.requests.remove(&id);
                return true;
            }
            self.consume.requests.get_mut(&id).expect("present").msgs = batch;
        }
        if self.config.mode == ConsumeMode::LitePull {
            self.poll(id);
        }
        let request = self.consume.requests.get_mut(&id).expect("present");
        crate::invariant!(
            !request.running,
            "consume-request-starts-once",
            "request {id} on {} started while already running",
            request.queue
        );
        request.running = true;
        self.consume.running += 1;
        crate::invariant!(
            self.consume.running <= self.consume.threads,
            "consume-threads-within-pool",
            "{} requests running on {} consume threads",
            self.consume.running,
            self.consume.threads
        );
        request.started = ctx.now();
        let msgs = request.msgs.clone();
        if self.config.bugs.commit_before_consume
            && !self.config.orderly()
            && let Some(last) = msgs.iter().map(|m| m.queue_offset).max()
        {
            self.offsets.update(&queue, last + 1, true);
        }
        let answer = self.listener.consume(ctx, &msgs);
        if let Some(restart_after_ms) = answer.crash {
            ctx.exit(Some(restart_after_ms));
            return false;
        }
        self.consume.requests.get_mut(&id).expect("present").success = answer.success;
        ctx.set_timer(
            answer.duration_ms,
            consumer_timer(ConsumerTimer::ConsumeDone { request: id }),
        );
        true
    }

    /// The listener returned: `processConsumeResult`.
    pub(super) fn consume_done(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore, id: u64) {
        let Some(request) = self.consume.requests.get(&id).cloned() else {
            return;
        };
        crate::invariant!(
            request.running,
            "consume-done-follows-start",
            "request {id} on {} returned from a listener it never reached",
            request.queue
        );
        self.emit_delivered(ctx, &request);
        if self.config.mode == ConsumeMode::LitePull {
            // The application is done with the batch; its offset moved when it was polled.
            return self.release(ctx, core, id);
        }
        let dropped = self
            .queues
            .get(&request.queue)
            .filter(|pq| pq.id == request.pq)
            .is_none_or(|pq| pq.dropped);
        if dropped {
            // "processQueue is dropped without process consume result": the offset stays.
            if self.config.locks_queues() {
                self.removal_waited(ctx, core, &request.queue, request.pq);
            }
            return self.release(ctx, core, id);
        }
        if self.config.orderly() {
            return self.orderly_done(ctx, core, id, request);
        }
        if request.success || self.config.broadcasting {
            // Broadcasting drops what failed: "BROADCASTING, the message consume failed, drop it".
            return self.finish(ctx, core, id, request.msgs.clone());
        }
        self.send_back(ctx, core, id, &request);
    }

    /// The history learns what the listener did with each message of a batch.
    fn emit_delivered(&self, ctx: &mut Context<'_>, request: &ConsumeRequest) {
        let ConsumeRequest {
            queue,
            msgs,
            success,
            started,
            ..
        } = request;
        self.report_delivered(ctx, queue, msgs, *success, *started);
    }

    /// The history learns what the listener, called at `started`, did with `msgs` of `queue`.
    pub(super) fn report_delivered(
        &self,
        ctx: &mut Context<'_>,
        queue: &MessageQueue,
        msgs: &[StoredMessage],
        consumed: bool,
        started: Time,
    ) {
        let took_ms = ctx.now().ms_since(started);
        for msg in msgs {
            let original_topic = msg
                .property(property::RETRY_TOPIC)
                .unwrap_or(&msg.topic)
                .to_string();
            ctx.emit(Event::Delivered {
                group: self.config.group.clone(),
                consumer: self.client_id.clone(),
                id: msg.message_id(),
                topic: original_topic,
                broker: queue.broker_name.clone(),
                queue_topic: queue.topic.clone(),
                queue_id: queue.queue_id,
                queue_offset: msg.queue_offset,
                reconsume_times: msg.reconsume_times,
                body_crc: crc32fast::hash(&msg.body),
                consumed,
                took_ms,
            });
        }
    }

    /// Removes consumed messages and commits the smallest unconsumed offset.
    fn finish(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
        consumed: Vec<StoredMessage>,
    ) {
        if let Some(request) = self.consume.requests.get(&id)
            && let Some(pq) = self
                .queues
                .get_mut(&request.queue)
                .filter(|pq| pq.id == request.pq)
            && let Some(offset) = pq.remove(&consumed)
            && !pq.dropped
        {
            let offset = match self.config.bugs.commit_past_pending {
                true => pq.past_last_pulled(),
                false => offset,
            };
            let queue = request.queue.clone();
            self.offsets.update(&queue, offset, true);
        }
        self.release(ctx, core, id);
    }

    /// The request is over: its thread is free.
    fn release(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore, id: u64) {
        if let Some(request) = self.consume.requests.remove(&id)
            && request.running
        {
            self.consume.thread_freed();
        }
        self.report_lag(ctx);
        if self.config.mode == ConsumeMode::LitePull {
            self.poll_again(ctx, core);
        } else {
            self.try_start(ctx, core);
        }
    }
}

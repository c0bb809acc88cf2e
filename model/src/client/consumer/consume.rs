//! The consume services (`ConsumeMessageConcurrentlyService`, `ConsumeMessageOrderlyService`,
//! and the lite pull consumer's `poll`): a pool of consume threads runs the listener; results
//! move the committed offset, and failures go back to the broker for a delayed retry
//! (concurrent) or are retried in place after a pause (orderly). A lite pull application is one
//! thread polling the pulled batches in order; a batch's offset moves when it is polled and is
//! committed at a later poll, at most every 5 s (`maybeAutoCommit`).

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

    /// Lite pull: the application calls `poll`, which first commits what earlier polls took if
    /// 5 s have passed (`maybeAutoCommit`).
    fn auto_commit(&mut self, now: Time) {
        if now < self.consume.next_auto_commit {
            return;
        }
        for (queue, offset) in &self.consume.polled {
            if self.queues.get(queue).is_some_and(|pq| !pq.dropped) {
                self.offsets.update(queue, *offset, false);
            }
        }
        self.consume.next_auto_commit = now.plus_ms(AUTO_COMMIT_INTERVAL_MS);
    }

    /// Lite pull: `poll` returns a batch, which moves the queue's offset past it.
    fn poll(&mut self, id: u64) {
        self.consume.idle_generation += 1;
        let request = &self.consume.requests[&id];
        if let Some(pq) = self
            .queues
            .get_mut(&request.queue)
            .filter(|pq| pq.id == request.pq)
            && let Some(offset) = pq.remove(&request.msgs)
        {
            self.consume.polled.insert(request.queue.clone(), offset);
        }
    }

    /// Lite pull: the application polls again; with nothing to take, `poll` gives up after
    /// `pollTimeoutMillis` and the application calls it again.
    pub(super) fn poll_again(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        self.auto_commit(ctx.now());
        self.try_start(ctx, core);
        if self.consume.running == 0 {
            let generation = self.consume.idle_generation;
            ctx.set_timer(
                POLL_TIMEOUT_MS,
                consumer_timer(ConsumerTimer::PollTimeout { generation }),
            );
        }
    }

    /// Lite pull: a `poll` found nothing for 5 s.
    pub(super) fn poll_timeout(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        generation: u64,
    ) {
        if generation == self.consume.idle_generation && self.consume.running == 0 {
            self.poll_again(ctx, core);
        }
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
        let took_ms = ctx.now().ms_since(request.started);
        let queue = &request.queue;
        for msg in &request.msgs {
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
                consumed: request.success,
                took_ms,
            });
        }
    }

    /// `sendMessageBack` for every message of a failed batch.
    fn send_back(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
        request: &ConsumeRequest,
    ) {
        let addr = core
            .routes
            .broker_addrs(&request.queue.broker_name)
            .and_then(|a| a.get(&MASTER_ID).copied());
        let live = self.consume.requests.get_mut(&id).expect("present");
        crate::invariant!(
            live.outstanding == 0 && live.back_failed.is_empty(),
            "send-back-starts-once",
            "request {id} sent back again with {} send-backs outstanding",
            live.outstanding
        );
        live.outstanding = request.msgs.len();
        for (index, msg) in request.msgs.iter().enumerate() {
            let Some(addr) = addr else {
                self.send_back_fallback(ctx, core, id, index);
                continue;
            };
            let back = SendMsgBack {
                group: self.config.group.clone(),
                commit_log_offset: msg.commit_log_offset,
                delay_level: 0,
                origin_topic: msg.topic.clone(),
                max_reconsume_times: self.config.max_reconsume_times(),
            };
            let request_id = ctx.request(
                addr,
                Request::ConsumerSendMsgBack(back),
                SEND_BACK_TIMEOUT_MS,
            );
            core.pending.insert(
                request_id,
                Pending::Consumer(ConsumerPending::SendBack { request: id, index }),
            );
        }
    }

    pub(super) fn on_send_back(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
        index: usize,
        result: Result<Response, RpcError>,
    ) {
        let ok = matches!(
            result,
            Ok(Response {
                code: ResponseCode::Success,
                ..
            })
        );
        if ok || self.config.bugs.drop_failed_send_back {
            self.send_back_settled(ctx, core, id, index, true);
        } else {
            self.send_back_fallback(ctx, core, id, index);
        }
    }

    /// The broker did not take the retry: the client sends it to the retry topic itself.
    fn send_back_fallback(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
        index: usize,
    ) {
        crate::probe!(SEND_BACK_FAILED);
        let Some(msg) = self
            .consume
            .requests
            .get(&id)
            .and_then(|r| r.msgs.get(index))
            .cloned()
        else {
            return;
        };
        // `DefaultMQPushConsumerImpl.sendMessageBack`, its catch block: the copy carries the
        // reconsume count raised by one, as the broker's own send-back would store it.
        match self.send_retry_copy(ctx, core, &msg, 1) {
            Some((op, None)) => {
                self.consume.fallbacks.insert(op, (id, index));
            }
            Some((_, Some(outcome))) => {
                let ok = matches!(outcome, SendOutcome::Ok { .. });
                self.send_back_settled(ctx, core, id, index, ok);
            }
            None => self.send_back_settled(ctx, core, id, index, false),
        }
    }

    /// Sends a copy of `msg` to the group's retry topic with the inner producer, due after its
    /// next delay level (the broker turns it into a dead letter once its reconsume count
    /// reaches `maxReconsumeTimes`, `handleRetryAndDLQ`). The copy's reconsume count is the
    /// message's plus `raise`: 1 for the concurrent service, 0 for the orderly one
    /// (`ConsumeMessageOrderlyService.sendMessageBack` in 4.9.8 does not raise it).
    fn send_retry_copy(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        msg: &StoredMessage,
        raise: u32,
    ) -> Option<(u64, Option<SendOutcome>)> {
        let message_id = msg.message_id()?;
        let mut message = Message::new(retry_topic(&self.config.group), msg.body.clone());
        message.flag = msg.flag;
        message.properties = msg.properties.clone();
        message.set_property(
            property::RETRY_TOPIC,
            msg.property(property::RETRY_TOPIC)
                .unwrap_or(&msg.topic)
                .to_string(),
        );
        message.set_property(
            property::MAX_RECONSUME_TIMES,
            self.config.max_reconsume_times().to_string(),
        );
        message.set_property(
            property::DELAY_TIME_LEVEL,
            (3 + msg.reconsume_times).to_string(),
        );
        message.set_property(
            property::RECONSUME_TIME,
            (msg.reconsume_times + raise).to_string(),
        );
        Some(
            self.inner
                .send(ctx, core, message_id, message, SendMode::Sync, None),
        )
    }

    /// The inner producer's send of a retry ended.
    pub(crate) fn on_fallback(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        op: u64,
        outcome: SendOutcome,
    ) {
        let Some((id, index)) = self.consume.fallbacks.remove(&op) else {
            return;
        };
        let ok = matches!(outcome, SendOutcome::Ok { .. });
        self.send_back_settled(ctx, core, id, index, ok);
    }

    fn send_back_settled(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
        index: usize,
        ok: bool,
    ) {
        let Some(request) = self.consume.requests.get_mut(&id) else {
            return;
        };
        crate::invariant!(
            request.outstanding > 0
                && index < request.msgs.len()
                && !request.back_failed.contains(&index),
            "send-back-settles-each-message-once",
            "request {id}: message {index} of {} settled with {} outstanding, failed {:?}",
            request.msgs.len(),
            request.outstanding,
            request.back_failed
        );
        if !ok {
            request.back_failed.push(index);
        }
        request.outstanding -= 1;
        if request.outstanding > 0 {
            return;
        }
        let request = request.clone();
        let mut failed = Vec::new();
        let mut done = Vec::new();
        for (index, msg) in request.msgs.into_iter().enumerate() {
            if request.back_failed.contains(&index) {
                failed.push(msg);
            } else {
                done.push(msg);
            }
        }
        if !failed.is_empty() {
            // Consumed again here, 5 s later, with its reconsume count raised.
            for msg in failed.iter_mut() {
                msg.reconsume_times += 1;
            }
            if self.config.bugs.ack_failed_send_back {
                done.extend(failed.iter().cloned());
            }
            let again = self.consume.add(&request.queue, request.pq, failed);
            ctx.set_timer(
                RECONSUME_LATER_LOCALLY_MS,
                consumer_timer(ConsumerTimer::Resubmit { request: again }),
            );
        }
        // `processConsumeResult`: what could not be sent back stays in the process queue,
        // so the committed offset cannot pass it.
        self.finish(ctx, core, id, done);
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

    /// Orderly: commit and go on with the queue, or give the batch back and pause.
    fn orderly_done(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
        request: ConsumeRequest,
    ) {
        let max = self.config.max_reconsume_times();
        let Some(pq) = self
            .queues
            .get_mut(&request.queue)
            .filter(|pq| pq.id == request.pq)
        else {
            return self.release(ctx, core, id);
        };
        let retry_in_place =
            !request.success && request.msgs.iter().all(|m| m.reconsume_times < max);
        if retry_in_place {
            // SUSPEND_CURRENT_QUEUE_A_MOMENT: the same messages again after a pause.
            let again: Vec<StoredMessage> = request
                .msgs
                .iter()
                .map(|m| StoredMessage {
                    reconsume_times: m.reconsume_times + 1,
                    ..m.clone()
                })
                .collect();
            pq.consume_again(&again);
            let resume = self.consume.add(&request.queue, request.pq, Vec::new());
            self.release(ctx, core, id);
            let delay = self.config.suspend_current_queue_time_ms;
            ctx.set_timer(
                delay,
                consumer_timer(ConsumerTimer::Resubmit { request: resume }),
            );
            return;
        }
        if !request.success {
            // Out of retries: off to the retry topic, where the broker parks it in the DLQ.
            // (RocketMQ suspends the queue again if that send fails; here it is not retried.)
            for msg in &request.msgs {
                self.send_retry_copy(ctx, core, msg, 0);
            }
        }
        let pq = self.queues.get_mut(&request.queue).expect("checked above");
        if let Some(offset) = pq.commit() {
            self.offsets.update(&request.queue, offset, false);
        }
        // Go on with the same queue in the same thread.
        if let Some(request) = self.consume.requests.get_mut(&id) {
            request.running = false;
        }
        self.consume.thread_freed();
        self.consume.waiting.push_front(id);
        self.try_start(ctx, core);
    }

    /// A request waited its time: back in line.
    pub(super) fn resubmit(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore, id: u64) {
        if self.consume.requests.contains_key(&id) {
            self.consume.waiting.push_back(id);
            self.try_start(ctx, core);
        }
    }
}

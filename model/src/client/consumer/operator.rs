//! What an operator asks of a push consumer through a broker (`ClientRemotingProcessor`).
//!
//! RESET_CONSUMER_CLIENT_OFFSET (`MQClientInstance.resetOffset`): the consumer pauses
//! (`suspend`: every pull waits 1 s at a time), drops and clears the process queues of the
//! reset's queues, and 10 s later moves each such queue it then owns to the reset's offset,
//! commits that to the broker and gives the queue up (`removeUnnecessaryMessageQueue`); the
//! next rebalance takes it again from the broker's offset, the new one. Whatever the dropped
//! queues' listeners were still consuming commits nothing. A lite pull consumer is no
//! `DefaultMQPushConsumerImpl`, so it ignores the reset ("consumer dose not exist").
//!
//! CONSUME_MESSAGE_DIRECTLY (`consumeMessageDirectly` of the consume services): the listener
//! gets the message on the remoting thread, outside the process queues, so no offset moves;
//! the answer says whether it consumed it. A lite pull consumer answers SYSTEM_ERROR (4.9.8
//! casts it to a push consumer and fails).

use super::{ConsumeMode, Consumer, ConsumerTimer, consumer_timer};
use crate::broker::store::record::{self, StoredMessage};
use crate::client::ClientCore;
use crate::node::{Context, Inbound};
use crate::protocol::{ConsumeDirectly, MessageQueue, Response, ResponseBody, ResponseCode};
use crate::time::Time;
use std::collections::BTreeMap;

/// `resetOffset`'s sleep between dropping the queues and moving their offsets.
const RESET_SLEEP_MS: u64 = 10_000;

/// Resets waiting out their sleep, and direct consumptions in the listener.
#[derive(Default)]
pub(super) struct OperatorCalls {
    resets: BTreeMap<u64, (String, BTreeMap<MessageQueue, u64>)>,
    directs: BTreeMap<u64, Direct>,
    next: u64,
}

/// A message an operator sent directly, in the listener since `started`.
struct Direct {
    inbound: Inbound,
    queue: MessageQueue,
    msg: StoredMessage,
    consumed: bool,
    started: Time,
}

impl Consumer {
    /// RESET_CONSUMER_CLIENT_OFFSET: pause, drop the reset's queues, apply it 10 s later.
    pub fn on_reset_offset(
        &mut self,
        ctx: &mut Context<'_>,
        (topic, group): (&str, &str),
        offsets: &[(MessageQueue, u64)],
    ) {
        let push = self.config.mode != ConsumeMode::LitePull;
        if !push || group != self.config.group || self.config.bugs.ignore_reset_offset {
            return;
        }
        let now = ctx.now();
        let table: BTreeMap<MessageQueue, u64> = offsets.iter().cloned().collect();
        for (queue, pq) in &mut self.queues {
            if queue.topic == topic && table.contains_key(queue) {
                pq.dropped = true;
                pq.dropped_at = Some(now);
                pq.clear();
            }
        }
        self.paused += 1;
        self.operator.next += 1;
        let reset = self.operator.next;
        (self.operator.resets).insert(reset, (topic.to_string(), table));
        ctx.set_timer(
            RESET_SLEEP_MS,
            consumer_timer(ConsumerTimer::ApplyReset { reset }),
        );
    }

    /// After the sleep: every owned queue of the reset moves to its offset, is committed and
    /// given up; then the consumer resumes.
    pub(super) fn apply_reset(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore, reset: u64) {
        let Some((topic, table)) = self.operator.resets.remove(&reset) else {
            return;
        };
        let now = ctx.now();
        let owned: Vec<MessageQueue> = (self.queues.keys())
            .filter(|q| q.topic == topic && table.contains_key(*q))
            .cloned()
            .collect();
        for queue in owned {
            let offset = table[&queue];
            self.offsets.update(&queue, offset, false);
            let pq = self.queues.get_mut(&queue).expect("owned");
            pq.dropped = true;
            pq.dropped_at.get_or_insert(now);
            // 4.9.8 removes the queue whatever the removal answers.
            self.remove_unnecessary(ctx, core, &queue);
            self.forget_queue(&queue);
            crate::probe!(RESET_APPLIED);
            self.emit_queue_event(ctx, &queue, "offset reset by an operator");
        }
        crate::invariant!(
            self.paused > 0,
            "consumer-resumes-once-per-reset",
            "reset {reset} applied on a consumer that is not paused"
        );
        self.paused -= 1;
        self.report_lag(ctx);
    }

    /// CONSUME_MESSAGE_DIRECTLY: the listener gets the message now; the answer waits for it.
    pub fn on_consume_directly(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        call: &ConsumeDirectly,
    ) {
        let msg = call.record.as_deref().and_then(record::decode);
        let (Some(msg), Some(broker)) = (msg, call.broker_name.clone()) else {
            return ctx.respond(inbound, Response::error(ResponseCode::SystemError));
        };
        if self.config.mode == ConsumeMode::LitePull || call.group != self.config.group {
            return ctx.respond(inbound, Response::error(ResponseCode::SystemError));
        }
        let queue = MessageQueue {
            topic: msg.topic.clone(),
            broker_name: broker,
            queue_id: msg.queue_id,
        };
        let started = ctx.now();
        let answer = self.listener.consume(ctx, std::slice::from_ref(&msg));
        if let Some(restart_after_ms) = answer.crash {
            return ctx.exit(Some(restart_after_ms));
        }
        self.operator.next += 1;
        let call = self.operator.next;
        let direct = Direct {
            inbound,
            queue,
            msg,
            consumed: answer.success,
            started,
        };
        self.operator.directs.insert(call, direct);
        ctx.set_timer(
            answer.duration_ms,
            consumer_timer(ConsumerTimer::DirectDone { call }),
        );
    }

    /// The listener returned from a direct message: the history hears of it, the broker gets
    /// the answer.
    pub(super) fn direct_done(&mut self, ctx: &mut Context<'_>, call: u64) {
        let Some(direct) = self.operator.directs.remove(&call) else {
            return;
        };
        crate::probe!(CONSUMED_DIRECTLY);
        let msgs = std::slice::from_ref(&direct.msg);
        self.report_delivered(ctx, &direct.queue, msgs, direct.consumed, direct.started);
        let body = ResponseBody::ConsumedDirectly {
            consumed: direct.consumed,
        };
        ctx.respond(direct.inbound, Response::success(body));
    }
}

//! Send-backs (`sendMessageBack`): a failed message goes back to the broker for a delayed
//! retry; a send-back that fails is sent by the client itself as a retry copy, and a message
//! whose send-back cannot be settled is consumed again locally 5 s later.

use super::*;

impl Consumer {
    /// `sendMessageBack` for every message of a failed batch.
    pub(super) fn send_back(
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

    pub(in crate::client::consumer) fn on_send_back(
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
    pub(super) fn send_back_fallback(
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
    pub(super) fn send_retry_copy(
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

    pub(super) fn send_back_settled(
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
}

//! The orderly consume service's results (`ConsumeMessageOrderlyService`): a failed batch is
//! retried in place after a pause (SUSPEND_CURRENT_QUEUE_A_MOMENT), a queue that lost its lock
//! is given up, and requests are resubmitted once the lock is back.

use super::*;

impl Consumer {
    /// Orderly: commit and go on with the queue, or give the batch back and pause.
    pub(super) fn orderly_done(
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
    pub(in crate::client::consumer) fn resubmit(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: u64,
    ) {
        if self.consume.requests.contains_key(&id) {
            self.consume.waiting.push_back(id);
            self.try_start(ctx, core);
        }
    }
}

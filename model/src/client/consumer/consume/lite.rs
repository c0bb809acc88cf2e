//! The lite pull consumer's application thread (`DefaultLitePullConsumer.poll`): one thread
//! polling the pulled batches in order; a batch's offset moves when it is polled and is
//! committed at a later poll, at most every 5 s (`maybeAutoCommit`).

use super::*;

impl Consumer {
    /// Lite pull: the application calls `poll`, which first commits what earlier polls took if
    /// 5 s have passed (`maybeAutoCommit`).
    pub(super) fn auto_commit(&mut self, now: Time) {
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
    pub(super) fn poll(&mut self, id: u64) {
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
    pub(in crate::client::consumer) fn poll_again(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
    ) {
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
    pub(in crate::client::consumer) fn poll_timeout(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        generation: u64,
    ) {
        if generation == self.consume.idle_generation && self.consume.running == 0 {
            self.poll_again(ctx, core);
        }
    }
}

//! The send thread pool and its fast failure (`sendMessageExecutor` with its bounded
//! `sendThreadPoolQueue`, `NettyRemotingAbstract`'s reject check, `BrokerFastFailure`,
//! `DefaultMessageStore.isOSPageCacheBusy`).
//!
//! A SEND_MESSAGE waits in the queue (past `sendThreadPoolQueueCapacity` the remoting layer
//! answers SYSTEM_BUSY, "[OVERLOAD]") for one of `sendMessageThreadPoolNums` threads. A thread
//! checks the store (while the CommitLog's put lock has been held longer than
//! `osPageCacheBusyTimeOutMills`: SYSTEM_ERROR, "[PC_SYNCHRONIZED]") and waits for the lock.
//! A put holds the lock for as long as the OS makes the writer wait: with more than
//! `vm.dirty_ratio` of the machine's memory dirty in the page cache (a slow disk lets dirty
//! pages pile up), every write waits for writeback, here until a flush of the broker's brings
//! them under the limit. While the lock is held that long, new sends are refused at once
//! (SYSTEM_BUSY, "[REJECTREQUEST]"), and every 10 ms BrokerFastFailure answers the queued ones
//! SYSTEM_BUSY ("[PCBUSY_CLEAN_QUEUE]"), as well as any that waited in the queue longer than
//! `waitTimeMillsInSendQueue` ("[TIMEOUT_CLEAN_QUEUE]"). A send answered SYSTEM_BUSY is never
//! stored; the producer does not retry it (SYSTEM_BUSY is not among its retry codes).

use super::{BrokerTimer, Running};
use crate::node::{Context, Inbound};
use crate::protocol::{Response, ResponseCode, SendMessage};
use crate::time::Time;
use crate::timer::Timer;
use std::collections::VecDeque;

/// `BrokerFastFailure`'s period.
const FAST_FAILURE_PERIOD_MS: u64 = 10;

/// A send in the pool.
#[derive(Debug)]
struct Queued {
    inbound: Inbound,
    send: SendMessage,
    arrived: Time,
    /// Already answered SYSTEM_BUSY (only with the `store_after_busy` defect).
    answered: bool,
}

/// The queue, the threads' requests and the put lock.
#[derive(Debug, Default)]
pub(super) struct SendPool {
    queue: VecDeque<Queued>,
    /// Taken by a thread that passed the store check, waiting for the put lock, in order.
    taken: VecDeque<Queued>,
    /// The put holding the lock while the OS throttles it, since when.
    holder: Option<(Queued, Time)>,
    /// Whether BrokerFastFailure's timer is set (only while the pool holds work).
    ticking: bool,
}

impl SendPool {
    /// `isOSPageCacheBusy`: the put lock held longer than the timeout.
    fn busy(&self, now: Time, timeout_ms: u64) -> bool {
        (self.holder.as_ref()).is_some_and(|(_, since)| now.ms_since(*since) > timeout_ms)
    }

    fn threads_in_use(&self) -> usize {
        self.taken.len() + usize::from(self.holder.is_some())
    }

    fn idle(&self) -> bool {
        self.queue.is_empty() && self.taken.is_empty() && self.holder.is_none()
    }
}

impl Running {
    /// SEND_MESSAGE arrives: refused at once while the store is busy or the queue full, else
    /// queued for a thread.
    pub(super) fn accept_send(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        send: SendMessage,
    ) {
        let now = ctx.now();
        let config = &self.config.send_pool;
        let busy = self
            .send_pool
            .busy(now, self.config.store.os_page_cache_busy_timeout_ms);
        if busy && config.fast_failure {
            crate::probe!(SEND_REJECTED_BUSY);
            return ctx.respond(inbound, Response::error(ResponseCode::SystemBusy));
        }
        if self.send_pool.queue.len() >= config.queue_capacity {
            return ctx.respond(inbound, Response::error(ResponseCode::SystemBusy));
        }
        let queued = Queued {
            inbound,
            send,
            arrived: now,
            answered: false,
        };
        self.send_pool.queue.push_back(queued);
        self.run_sends(ctx);
    }

    /// Free threads take queued sends; the first one waiting for the lock puts, unless the OS
    /// throttles writes, and then it holds the lock until writeback catches up.
    fn run_sends(&mut self, ctx: &mut Context<'_>) {
        let timeout_ms = self.config.store.os_page_cache_busy_timeout_ms;
        loop {
            while self.send_pool.threads_in_use() < self.config.send_pool.threads
                && let Some(queued) = self.send_pool.queue.pop_front()
            {
                if self.send_pool.busy(ctx.now(), timeout_ms) {
                    crate::probe!(SEND_PAGE_CACHE_BUSY);
                    self.answer_unless_answered(ctx, &queued, ResponseCode::SystemError);
                    continue;
                }
                self.send_pool.taken.push_back(queued);
            }
            if self.send_pool.holder.is_some() {
                break;
            }
            let Some(queued) = self.send_pool.taken.pop_front() else {
                break;
            };
            if self.store.writes_throttled(ctx.disk()) {
                crate::probe!(SEND_THROTTLED);
                self.send_pool.holder = Some((queued, ctx.now()));
                break;
            }
            self.put_send(ctx, queued);
        }
        self.keep_ticking(ctx);
    }

    /// The put of a send that holds the lock (or just took it): stored and answered as
    /// `handle_send` does, unless BrokerFastFailure already answered it.
    fn put_send(&mut self, ctx: &mut Context<'_>, queued: Queued) {
        let mut inbound = queued.inbound;
        if queued.answered {
            inbound.request_id = None; // Answered already: whatever comes now goes nowhere.
        }
        self.handle_send(ctx, inbound, queued.send);
    }

    /// The throttled put goes on once writeback brought the dirty pages under the limit.
    pub(super) fn release_throttled_put(&mut self, ctx: &mut Context<'_>) {
        if self.send_pool.holder.is_none() || self.store.writes_throttled(ctx.disk()) {
            return;
        }
        let (queued, _) = self.send_pool.holder.take().expect("a throttled put");
        self.put_send(ctx, queued);
        self.run_sends(ctx);
    }

    /// BrokerFastFailure's round: while the store is busy the queue's head is answered
    /// SYSTEM_BUSY, and so is every head that waited longer than `waitTimeMillsInSendQueue`.
    pub(super) fn fast_failure(&mut self, ctx: &mut Context<'_>) {
        self.send_pool.ticking = false;
        self.release_throttled_put(ctx);
        if self.config.send_pool.fast_failure {
            let now = ctx.now();
            let timeout_ms = self.config.store.os_page_cache_busy_timeout_ms;
            while self.send_pool.busy(now, timeout_ms) && self.clean_head(ctx) {
                crate::probe!(SEND_PCBUSY_CLEAN_QUEUE);
            }
            let wait_ms = self.config.send_pool.wait_time_in_queue_ms;
            while (self.send_pool.queue.iter().find(|q| !q.answered))
                .is_some_and(|q| now.ms_since(q.arrived) > wait_ms)
                && self.clean_head(ctx)
            {
                crate::probe!(SEND_TIMEOUT_CLEAN_QUEUE);
            }
        }
        self.keep_ticking(ctx);
    }

    /// Answers the queue's first unanswered send SYSTEM_BUSY and takes it out of the queue
    /// (with `store_after_busy`, leaves it there). Returns whether there was one.
    fn clean_head(&mut self, ctx: &mut Context<'_>) -> bool {
        let queue = &mut self.send_pool.queue;
        let Some(index) = queue.iter().position(|q| !q.answered) else {
            return false;
        };
        if self.config.bugs.store_after_busy {
            let queued = &mut queue[index];
            queued.answered = true;
            ctx.respond(queued.inbound, Response::error(ResponseCode::SystemBusy));
            return true;
        }
        let queued = queue.remove(index).expect("a queued send");
        ctx.respond(queued.inbound, Response::error(ResponseCode::SystemBusy));
        true
    }

    fn answer_unless_answered(
        &mut self,
        ctx: &mut Context<'_>,
        queued: &Queued,
        code: ResponseCode,
    ) {
        if !queued.answered {
            ctx.respond(queued.inbound, Response::error(code));
        }
    }

    /// BrokerFastFailure's timer runs while the pool holds work.
    fn keep_ticking(&mut self, ctx: &mut Context<'_>) {
        if self.send_pool.idle() || self.send_pool.ticking {
            return;
        }
        self.send_pool.ticking = true;
        ctx.set_timer(
            FAST_FAILURE_PERIOD_MS,
            Timer::Broker(BrokerTimer::FastFailure),
        );
    }
}

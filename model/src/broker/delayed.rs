//! The schedule service's delivery loop (`DeliverDelayedMessageTimerTask`): per level, put
//! every due message back into its real topic, then wait for the next one to fall due.

use super::BrokerTimer;
use super::schedule::ScheduleOffsets;
use super::schedule::{self, DELAY_FOR_A_PERIOD_MS, DELAY_FOR_A_WHILE_MS};
use super::store::MessageStore;
use crate::node::Context;
use crate::protocol::route::SCHEDULE_TOPIC;
use crate::timer::Timer;

/// Wakes a level after `delay_ms`, unless it is already due to wake.
fn arm(armed: &mut [bool; 18], ctx: &mut Context<'_>, level: u32, delay_ms: u64) {
    crate::invariant!(
        (1..=18).contains(&level),
        "delay-level-in-range",
        "level {level} armed after {delay_ms} ms"
    );
    let armed = &mut armed[(level - 1) as usize];
    if !*armed {
        *armed = true;
        ctx.set_timer(delay_ms, Timer::Broker(BrokerTimer::Schedule(level)));
    }
}

/// The schedule service of a master: each level's progress (`delayOffset.json`) and whether
/// its task is due to wake.
pub struct DelayService {
    pub offsets: ScheduleOffsets,
    armed: [bool; 18],
}

impl DelayService {
    pub fn new(offsets: ScheduleOffsets) -> DelayService {
        DelayService {
            offsets,
            armed: [false; 18],
        }
    }

    /// `shutdown` on a role change to slave: no level wakes any more (a wake-up already set
    /// finds the broker a slave and does nothing).
    pub fn stop(&mut self) {
        self.armed = [false; 18];
    }

    /// Whether no level's task is due to wake.
    pub fn idle(&self) -> bool {
        self.armed.iter().all(|armed| !armed)
    }

    /// Starts the levels that have messages waiting (`ScheduleMessageService.start`).
    pub fn start(&mut self, ctx: &mut Context<'_>, store: &MessageStore) {
        for level in 1..=18u32 {
            if store.max_offset_in_queue(SCHEDULE_TOPIC, level - 1) > 0 {
                arm(&mut self.armed, ctx, level, schedule::FIRST_DELAY_MS);
            }
        }
    }

    /// A message arrived in the schedule topic: its level wakes if idle.
    pub fn arrival(&mut self, ctx: &mut Context<'_>, queue_id: u32) {
        if queue_id < 18 {
            arm(&mut self.armed, ctx, queue_id + 1, DELAY_FOR_A_WHILE_MS);
        }
    }

    /// One run of a level's task: its progress moves forward, except where it stood past the
    /// queue's end (loaded from `delayOffset.json` after a crash lost the queue's tail), where
    /// it comes back to that end (`failScheduleOffset`).
    pub fn deliver_due(&mut self, ctx: &mut Context<'_>, store: &mut MessageStore, level: u32) {
        let index = (level - 1) as usize;
        let before = self.offsets.next[index];
        let queue_end = store.max_offset_in_queue(SCHEDULE_TOPIC, level - 1);
        self.deliver_level(ctx, store, level);
        let after = self.offsets.next[index];
        crate::invariant!(
            after >= before || (before > queue_end && after >= queue_end),
            "delay-progress-never-backwards-in-a-run",
            "level {level} went from {before} to {after}, its queue ending at {queue_end}"
        );
    }

    fn deliver_level(&mut self, ctx: &mut Context<'_>, store: &mut MessageStore, level: u32) {
        let index = (level - 1) as usize;
        self.armed[index] = false;
        let now = ctx.wall_clock_ms();
        let delay = schedule::delay_ms(level);
        loop {
            let offset = self.offsets.next[index];
            let Some(cq) = store.consume_queue(SCHEDULE_TOPIC, level - 1) else {
                return;
            };
            if offset < cq.min_offset() {
                self.offsets.next[index] = cq.min_offset();
                continue;
            }
            let Some(entries) = cq.entries(ctx.disk(), offset, 32) else {
                // Nothing (yet) past `offset`: idle until the next arrival.
                self.offsets.next[index] = offset.min(cq.max_offset());
                return;
            };
            for (read, entry) in (offset..).zip(entries) {
                crate::invariant!(
                    self.offsets.next[index] == read,
                    "delay-progress-tracks-entries",
                    "level {level} is at {} while delivering the entry at {read}",
                    self.offsets.next[index]
                );
                // `correctDeliverTimestamp`: a due time beyond now + delay can only come from
                // a clock that stepped back; 4.9.8 delivers such a message at once.
                let due = match entry.tags_code.max(0) as u64 {
                    due if due > now + delay => now,
                    due => due,
                };
                if due > now {
                    arm(&mut self.armed, ctx, level, due - now);
                    return;
                }
                let next = self.offsets.next[index] + 1;
                let message = store.look_message_by_offset(ctx.disk(), entry.commit_log_offset);
                let Some(request) = message.as_ref().and_then(schedule::time_up) else {
                    self.offsets.next[index] = next; // Unreadable: skip it, as RocketMQ does.
                    continue;
                };
                if store.put(ctx, &request).is_err() {
                    arm(&mut self.armed, ctx, level, DELAY_FOR_A_PERIOD_MS);
                    return;
                }
                crate::probe!(SCHEDULE_DELIVERED);
                self.offsets.next[index] = next;
            }
        }
    }
}

//! Long polling (`PullRequestHoldService`): a pull that finds nothing new is held, up to its
//! suspend timeout, and answered as soon as its queue grows (dispatch wakes it) or when the
//! 5 s check finds it due.

use crate::node::Inbound;
use crate::protocol::PullMessage;
use crate::time::Time;
use std::collections::BTreeMap;

/// How often held pulls are checked (`waitForRunning(5 * 1000)`).
pub const CHECK_INTERVAL_MS: u64 = 5_000;

/// A held pull waits under the queue it reads: an arrival there, and only there, wakes it.
fn check_held_under(held: &HeldPull, topic: &str, queue_id: u32) {
    crate::invariant!(
        held.pull.topic == topic && held.pull.queue_id == queue_id,
        "long-poll-held-under-its-queue",
        "a pull of {}:{} was held under {topic}:{queue_id}",
        held.pull.topic,
        held.pull.queue_id
    );
}

#[derive(Clone, Debug)]
pub struct HeldPull {
    pub inbound: Inbound,
    pub pull: PullMessage,
    held_at: Time,
}

#[derive(Clone, Debug, Default)]
pub struct LongPolling {
    held: BTreeMap<(String, u32), Vec<HeldPull>>,
}

impl LongPolling {
    pub fn hold(&mut self, now: Time, inbound: Inbound, pull: PullMessage) {
        crate::invariant!(
            pull.suspend_timeout_ms > 0,
            "long-poll-held-with-a-timeout",
            "a pull of {}:{} held with no suspend timeout",
            pull.topic,
            pull.queue_id
        );
        let key = (pull.topic.clone(), pull.queue_id);
        self.held.entry(key).or_default().push(HeldPull {
            inbound,
            pull,
            held_at: now,
        });
    }

    /// The pulls a queue that grew to `max_offset` can now answer (`notifyMessageArriving`).
    pub fn arrived(&mut self, topic: &str, queue_id: u32, max_offset: u64) -> Vec<HeldPull> {
        let Some(list) = self.held.get_mut(&(topic.to_string(), queue_id)) else {
            return Vec::new();
        };
        let (wake, keep): (Vec<HeldPull>, Vec<HeldPull>) = std::mem::take(list)
            .into_iter()
            .partition(|h| max_offset > h.pull.queue_offset);
        *list = keep;
        for held in &wake {
            check_held_under(held, topic, queue_id);
            crate::invariant!(
                max_offset > held.pull.queue_offset,
                "long-poll-woken-by-growth",
                "a pull at {} woken by {topic}:{queue_id} growing to {max_offset}",
                held.pull.queue_offset
            );
        }
        if !wake.is_empty() {
            crate::probe!(LONG_POLL_WOKEN);
        }
        wake
    }

    /// The periodic check: pulls whose queue has grown past them, or whose time is up.
    pub fn due(&mut self, now: Time, max_offset: impl Fn(&str, u32) -> u64) -> Vec<HeldPull> {
        let mut wake = Vec::new();
        for ((topic, queue_id), list) in self.held.iter_mut() {
            let max = max_offset(topic, *queue_id);
            let (due, keep): (Vec<HeldPull>, Vec<HeldPull>) =
                std::mem::take(list).into_iter().partition(|h| {
                    max > h.pull.queue_offset || now >= h.held_at.plus_ms(h.pull.suspend_timeout_ms)
                });
            *list = keep;
            for held in &due {
                check_held_under(held, topic, *queue_id);
                let deadline = held.held_at.plus_ms(held.pull.suspend_timeout_ms);
                crate::invariant!(
                    held.held_at <= now && (max > held.pull.queue_offset || now >= deadline),
                    "long-poll-held-until-due",
                    "a pull at {} held at {:?} until {deadline:?} released at {now:?} (max {max})",
                    held.pull.queue_offset,
                    held.held_at
                );
            }
            wake.extend(due);
        }
        self.held.retain(|_, list| !list.is_empty());
        wake
    }
}

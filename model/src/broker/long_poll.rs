//! Long polling (`PullRequestHoldService`): a pull that finds nothing new is held, up to its
//! suspend timeout, and answered as soon as its queue grows (dispatch wakes it) or when the
//! 5 s check finds it due.

use crate::node::Inbound;
use crate::protocol::PullMessage;
use crate::time::Time;
use std::collections::BTreeMap;

/// How often held pulls are checked (`waitForRunning(5 * 1000)`).
pub const CHECK_INTERVAL_MS: u64 = 5_000;

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
            wake.extend(due);
        }
        self.held.retain(|_, list| !list.is_empty());
        wake
    }
}

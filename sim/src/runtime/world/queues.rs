//! Every node's event queue: what is due, in `(time, sequence)` order, and the madsim timers
//! that wake a node's host exactly when its next event is due.

use super::*;

impl World {
    /// Puts an event into a node's queue and makes sure its host wakes for it.
    pub fn schedule(&mut self, node: NodeId, at: Time, event: NodeEvent) {
        self.schedule_sent(node, at, event, None);
    }

    pub(super) fn schedule_sent(
        &mut self,
        node: NodeId,
        at: Time,
        event: NodeEvent,
        sent: Option<(NodeId, Time)>,
    ) {
        self.next_seq += 1;
        let seq = self.next_seq;
        let slot = &mut self.slots[node.index()];
        slot.queue.push(Reverse(Scheduled {
            at,
            seq,
            event: Box::new(event),
            sent,
        }));
        self.arm(node, at);
    }

    /// The earliest due event of a node, if any is due by `now`.
    pub fn pop_due(&mut self, node: NodeId, now: Time) -> Option<NodeEvent> {
        let slot = &mut self.slots[node.index()];
        slot.drop_stale_timeouts();
        if slot.queue.peek().is_some_and(|Reverse(s)| s.at <= now) {
            let Reverse(scheduled) = slot.queue.pop().expect("peeked");
            Some(*scheduled.event)
        } else {
            None
        }
    }

    /// Called by a host about to wait: whether something is due now; otherwise remembers the
    /// waker and arms a timer for the next event.
    pub fn ready_or_wait(&mut self, node: NodeId, now: Time, waker: &Waker) -> bool {
        let slot = &mut self.slots[node.index()];
        while slot.armed.first().is_some_and(|at| *at <= now) {
            slot.armed.pop_first();
        }
        slot.drop_stale_timeouts();
        let next = slot.queue.peek().map(|Reverse(s)| s.at);
        if next.is_some_and(|at| at <= now) {
            return true;
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            slot.waker = Some(waker.clone());
            slot.armed.clear();
        }
        if let Some(at) = next {
            self.arm(node, at);
        }
        false
    }

    /// Ensures the node's host wakes by `at`.
    fn arm(&mut self, node: NodeId, at: Time) {
        let base = self.base;
        let slot = &mut self.slots[node.index()];
        let Some(waker) = &slot.waker else {
            return; // Not waiting: the host looks at its queue before it waits again.
        };
        if slot.armed.first().is_some_and(|first| *first <= at) {
            return; // It wakes earlier anyway and will arm again then.
        }
        let base = base.expect("time base is set before anything is scheduled");
        let deadline = base + Duration::from_millis(at.as_ms());
        let mut sleep = madsim::time::TimeHandle::current().sleep_until(deadline);
        let mut cx = std::task::Context::from_waker(waker);
        // Polling a Sleep once registers a madsim timer that wakes `waker` at the deadline.
        if std::pin::Pin::new(&mut sleep).poll(&mut cx).is_ready() {
            waker.wake_by_ref();
        } else {
            slot.armed.insert(at);
        }
    }
}

impl Slot {
    /// Drops the timeouts at the head of the queue whose request is no longer pending (its
    /// answer came, or it failed otherwise): they would wake the host for nothing. RocketMQ
    /// finds a request's timeout by scanning its response table (`scanResponseTable`, every
    /// second), so when a timeout event fires is the harness's own choice, not behaviour.
    fn drop_stale_timeouts(&mut self) {
        while let Some(Reverse(head)) = self.queue.peek()
            && let NodeEvent::Timeout { id } = *head.event
            && !self.pending.contains_key(&id)
        {
            self.queue.pop();
        }
    }
}

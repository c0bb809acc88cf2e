//! A queue a consumer owns (`ProcessQueue`): the messages pulled and not yet consumed, keyed
//! by queue offset, and the flags that tell the pull and consume services what to do.

use crate::broker::store::record::StoredMessage;
use crate::time::Time;
use std::collections::BTreeMap;

/// The client's view of a lock expires after 30 s without renewal (`REBALANCE_LOCK_MAX_LIVE_TIME`).
pub const LOCK_MAX_LIVE_MS: u64 = 30_000;
/// A queue not pulled for 2 minutes is dropped (`PULL_MAX_IDLE_TIME`).
pub const PULL_MAX_IDLE_MS: u64 = 120_000;

#[derive(Clone, Debug)]
pub struct ProcessQueue {
    /// A new id each time the queue is (re)taken, so that stale callbacks can tell.
    pub id: u64,
    msgs: BTreeMap<u64, StoredMessage>,
    /// Orderly: taken for consumption, not yet committed.
    consuming_orderly: BTreeMap<u64, StoredMessage>,
    queue_offset_max: u64,
    pub dropped: bool,
    /// When a rebalance dropped it (an orderly removal may wait for the listener).
    pub dropped_at: Option<Time>,
    /// A consume request is working on this queue (orderly), or queued (`consuming`).
    pub consuming: bool,
    pub locked: bool,
    pub last_lock: Time,
    pub last_pull: Time,
    /// Where the next pull starts (`PullRequest.nextOffset`).
    pub next_offset: u64,
    /// The queue's max offset as the last pull answer reported it.
    pub broker_max_offset: u64,
    /// Whether the last pull went to a slave.
    pub from_slave: Option<bool>,
}

impl ProcessQueue {
    pub fn new(id: u64, next_offset: u64, now: Time) -> ProcessQueue {
        ProcessQueue {
            id,
            msgs: BTreeMap::new(),
            consuming_orderly: BTreeMap::new(),
            queue_offset_max: 0,
            dropped: false,
            dropped_at: None,
            consuming: false,
            locked: false,
            last_lock: now,
            last_pull: now,
            next_offset,
            broker_max_offset: 0,
            from_slave: None,
        }
    }

    /// Forgets every message pulled (`clear`), as a reset does to a queue it drops.
    pub fn clear(&mut self) {
        self.msgs.clear();
        self.consuming_orderly.clear();
        self.queue_offset_max = 0;
    }

    /// Adds pulled messages (`putMessage`); returns whether a consume request should start.
    pub fn put(&mut self, msgs: &[StoredMessage]) -> bool {
        let before = self.msgs.len();
        let mut inserted = 0;
        for msg in msgs {
            if self.msgs.insert(msg.queue_offset, msg.clone()).is_none() {
                self.queue_offset_max = msg.queue_offset;
                inserted += 1;
            }
        }
        crate::invariant!(
            self.msgs.len() == before + inserted,
            "process-queue-count-matches-after-put",
            "{} held before, {inserted} new, {} held after",
            before,
            self.msgs.len()
        );
        let dispatch = !self.msgs.is_empty() && !self.consuming;
        if dispatch {
            self.consuming = true;
        }
        self.check();
        dispatch
    }

    /// Removes consumed messages (`removeMessage`); returns the offset to commit: the smallest
    /// one still pending, or one past the largest pulled when none is.
    pub fn remove(&mut self, msgs: &[StoredMessage]) -> Option<u64> {
        if self.msgs.is_empty() {
            return None;
        }
        let before = self.msgs.len();
        let mut removed = 0;
        for msg in msgs {
            if self.msgs.remove(&msg.queue_offset).is_some() {
                removed += 1;
            }
        }
        crate::invariant!(
            self.msgs.len() + removed == before,
            "process-queue-count-matches-after-remove",
            "{before} held before, {removed} removed, {} held after",
            self.msgs.len()
        );
        let first = self.msgs.keys().next().copied();
        let offset = first.unwrap_or(self.queue_offset_max + 1);
        crate::invariant!(
            first.is_none_or(|first| offset <= first),
            "process-queue-commit-offset-not-past-pending",
            "commit offset {offset} passes the pending offset {first:?}"
        );
        Some(offset)
    }

    /// One past the last message pulled (`queueOffsetMax + 1`).
    pub fn past_last_pulled(&self) -> u64 {
        self.queue_offset_max + 1
    }

    pub fn count(&self) -> usize {
        self.msgs.len()
    }

    /// Offsets between the first and last pending message (`getMaxSpan`).
    pub fn max_span(&self) -> u64 {
        match (self.msgs.keys().next(), self.msgs.keys().next_back()) {
            (Some(first), Some(last)) => last - first,
            _ => 0,
        }
    }

    /// Orderly: takes up to `n` messages for consumption (`takeMessages`).
    pub fn take(&mut self, n: usize) -> Vec<StoredMessage> {
        let mut taken = Vec::new();
        while taken.len() < n {
            let Some((offset, msg)) = self.msgs.pop_first() else {
                break;
            };
            self.consuming_orderly.insert(offset, msg.clone());
            taken.push(msg);
        }
        if taken.is_empty() {
            self.consuming = false;
        }
        crate::invariant!(
            taken.len() == n || (taken.len() < n && self.msgs.is_empty()),
            "process-queue-take-fills-batch-unless-empty",
            "took {} of {n} with {} still pending",
            taken.len(),
            self.msgs.len()
        );
        self.check();
        taken
    }

    /// Orderly: the taken messages are done; returns the offset to commit (`commit`).
    pub fn commit(&mut self) -> Option<u64> {
        let last = self.consuming_orderly.keys().next_back().copied();
        self.consuming_orderly.clear();
        last.map(|offset| offset + 1)
    }

    /// Orderly: give the taken messages back to be consumed again (`makeMessageToConsumeAgain`).
    pub fn consume_again(&mut self, msgs: &[StoredMessage]) {
        for msg in msgs {
            self.consuming_orderly.remove(&msg.queue_offset);
            self.msgs.insert(msg.queue_offset, msg.clone());
        }
        crate::invariant!(
            msgs.iter().all(|m| self.msgs.contains_key(&m.queue_offset)
                && !self.consuming_orderly.contains_key(&m.queue_offset)),
            "process-queue-consume-again-returns-batch",
            "a message given back is still taken or not pending ({} taken, {} pending)",
            self.consuming_orderly.len(),
            self.msgs.len()
        );
        self.check();
    }

    /// What holds between every change: a queue with messages pending has a consume request
    /// on it (`consuming`), or is about to get one; only an empty `take` clears the flag.
    fn check(&self) {
        crate::invariant!(
            self.msgs.is_empty() || self.consuming,
            "process-queue-pending-implies-consuming",
            "{} messages pending (from offset {:?}) and no consume request",
            self.msgs.len(),
            self.msgs.keys().next()
        );
    }

    /// Orderly: a dropped queue's listener returned; what it took is neither committed nor
    /// consumed again here.
    pub fn release_taken(&mut self) {
        self.consuming_orderly.clear();
    }

    pub fn has_taken(&self) -> bool {
        !self.consuming_orderly.is_empty()
    }

    pub fn lock_expired(&self, now: Time) -> bool {
        now.ms_since(self.last_lock) > LOCK_MAX_LIVE_MS
    }

    pub fn pull_expired(&self, now: Time) -> bool {
        now.ms_since(self.last_pull) > PULL_MAX_IDLE_MS
    }

    /// Messages known to exist that this consumer has not consumed.
    pub fn behind(&self, committed: u64) -> u64 {
        self.broker_max_offset
            .saturating_sub(committed)
            .max(self.msgs.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NodeId;

    fn msg(offset: u64) -> StoredMessage {
        StoredMessage {
            topic: "t".into(),
            queue_id: 0,
            flag: 0,
            queue_offset: offset,
            commit_log_offset: offset * 100,
            born_timestamp_ms: 0,
            born_host: NodeId(0),
            store_timestamp_ms: 0,
            store_host: NodeId(0),
            reconsume_times: 0,
            body_crc: 0,
            body: vec![],
            properties: Default::default(),
        }
    }

    #[test]
    fn the_commit_offset_is_the_smallest_unconsumed() {
        let mut pq = ProcessQueue::new(1, 0, Time::ZERO);
        assert!(pq.put(&[msg(10), msg(11), msg(12)]));
        assert!(!pq.put(&[msg(13)]));
        assert_eq!(pq.remove(&[msg(11), msg(12)]), Some(10));
        assert_eq!(pq.remove(&[msg(10)]), Some(13));
        assert_eq!(pq.remove(&[msg(13)]), Some(14));
        assert_eq!(pq.remove(&[msg(13)]), None);
    }

    /// The name of the invariant `f` violates.
    fn violated(f: impl FnOnce()) -> String {
        crate::invariant::fired(f).0
    }

    #[test]
    fn pending_messages_without_a_consume_request_violate_an_invariant() {
        let name = violated(|| {
            let mut pq = ProcessQueue::new(1, 0, Time::ZERO);
            pq.put(&[msg(0), msg(1)]);
            // A consume request lost: the flag cleared while messages wait.
            pq.consuming = false;
            pq.take(1);
        });
        assert_eq!(name, "process-queue-pending-implies-consuming");
    }

    #[test]
    fn orderly_take_commit_and_again() {
        let mut pq = ProcessQueue::new(1, 0, Time::ZERO);
        pq.put(&[msg(0), msg(1), msg(2)]);
        let taken = pq.take(2);
        assert_eq!(taken.len(), 2);
        pq.consume_again(&taken);
        assert_eq!(pq.count(), 3);
        pq.take(3);
        assert_eq!(pq.commit(), Some(3));
        assert!(pq.take(1).is_empty());
        assert!(!pq.consuming);
    }
}

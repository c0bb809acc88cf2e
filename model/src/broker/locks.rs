//! Queue locks for orderly consumers (`RebalanceLockManager`): a consumer that holds a queue's
//! lock is its only consumer; a lock not renewed for 60 s expires.

use crate::protocol::MessageQueue;
use crate::time::Time;
use std::collections::BTreeMap;

/// `REBALANCE_LOCK_MAX_LIVE_TIME` on the broker.
pub const LOCK_MAX_LIVE_MS: u64 = 60_000;

#[derive(Clone, Debug, Default)]
pub struct QueueLocks {
    /// (group, queue) -> (client id, last renewal).
    locks: BTreeMap<(String, MessageQueue), (String, Time)>,
}

impl QueueLocks {
    /// Locks (or renews) what it can of `queues` for `client` (`tryLockBatch`).
    pub fn try_lock(
        &mut self,
        now: Time,
        group: &str,
        client: &str,
        queues: &[MessageQueue],
    ) -> Vec<MessageQueue> {
        let mut locked = Vec::new();
        for queue in queues {
            let key = (group.to_string(), queue.clone());
            let free = match self.locks.get(&key) {
                None => true,
                Some((owner, renewed)) => {
                    owner == client || renewed.plus_ms(LOCK_MAX_LIVE_MS) < now
                }
            };
            if free {
                self.locks.insert(key, (client.to_string(), now));
                locked.push(queue.clone());
            }
        }
        locked
    }

    /// Releases `queues` if `client` holds them (`unlockBatch`).
    pub fn unlock(&mut self, group: &str, client: &str, queues: &[MessageQueue]) {
        for queue in queues {
            let key = (group.to_string(), queue.clone());
            if self
                .locks
                .get(&key)
                .is_some_and(|(owner, _)| owner == client)
            {
                self.locks.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_exclusive_until_it_expires() {
        let q = MessageQueue {
            topic: "t".into(),
            broker_name: "b".into(),
            queue_id: 0,
        };
        let mut locks = QueueLocks::default();
        assert_eq!(
            locks
                .try_lock(Time::ZERO, "g", "c1", std::slice::from_ref(&q))
                .len(),
            1
        );
        assert!(
            locks
                .try_lock(Time::from_ms(1_000), "g", "c2", std::slice::from_ref(&q))
                .is_empty()
        );
        assert_eq!(
            locks
                .try_lock(Time::from_ms(60_001), "g", "c2", std::slice::from_ref(&q))
                .len(),
            1
        );
        locks.unlock("g", "c1", std::slice::from_ref(&q));
        assert!(
            locks
                .try_lock(Time::from_ms(60_002), "g", "c1", std::slice::from_ref(&q))
                .is_empty()
        );
    }
}

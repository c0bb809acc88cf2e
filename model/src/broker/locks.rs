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
                let previous = self.locks.insert(key.clone(), (client.to_string(), now));
                check_taken(previous.as_ref(), client, now);
                locked.push(queue.clone());
            }
            self.check_outcome(&key, client, now, free);
        }
        locked
    }

    /// After a try: the queue has one owner, `client` if it was granted, else another whose
    /// lock is still live.
    fn check_outcome(&self, key: &(String, MessageQueue), client: &str, now: Time, granted: bool) {
        let held = self.locks.get(key);
        let holds = |(owner, renewed): &(String, Time)| match granted {
            true => owner == client && *renewed == now,
            false => owner != client && renewed.plus_ms(LOCK_MAX_LIVE_MS) >= now,
        };
        crate::invariant!(
            held.is_some_and(holds),
            "lock-one-owner-per-queue",
            "{}: {:?} for {client} (granted {granted}) at {now:?}, held by {held:?}",
            key.0,
            key.1
        );
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
            let held = self.locks.get(&key);
            crate::invariant!(
                held.is_none_or(|(owner, _)| owner != client),
                "lock-released-by-its-owner",
                "{group}: {queue:?} still held by {client} after it unlocked it"
            );
        }
    }
}

/// A lock changes hands only once its owner let it lapse (a renewal is the owner's own).
fn check_taken(previous: Option<&(String, Time)>, client: &str, now: Time) {
    crate::invariant!(
        previous.is_none_or(|(owner, renewed)| {
            *renewed <= now && (owner == client || renewed.plus_ms(LOCK_MAX_LIVE_MS) < now)
        }),
        "lock-taken-only-when-lapsed",
        "{client} took a lock at {now:?} from {previous:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of the invariant `f` violates.
    fn violated(f: impl FnOnce()) -> String {
        crate::invariant::fired(f).0
    }

    /// A table that names another owner than the one just granted, or a lock renewed in the
    /// future, is caught.
    #[test]
    fn a_lock_with_two_owners_is_caught() {
        let q = MessageQueue {
            topic: "t".into(),
            broker_name: "b".into(),
            queue_id: 0,
        };
        let mut locks = QueueLocks::default();
        let now = Time::from_ms(1_000);
        locks.try_lock(now, "g", "c1", std::slice::from_ref(&q));
        let key = ("g".to_string(), q.clone());
        let name = violated(|| locks.check_outcome(&key, "c2", now, true));
        assert_eq!(name, "lock-one-owner-per-queue");
        let name = violated(|| {
            locks.try_lock(Time::ZERO, "g", "c1", std::slice::from_ref(&q));
        });
        assert_eq!(name, "lock-taken-only-when-lapsed");
    }

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

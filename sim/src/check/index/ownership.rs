//! Who owns each queue, from the allocations consumers' rebalances computed (`Allocated`: the
//! allocate strategy's answer, before the process queues follow it) and their processes'
//! stops (the harness): what each consumer was allocated at each moment, and how long each
//! hand-over took (a queue allocated to two live consumers of a group at once, from the new
//! owner's allocation to the old owner's letting go). A hand-over between consumers whose
//! rebalances saw different numbers of the topic's queues (a route not yet refreshed) is kept
//! apart: the old owner's next rebalance does not end it, its next route refresh (30 s) does.
//! Different numbers of consumers are what starts a hand-over, and the old owner's next
//! rebalance (within 20 s, or at once when the broker notifies it) asks for the list again.

use model::Time;
use std::collections::BTreeMap;

/// The queues one rebalance allocated to a consumer: (broker, queue id).
type Allocation = Vec<(String, u32)>;

/// A queue of a group: (group, topic, broker, queue id).
type GroupQueue = (String, String, String, u32);

/// What a rebalance saw of the topic: how many queues its route had.
type View = u32;

/// One hand-over: how long it took, and whether the consumers involved saw the same queues.
#[derive(Copy, Clone, Debug)]
pub(in crate::check) struct Handover {
    pub took_ms: u64,
    pub same_view: bool,
}

/// What one consumer owns of one topic.
struct Owned {
    group: String,
    /// The view of its latest allocation.
    view: View,
    /// Its allocations in time order; a stopped process owns nothing.
    allocations: Vec<(Time, Allocation)>,
}

#[derive(Default)]
pub(in crate::check) struct Ownership {
    /// Per consumer, per topic: what it owns (looked up by `&str` on every delivery).
    consumers: BTreeMap<String, BTreeMap<String, Owned>>,
    /// Queues allocated to two or more live consumers at once: since when, and whether
    /// their views have agreed all along.
    shared: BTreeMap<GroupQueue, (Time, bool)>,
    /// Per group: its hand-overs.
    pub handovers: BTreeMap<String, Vec<Handover>>,
}

impl Ownership {
    pub fn allocated(
        &mut self,
        at: Time,
        (group, consumer, topic): (&str, &str, &str),
        mine: &[(String, u32)],
        view: View,
    ) {
        let topics = self.consumers.entry(consumer.to_string()).or_default();
        let owned = topics.entry(topic.to_string()).or_insert_with(|| Owned {
            group: group.to_string(),
            view,
            allocations: Vec::new(),
        });
        owned.group = group.to_string();
        owned.view = view;
        owned.allocations.push((at, mine.to_vec()));
        self.settle(at, group, topic);
    }

    /// A stopped process owns nothing.
    pub fn stopped(&mut self, at: Time, consumer: &str) {
        let Some(topics) = self.consumers.get_mut(consumer) else {
            return;
        };
        let mut touched = Vec::new();
        for (topic, owned) in topics {
            let list = &mut owned.allocations;
            if list.last().is_some_and(|(_, mine)| !mine.is_empty()) {
                list.push((at, Vec::new()));
                touched.push((owned.group.clone(), topic.clone()));
            }
        }
        for (group, topic) in touched {
            self.settle(at, &group, &topic);
        }
    }

    /// The end of the history: hand-overs still open end here (unfinished, they count with
    /// how long they had lasted).
    pub fn finish(&mut self, at: Time) {
        for ((group, ..), (since, same_view)) in std::mem::take(&mut self.shared) {
            let took_ms = at.ms_since(since);
            let handover = Handover { took_ms, same_view };
            self.handovers.entry(group).or_default().push(handover);
        }
    }

    /// When the consumer's rebalance allocated `queue` (broker, topic, queue id) to others,
    /// if its latest allocation before `handed` excluded it.
    pub fn allocated_away(
        &self,
        consumer: &str,
        (broker, topic, queue_id): (&str, &str, u32),
        handed: Time,
    ) -> Option<Time> {
        let owned = self.consumers.get(consumer)?.get(topic)?;
        let mut allocations = owned.allocations.iter().rev();
        let (at, mine) = allocations.find(|(at, _)| *at < handed)?;
        let owns = mine.iter().any(|(b, q)| b == broker && *q == queue_id);
        (!owns).then_some(*at)
    }

    /// Per queue of `group` on `topic`: how many live consumers hold it, and their views.
    fn holders(&self, group: &str, topic: &str) -> BTreeMap<(String, u32), Vec<View>> {
        let mut holders: BTreeMap<(String, u32), Vec<View>> = BTreeMap::new();
        for topics in self.consumers.values() {
            let Some(owned) = topics.get(topic).filter(|o| o.group == group) else {
                continue;
            };
            let Some((_, mine)) = owned.allocations.last() else {
                continue;
            };
            for queue in mine {
                holders.entry(queue.clone()).or_default().push(owned.view);
            }
        }
        holders
    }

    /// After an allocation of `group` on `topic` changed: which queues are shared now, and
    /// which hand-overs ended.
    fn settle(&mut self, at: Time, group: &str, topic: &str) {
        let holders = self.holders(group, topic);
        let ours = |key: &GroupQueue| key.0 == group && key.1 == topic;
        let held_by = |key: &GroupQueue| holders.get(&(key.2.clone(), key.3)).map_or(0, Vec::len);
        let ended: Vec<(GroupQueue, (Time, bool))> = (self.shared.iter())
            .filter(|(key, _)| ours(key) && held_by(key) < 2)
            .map(|(key, shared)| (key.clone(), *shared))
            .collect();
        for (key, (since, same_view)) in ended {
            self.shared.remove(&key);
            let took_ms = at.ms_since(since);
            let handover = Handover { took_ms, same_view };
            self.handovers
                .entry(group.to_string())
                .or_default()
                .push(handover);
        }
        for ((broker, queue_id), views) in holders {
            if views.len() > 1 {
                let key = (group.to_string(), topic.to_string(), broker, queue_id);
                let agree = views.windows(2).all(|w| w[0] == w[1]);
                let shared = self.shared.entry(key).or_insert((at, agree));
                shared.1 &= agree;
            }
        }
    }
}

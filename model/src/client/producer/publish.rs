//! A topic's writable queues as the producer sees them (`TopicPublishInfo`) and the queue
//! choice (`selectOneMessageQueue`).

use crate::protocol::route::perm;
use crate::protocol::{MessageQueue, TopicRouteData};

#[derive(Clone, Debug, Default)]
pub struct TopicPublishInfo {
    /// Writable queues of groups that have a master, sorted by broker name.
    pub queues: Vec<MessageQueue>,
    /// The round-robin counter (`sendWhichQueue`); starts at a random value.
    pub send_which_queue: u64,
}

impl TopicPublishInfo {
    /// `topicRouteData2TopicPublishInfo`.
    pub fn from_route(
        topic: &str,
        route: &TopicRouteData,
        send_which_queue: u64,
    ) -> TopicPublishInfo {
        let mut queue_datas = route.queue_datas.clone();
        queue_datas.sort();
        let mut queues = Vec::new();
        for qd in queue_datas {
            if !perm::is_writeable(qd.perm) {
                continue;
            }
            let has_master = route
                .broker(&qd.broker_name)
                .is_some_and(|b| b.master().is_some());
            if !has_master {
                continue;
            }
            for queue_id in 0..qd.write_queue_nums {
                queues.push(MessageQueue {
                    topic: topic.to_string(),
                    broker_name: qd.broker_name.clone(),
                    queue_id,
                });
            }
        }
        crate::invariant!(
            queues.windows(2).all(|w| w[0] < w[1]),
            "publish-info-queues-sorted-unique",
            "{topic}: {} writable queues, not each once in queue order",
            queues.len()
        );
        TopicPublishInfo {
            queues,
            send_which_queue,
        }
    }

    /// `ok()`: something to send to.
    pub fn ok(&self) -> bool {
        !self.queues.is_empty()
    }

    fn next(&mut self) -> usize {
        self.send_which_queue = self.send_which_queue.wrapping_add(1);
        // Java takes Math.abs of an int; the counter here never goes negative.
        (self.send_which_queue % self.queues.len() as u64) as usize
    }

    /// The next queue round-robin, skipping `last_broker` if another broker has queues.
    pub fn select(&mut self, last_broker: Option<&str>) -> Option<MessageQueue> {
        if self.queues.is_empty() {
            return None;
        }
        if let Some(last) = last_broker {
            for _ in 0..self.queues.len() {
                let index = self.next();
                if self.queues[index].broker_name != last {
                    return Some(self.queues[index].clone());
                }
            }
        }
        let index = self.next();
        // Sorted by broker name: one broker alone iff the first and last queues share it.
        let (first, end) = (&self.queues[0], &self.queues[self.queues.len() - 1]);
        crate::invariant!(
            last_broker.is_none() || first.broker_name == end.broker_name,
            "publish-retry-avoids-last-broker",
            "a retry went back to {last_broker:?} though {} and {} have queues",
            first.broker_name,
            end.broker_name
        );
        Some(self.queues[index].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NodeId;
    use crate::protocol::route::{BrokerData, QueueData};
    use std::collections::BTreeMap;

    fn route(masters: &[(&str, bool)]) -> TopicRouteData {
        TopicRouteData {
            queue_datas: masters
                .iter()
                .map(|(name, _)| QueueData {
                    broker_name: name.to_string(),
                    read_queue_nums: 2,
                    write_queue_nums: 2,
                    perm: perm::READ_WRITE,
                })
                .collect(),
            broker_datas: masters
                .iter()
                .map(|(name, master)| BrokerData {
                    cluster: "c".into(),
                    broker_name: name.to_string(),
                    broker_addrs: if *master {
                        BTreeMap::from([(0, NodeId(1))])
                    } else {
                        BTreeMap::from([(1, NodeId(2))])
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn only_groups_with_a_master_take_writes() {
        let info = TopicPublishInfo::from_route("t", &route(&[("b", true), ("a", false)]), 0);
        assert_eq!(info.queues.len(), 2);
        assert!(info.queues.iter().all(|q| q.broker_name == "b"));
    }

    #[test]
    fn a_retry_avoids_the_last_broker() {
        let mut info = TopicPublishInfo::from_route("t", &route(&[("a", true), ("b", true)]), 7);
        for _ in 0..10 {
            assert_eq!(info.select(Some("a")).unwrap().broker_name, "b");
        }
        let mut only_a = TopicPublishInfo::from_route("t", &route(&[("a", true)]), 7);
        assert_eq!(only_a.select(Some("a")).unwrap().broker_name, "a");
    }

    #[test]
    fn selection_is_round_robin() {
        let mut info = TopicPublishInfo::from_route("t", &route(&[("a", true), ("b", true)]), 0);
        let picks: Vec<(String, u32)> = (0..4)
            .map(|_| {
                info.select(None)
                    .map(|q| (q.broker_name, q.queue_id))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            picks,
            [("a", 1), ("b", 0), ("b", 1), ("a", 0)].map(|(b, q)| (b.to_string(), q))
        );
    }
}

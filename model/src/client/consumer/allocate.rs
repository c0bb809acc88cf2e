//! How a consumer group shares a topic's queues (`AllocateMessageQueueStrategy`): every
//! consumer computes the same answer from the same sorted queue and consumer lists, so views
//! that disagree make queues with two owners or none.

use crate::protocol::MessageQueue;
use md5::{Digest, Md5};
use std::collections::BTreeMap;

/// The strategies a scenario can choose.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `AllocateMessageQueueAveragely` (the default): contiguous blocks.
    Averagely,
    /// `AllocateMessageQueueAveragelyByCircle`: round-robin.
    ByCircle,
    /// `AllocateMessageQueueConsistentHash` with 10 virtual nodes and MD5.
    ConsistentHash,
}

/// The queues `me` gets out of `all` among `consumers` (both sorted). Empty if `me` is not
/// among the consumers.
pub fn allocate(
    strategy: Strategy,
    me: &str,
    all: &[MessageQueue],
    consumers: &[String],
) -> Vec<MessageQueue> {
    crate::invariant!(
        all.windows(2).all(|w| w[0] < w[1]),
        "allocation-queues-sorted-unique",
        "{} queues, not in strictly ascending order",
        all.len()
    );
    crate::invariant!(
        consumers.windows(2).all(|w| w[0] <= w[1]),
        "allocation-consumers-sorted",
        "consumer ids {consumers:?} are not sorted"
    );
    let Some(index) = consumers.iter().position(|c| c == me) else {
        return Vec::new();
    };
    if all.is_empty() {
        return Vec::new();
    }
    let mine = match strategy {
        Strategy::Averagely => averagely(index, all, consumers.len()),
        Strategy::ByCircle => (index..all.len())
            .filter(|i| i % consumers.len() == index)
            .map(|i| all[i].clone())
            .collect(),
        Strategy::ConsistentHash => consistent_hash(me, all, consumers),
    };
    check_allocation(strategy, all, consumers.len(), &mine);
    mine
}

/// An allocation takes each queue once, only queues it was given, and (but for the consistent
/// hash) a fair share: the queue count divided by the consumer count, rounded down or up.
fn check_allocation(
    strategy: Strategy,
    all: &[MessageQueue],
    consumers: usize,
    mine: &[MessageQueue],
) {
    crate::invariant!(
        mine.windows(2).all(|w| w[0] < w[1]) && mine.iter().all(|q| all.binary_search(q).is_ok()),
        "allocation-subset-of-queues-each-once",
        "{strategy:?}: {} queues allocated out of {}, not a subset taken once each",
        mine.len(),
        all.len()
    );
    let (n, c) = (all.len(), consumers);
    crate::invariant!(
        strategy == Strategy::ConsistentHash || mine.len() == n / c || mine.len() == n.div_ceil(c),
        "allocation-share-is-fair",
        "{strategy:?}: {} of {n} queues for one of {c} consumers",
        mine.len()
    );
}

fn averagely(index: usize, all: &[MessageQueue], consumers: usize) -> Vec<MessageQueue> {
    let n = all.len();
    let modulo = n % consumers;
    let average = if n <= consumers {
        1
    } else if modulo > 0 && index < modulo {
        n / consumers + 1
    } else {
        n / consumers
    };
    let start = if modulo > 0 && index < modulo {
        index * average
    } else {
        index * average + modulo
    };
    let range = average.min(n.saturating_sub(start));
    (0..range).map(|i| all[(start + i) % n].clone()).collect()
}

/// The first 4 bytes of the key's MD5, big-endian (`ConsistentHashRouter.MD5Hash`).
fn md5_hash(key: &str) -> u64 {
    let digest = Md5::digest(key.as_bytes());
    digest[..4]
        .iter()
        .fold(0u64, |h, b| (h << 8) | u64::from(*b))
}

fn consistent_hash(me: &str, all: &[MessageQueue], consumers: &[String]) -> Vec<MessageQueue> {
    const VIRTUAL_NODES: usize = 10;
    let mut ring: BTreeMap<u64, &str> = BTreeMap::new();
    for consumer in consumers {
        for replica in 0..VIRTUAL_NODES {
            ring.insert(
                md5_hash(&format!("{consumer}-{replica}")),
                consumer.as_str(),
            );
        }
    }
    all.iter()
        .filter(|queue| {
            // `MessageQueue.toString`, as the ring hashes it.
            let key = format!(
                "MessageQueue [topic={}, brokerName={}, queueId={}]",
                queue.topic, queue.broker_name, queue.queue_id
            );
            let hash = md5_hash(&key);
            let owner = ring
                .range(hash..)
                .next()
                .or_else(|| ring.iter().next())
                .map(|(_, c)| *c);
            owner == Some(me)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RocketMQ 4.9.8's own classes, run for N queues (rows) x C consumers (columns), 1..8:
    /// each cell lists every consumer's queue ids, consumers separated by `|`.
    #[rustfmt::skip]
    const AVERAGELY: [[&str; 8]; 8] = [
        ["0", "0|", "0||", "0|||", "0||||", "0|||||", "0||||||", "0|||||||"],
        ["0,1", "0|1", "0|1|", "0|1||", "0|1|||", "0|1||||", "0|1|||||", "0|1||||||"],
        ["0,1,2", "0,1|2", "0|1|2", "0|1|2|", "0|1|2||", "0|1|2|||", "0|1|2||||", "0|1|2|||||"],
        ["0,1,2,3", "0,1|2,3", "0,1|2|3", "0|1|2|3", "0|1|2|3|", "0|1|2|3||", "0|1|2|3|||", "0|1|2|3||||"],
        ["0,1,2,3,4", "0,1,2|3,4", "0,1|2,3|4", "0,1|2|3|4", "0|1|2|3|4", "0|1|2|3|4|", "0|1|2|3|4||", "0|1|2|3|4|||"],
        ["0,1,2,3,4,5", "0,1,2|3,4,5", "0,1|2,3|4,5", "0,1|2,3|4|5", "0,1|2|3|4|5", "0|1|2|3|4|5", "0|1|2|3|4|5|", "0|1|2|3|4|5||"],
        ["0,1,2,3,4,5,6", "0,1,2,3|4,5,6", "0,1,2|3,4|5,6", "0,1|2,3|4,5|6", "0,1|2,3|4|5|6", "0,1|2|3|4|5|6", "0|1|2|3|4|5|6", "0|1|2|3|4|5|6|"],
        ["0,1,2,3,4,5,6,7", "0,1,2,3|4,5,6,7", "0,1,2|3,4,5|6,7", "0,1|2,3|4,5|6,7", "0,1|2,3|4,5|6|7", "0,1|2,3|4|5|6|7", "0,1|2|3|4|5|6|7", "0|1|2|3|4|5|6|7"],
    ];

    #[rustfmt::skip]
    const BY_CIRCLE: [[&str; 8]; 8] = [
        ["0", "0|", "0||", "0|||", "0||||", "0|||||", "0||||||", "0|||||||"],
        ["0,1", "0|1", "0|1|", "0|1||", "0|1|||", "0|1||||", "0|1|||||", "0|1||||||"],
        ["0,1,2", "0,2|1", "0|1|2", "0|1|2|", "0|1|2||", "0|1|2|||", "0|1|2||||", "0|1|2|||||"],
        ["0,1,2,3", "0,2|1,3", "0,3|1|2", "0|1|2|3", "0|1|2|3|", "0|1|2|3||", "0|1|2|3|||", "0|1|2|3||||"],
        ["0,1,2,3,4", "0,2,4|1,3", "0,3|1,4|2", "0,4|1|2|3", "0|1|2|3|4", "0|1|2|3|4|", "0|1|2|3|4||", "0|1|2|3|4|||"],
        ["0,1,2,3,4,5", "0,2,4|1,3,5", "0,3|1,4|2,5", "0,4|1,5|2|3", "0,5|1|2|3|4", "0|1|2|3|4|5", "0|1|2|3|4|5|", "0|1|2|3|4|5||"],
        ["0,1,2,3,4,5,6", "0,2,4,6|1,3,5", "0,3,6|1,4|2,5", "0,4|1,5|2,6|3", "0,5|1,6|2|3|4", "0,6|1|2|3|4|5", "0|1|2|3|4|5|6", "0|1|2|3|4|5|6|"],
        ["0,1,2,3,4,5,6,7", "0,2,4,6|1,3,5,7", "0,3,6|1,4,7|2,5", "0,4|1,5|2,6|3,7", "0,5|1,6|2,7|3|4", "0,6|1,7|2|3|4|5", "0,7|1|2|3|4|5|6", "0|1|2|3|4|5|6|7"],
    ];

    #[rustfmt::skip]
    const CONSISTENT_HASH: [[&str; 8]; 8] = [
        ["0", "|0", "||0", "||0|", "||||0", "||||0|", "||||0||", "||||0|||"],
        ["0,1", "|0,1", "||0,1", "||0,1|", "||||0,1", "||||0,1|", "||||0,1||", "||||0,1|||"],
        ["0,1,2", "2|0,1", "2||0,1", "2||0,1|", "2||||0,1", "||||0,1|2", "||||0,1|2|", "||||0,1|||2"],
        ["0,1,2,3", "2|0,1,3", "2|3|0,1", "2||0,1|3", "2|||3|0,1", "|||3|0,1|2", "||||0,1|2|3", "||||0,1||3|2"],
        ["0,1,2,3,4", "2|0,1,3,4", "2|3|0,1,4", "2||0,1,4|3", "2||4|3|0,1", "|||3|0,1|2,4", "||||0,1|2,4|3", "||||0,1|4|3|2"],
        ["0,1,2,3,4,5", "2|0,1,3,4,5", "2|3,5|0,1,4", "2|5|0,1,4|3", "2|5|4|3|0,1", "|5||3|0,1|2,4", "|5|||0,1|2,4|3", "|5|||0,1|4|3|2"],
        ["0,1,2,3,4,5,6", "2,6|0,1,3,4,5", "2,6|3,5|0,1,4", "2,6|5|0,1,4|3", "2,6|5|4|3|0,1", "6|5||3|0,1|2,4", "6|5|||0,1|2,4|3", "6|5|||0,1|4|3|2"],
        ["0,1,2,3,4,5,6,7", "2,6,7|0,1,3,4,5", "2,6|3,5|0,1,4,7", "2,6|5|0,1,4,7|3", "2,6|5|4,7|3|0,1", "6|5|7|3|0,1|2,4", "6|5|7||0,1|2,4|3", "6|5|7||0,1|4|3|2"],
    ];

    fn table(strategy: Strategy, queues: usize, consumers: usize) -> String {
        let all: Vec<MessageQueue> = (0..queues as u32)
            .map(|queue_id| MessageQueue {
                topic: "t".into(),
                broker_name: "broker-a".into(),
                queue_id,
            })
            .collect();
        let ids: Vec<String> = (0..consumers).map(|i| format!("c{i}")).collect();
        ids.iter()
            .map(|me| {
                allocate(strategy, me, &all, &ids)
                    .iter()
                    .map(|q| q.queue_id.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    fn check(strategy: Strategy, expected: &[[&str; 8]; 8]) {
        for (n, row) in expected.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                assert_eq!(
                    table(strategy, n + 1, c + 1),
                    *cell,
                    "{strategy:?}: {} queues, {} consumers",
                    n + 1,
                    c + 1
                );
            }
        }
    }

    #[test]
    fn averagely_matches_rocketmq() {
        check(Strategy::Averagely, &AVERAGELY);
    }

    #[test]
    fn by_circle_matches_rocketmq() {
        check(Strategy::ByCircle, &BY_CIRCLE);
    }

    #[test]
    fn consistent_hash_matches_rocketmq() {
        check(Strategy::ConsistentHash, &CONSISTENT_HASH);
    }

    #[test]
    fn an_unsorted_queue_list_violates_an_invariant() {
        let queue = |queue_id| MessageQueue {
            topic: "t".into(),
            broker_name: "b".into(),
            queue_id,
        };
        let (name, _) = crate::invariant::fired(|| {
            allocate(
                Strategy::Averagely,
                "a",
                &[queue(1), queue(0)],
                &["a".to_string()],
            );
        });
        assert_eq!(name, "allocation-queues-sorted-unique");
    }

    #[test]
    fn a_consumer_not_in_the_list_gets_nothing() {
        let all = vec![MessageQueue {
            topic: "t".into(),
            broker_name: "b".into(),
            queue_id: 0,
        }];
        assert!(allocate(Strategy::Averagely, "x", &all, &["a".to_string()]).is_empty());
    }
}

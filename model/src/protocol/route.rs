//! Route data as the name server keeps and serves it (`TopicRouteData`, `QueueData`,
//! `BrokerData`), and the topic config a broker registers.

use crate::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The broker id of a master (`MixAll.MASTER_ID`); slaves have ids above it.
pub const MASTER_ID: u64 = 0;

/// A consumer group's retry topic (`MixAll.getRetryTopic`).
pub fn retry_topic(group: &str) -> String {
    format!("%RETRY%{group}")
}

/// A consumer group's dead-letter topic (`MixAll.getDLQTopic`).
pub fn dlq_topic(group: &str) -> String {
    format!("%DLQ%{group}")
}

/// The topic delayed messages wait in (`TopicValidator.RMQ_SYS_SCHEDULE_TOPIC`).
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// Topic permission bits (`PermName`).
pub mod perm {
    pub const READ: u8 = 4;
    pub const WRITE: u8 = 2;
    pub const INHERIT: u8 = 1;
    pub const READ_WRITE: u8 = READ | WRITE;

    pub fn is_readable(perm: u8) -> bool {
        perm & READ != 0
    }

    pub fn is_writeable(perm: u8) -> bool {
        perm & WRITE != 0
    }
}

/// A topic as one broker hosts it (`TopicConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    pub name: String,
    pub read_queue_nums: u32,
    pub write_queue_nums: u32,
    pub perm: u8,
}

/// One broker group's queues for a topic (`QueueData`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueData {
    pub broker_name: String,
    pub read_queue_nums: u32,
    pub write_queue_nums: u32,
    pub perm: u8,
}

/// One broker group's addresses by broker id (`BrokerData`); id 0 is the master.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerData {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addrs: BTreeMap<u64, NodeId>,
}

impl BrokerData {
    pub fn master(&self) -> Option<NodeId> {
        self.broker_addrs.get(&MASTER_ID).copied()
    }
}

/// What `GET_ROUTEINFO_BY_TOPIC` returns (`TopicRouteData`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRouteData {
    /// Sorted by broker name, as the client sorts them before building its queue list.
    pub queue_datas: Vec<QueueData>,
    pub broker_datas: Vec<BrokerData>,
}

impl TopicRouteData {
    pub fn broker(&self, broker_name: &str) -> Option<&BrokerData> {
        self.broker_datas
            .iter()
            .find(|broker| broker.broker_name == broker_name)
    }
}

/// A queue of a topic on one broker group (`MessageQueue`). Orders as RocketMQ's does: topic,
/// then broker name, then queue id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageQueue {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: u32,
}

impl std::fmt::Display for MessageQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.topic, self.broker_name, self.queue_id)
    }
}

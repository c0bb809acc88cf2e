//! The broker's topics (`TopicConfigManager`): those configured, plus the retry and dead-letter
//! topics it creates for consumer groups (`createTopicInSendMessageBackMethod`).

use crate::protocol::TopicConfig;
use crate::protocol::route::perm;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Topics {
    table: BTreeMap<String, TopicConfig>,
}

impl Topics {
    pub fn new(configured: &[TopicConfig]) -> Topics {
        Topics {
            table: configured
                .iter()
                .map(|t| (t.name.clone(), t.clone()))
                .collect(),
        }
    }

    pub fn get(&self, topic: &str) -> Option<&TopicConfig> {
        self.table.get(topic)
    }

    /// Every topic, for registration with the name servers.
    pub fn all(&self) -> Vec<TopicConfig> {
        self.table.values().cloned().collect()
    }

    /// A slave takes its master's table as it is (`clear` then `putAll`).
    pub fn replace_all(&mut self, topics: Vec<TopicConfig>) {
        self.table = topics.into_iter().map(|t| (t.name.clone(), t)).collect();
    }

    /// Creates a one-queue topic if missing. Returns whether it was created (the broker then
    /// registers again, so that clients find it).
    pub fn create_if_missing(&mut self, topic: &str, queues: u32) -> bool {
        if self.table.contains_key(topic) {
            return false;
        }
        self.table.insert(
            topic.to_string(),
            TopicConfig {
                name: topic.to_string(),
                read_queue_nums: queues,
                write_queue_nums: queues,
                perm: perm::READ_WRITE,
            },
        );
        true
    }
}

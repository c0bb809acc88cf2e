//! The broker's topics (`TopicConfigManager`): those configured, plus the retry and dead-letter
//! topics it creates for consumer groups (`createTopicInSendMessageBackMethod`), which it
//! persists to `topics.json` (written, not forced, like every config file) and loads at start.

use crate::disk::Disk;
use crate::protocol::TopicConfig;
use crate::protocol::route::perm;
use std::collections::BTreeMap;

/// `topics.json`.
const PATH: &str = "config/topics.json";

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

    /// The configured topics and those a previous run of the process created or changed and
    /// persisted (the persisted config wins).
    pub fn load(configured: &[TopicConfig], disk: &dyn Disk) -> Topics {
        let mut topics = Topics::new(configured);
        let persisted = disk
            .len(PATH)
            .and_then(|len| {
                serde_json::from_slice::<Vec<TopicConfig>>(&disk.read(PATH, 0, len as usize)).ok()
            })
            .unwrap_or_default();
        // What an operator changed (`update-topic`) outlives the process.
        for topic in persisted {
            topics.table.insert(topic.name.clone(), topic);
        }
        topics
    }

    /// `persist`: the whole table, in the page cache (no fsync).
    pub fn persist(&self, disk: &mut dyn Disk) {
        let json = serde_json::to_vec(&self.all()).expect("topic configs serialize");
        disk.truncate(PATH, 0);
        disk.write(PATH, 0, &json);
    }

    pub fn get(&self, topic: &str) -> Option<&TopicConfig> {
        let found = self.table.get(topic);
        crate::invariant!(
            found.is_none_or(|config| config.name == topic),
            "topics-config-under-its-name",
            "{topic} has the config of {:?}",
            found.map(|config| &config.name)
        );
        found
    }

    /// How many topics the table holds.
    pub fn count(&self) -> usize {
        self.table.len()
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
    pub fn create_if_missing(&mut self, disk: &mut dyn Disk, topic: &str, queues: u32) -> bool {
        if self.table.contains_key(topic) {
            return false;
        }
        self.insert_one(topic, queues);
        let created = self.get(topic);
        crate::invariant!(
            queues > 0
                && created.is_some_and(|t| {
                    t.read_queue_nums == queues
                        && t.write_queue_nums == queues
                        && perm::is_writeable(t.perm)
                }),
            "topics-created-writable-with-queues",
            "{topic} created with {queues} queue(s): {created:?}"
        );
        self.persist(disk);
        true
    }

    /// `updateTopicConfig`: the topic as the operator gave it, persisted.
    pub fn update(&mut self, disk: &mut dyn Disk, config: TopicConfig) {
        let name = config.name.clone();
        self.table.insert(name.clone(), config.clone());
        crate::invariant!(
            self.get(&name) == Some(&config),
            "topics-update-stored",
            "{name} updated to {config:?}, the table holds {:?}",
            self.get(&name)
        );
        self.persist(disk);
    }

    fn insert_one(&mut self, topic: &str, queues: u32) {
        self.table.insert(
            topic.to_string(),
            TopicConfig {
                name: topic.to_string(),
                read_queue_nums: queues,
                write_queue_nums: queues,
                perm: perm::READ_WRITE,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    /// A retry topic created at run time survives a restart of the process: it is in
    /// `topics.json`, which the next process loads with the configured topics.
    #[test]
    fn created_topics_survive_a_restart() {
        let mut disk = MemDisk::new();
        let mut topics = Topics::new(&[]);
        assert!(topics.create_if_missing(&mut disk, "%RETRY%billing", 1));
        assert!(!topics.create_if_missing(&mut disk, "%RETRY%billing", 1));
        let restarted = Topics::load(&[], &disk);
        assert_eq!(
            restarted.get("%RETRY%billing").map(|t| t.write_queue_nums),
            Some(1)
        );
    }
}

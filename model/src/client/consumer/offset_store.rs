//! Where a consumer keeps its progress (`RemoteBrokerOffsetStore`, `LocalFileOffsetStore`):
//! in memory, sent to the broker every 5 s (clustering), or saved to a local file every 5 s
//! (broadcasting), never forced to disk.

use crate::disk::Disk;
use crate::protocol::MessageQueue;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct OffsetStore {
    table: BTreeMap<MessageQueue, u64>,
}

impl OffsetStore {
    /// `updateOffset`: with `increase_only`, never moves back.
    pub fn update(&mut self, queue: &MessageQueue, offset: u64, increase_only: bool) {
        let before = self.table.get(queue).copied();
        let entry = self.table.entry(queue.clone()).or_insert(offset);
        if !increase_only || offset > *entry {
            *entry = offset;
        }
        let after = *entry;
        crate::invariant!(
            !increase_only || before.is_none_or(|before| after >= before),
            "offset-store-never-rewinds-on-update",
            "{queue}: {before:?} moved back to {after} by an increase-only update to {offset}"
        );
        crate::invariant!(
            after == offset || (increase_only && after > offset),
            "offset-store-update-takes-effect",
            "{queue}: update to {offset} (increase only: {increase_only}) left {after}"
        );
    }

    /// `readOffset(READ_FROM_MEMORY)`.
    pub fn read(&self, queue: &MessageQueue) -> Option<u64> {
        self.table.get(queue).copied()
    }

    pub fn remove(&mut self, queue: &MessageQueue) {
        self.table.remove(queue);
    }

    /// The offsets of the queues still in use; forgets the others (`persistAll`).
    pub fn retain_in_use(
        &mut self,
        in_use: impl Fn(&MessageQueue) -> bool,
    ) -> Vec<(MessageQueue, u64)> {
        self.table.retain(|queue, _| in_use(queue));
        self.table.iter().map(|(q, o)| (q.clone(), *o)).collect()
    }

    /// The local file of a broadcasting consumer.
    fn path(group: &str) -> String {
        format!("app/offsets/{group}.json")
    }

    /// Saves every offset to the local file (`LocalFileOffsetStore.persistAll`).
    pub fn save(&self, disk: &mut dyn Disk, group: &str) {
        let entries: Vec<serde_json::Value> = self
            .table
            .iter()
            .map(|(q, o)| serde_json::json!([q.topic, q.broker_name, q.queue_id, o]))
            .collect();
        let text = serde_json::Value::Array(entries).to_string();
        let path = Self::path(group);
        disk.truncate(&path, 0);
        disk.write(&path, 0, text.as_bytes());
    }

    /// Loads the local file, if it is readable.
    pub fn load(disk: &dyn Disk, group: &str) -> OffsetStore {
        let path = Self::path(group);
        let mut store = OffsetStore::default();
        let Some(len) = disk.len(&path) else {
            return store;
        };
        let Ok(serde_json::Value::Array(entries)) =
            serde_json::from_slice(&disk.read(&path, 0, len as usize))
        else {
            return store;
        };
        for entry in entries {
            if let (Some(topic), Some(broker), Some(queue_id), Some(offset)) = (
                entry[0].as_str(),
                entry[1].as_str(),
                entry[2].as_u64(),
                entry[3].as_u64(),
            ) {
                let queue = MessageQueue {
                    topic: topic.to_string(),
                    broker_name: broker.to_string(),
                    queue_id: queue_id as u32,
                };
                store.table.insert(queue, offset);
            }
        }
        store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    #[test]
    fn increase_only_and_local_files() {
        let q = MessageQueue {
            topic: "t".into(),
            broker_name: "b".into(),
            queue_id: 1,
        };
        let mut store = OffsetStore::default();
        store.update(&q, 5, true);
        store.update(&q, 3, true);
        assert_eq!(store.read(&q), Some(5));
        store.update(&q, 3, false);
        assert_eq!(store.read(&q), Some(3));
        let mut disk = MemDisk::new();
        store.save(&mut disk, "g");
        assert_eq!(OffsetStore::load(&disk, "g").read(&q), Some(3));
    }
}

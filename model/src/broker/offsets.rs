//! Committed consumer offsets (`ConsumerOffsetManager`): what each group has consumed of each
//! queue. Written to `config/consumerOffset.json` every 5 s the way `ConfigManager.persist`
//! does it (the previous version copied to `.bak` first), and never forced to disk: after a
//! power loss the file holds whatever the OS had written back, and a broken file falls back to
//! the backup, or to nothing.

use crate::disk::Disk;
use std::collections::BTreeMap;

pub const PATH: &str = "store/config/consumerOffset.json";
pub const BACKUP_PATH: &str = "store/config/consumerOffset.json.bak";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    /// `topic@group` -> queue id -> offset.
    table: BTreeMap<String, BTreeMap<u32, u64>>,
}

fn key(topic: &str, group: &str) -> String {
    format!("{topic}@{group}")
}

impl Offsets {
    /// Every entry: (`topic@group`, queue id, offset).
    pub fn entries(&self) -> Vec<(String, u32, u64)> {
        self.table
            .iter()
            .flat_map(|(key, queues)| queues.iter().map(move |(q, o)| (key.clone(), *q, *o)))
            .collect()
    }

    /// The groups with an offset of some queue of `topic`.
    pub fn groups_of(&self, topic: &str) -> Vec<String> {
        let prefix = format!("{topic}@");
        let keys = self.table.keys();
        keys.filter_map(|key| key.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// A slave takes its master's offsets over its own (`getOffsetTable().putAll`).
    pub fn put_all(&mut self, entries: Vec<(String, u32, u64)>) {
        for (key, queue, offset) in entries {
            let queues = self.table.entry(key).or_default();
            queues.insert(queue, offset);
            check_stored(queues, queue, offset, "a slave's copy");
        }
    }

    /// Loads the table (`ConfigManager.load`): the file, else its backup, else empty.
    pub fn load(disk: &dyn Disk) -> Offsets {
        Self::read(disk, PATH)
            .or_else(|| Self::read(disk, BACKUP_PATH))
            .unwrap_or_default()
    }

    fn read(disk: &dyn Disk, path: &str) -> Option<Offsets> {
        let len = disk.len(path)?;
        let bytes = disk.read(path, 0, len as usize);
        let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let mut table = BTreeMap::new();
        for (topic_group, queues) in json.get("offsetTable")?.as_object()? {
            let mut offsets = BTreeMap::new();
            for (queue, offset) in queues.as_object()? {
                offsets.insert(queue.parse().ok()?, offset.as_u64()?);
            }
            table.insert(topic_group.clone(), offsets);
        }
        Some(Offsets { table })
    }

    /// `persist`: back the old file up, then write the new one. No fsync.
    pub fn persist(&self, disk: &mut dyn Disk) {
        if let Some(len) = disk.len(PATH) {
            let previous = disk.read(PATH, 0, len as usize).into_owned();
            replace(disk, BACKUP_PATH, &previous);
        }
        let table: serde_json::Map<String, serde_json::Value> = self
            .table
            .iter()
            .map(|(key, queues)| {
                let queues = queues
                    .iter()
                    .map(|(queue, offset)| (queue.to_string(), serde_json::Value::from(*offset)))
                    .collect();
                (key.clone(), serde_json::Value::Object(queues))
            })
            .collect();
        let json = serde_json::json!({ "offsetTable": table });
        replace(disk, PATH, json.to_string().as_bytes());
    }

    pub fn commit(&mut self, group: &str, topic: &str, queue_id: u32, offset: u64) {
        let queues = self.table.entry(key(topic, group)).or_default();
        queues.insert(queue_id, offset);
        check_stored(queues, queue_id, offset, "a commit");
    }

    /// The committed offset, if any (`queryOffset`, -1 in RocketMQ when absent).
    pub fn query(&self, group: &str, topic: &str, queue_id: u32) -> Option<u64> {
        self.table.get(&key(topic, group))?.get(&queue_id).copied()
    }
}

/// What was just stored for a queue is what a query finds there.
fn check_stored(queues: &BTreeMap<u32, u64>, queue_id: u32, offset: u64, what: &str) {
    crate::invariant!(
        queues.get(&queue_id) == Some(&offset),
        "offset-table-reads-what-was-stored",
        "{what} stored {offset} for queue {queue_id}, the table holds {:?}",
        queues.get(&queue_id)
    );
}

/// Writes a whole file's new content (truncate, then write).
fn replace(disk: &mut dyn Disk, path: &str, content: &[u8]) {
    disk.truncate(path, 0);
    disk.write(path, 0, content);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    #[test]
    fn persists_and_loads_with_a_backup() {
        let mut disk = MemDisk::new();
        let mut offsets = Offsets::default();
        offsets.commit("g", "t", 3, 42);
        offsets.persist(&mut disk);
        assert_eq!(Offsets::load(&disk), offsets);
        offsets.commit("g", "t", 3, 50);
        offsets.persist(&mut disk);
        // A torn main file falls back to the previous version.
        disk.write(PATH, 0, b"\0\0\0");
        assert_eq!(Offsets::load(&disk).query("g", "t", 3), Some(42));
        // With both broken, nothing is known.
        disk.write(BACKUP_PATH, 0, b"\0\0\0");
        assert_eq!(Offsets::load(&disk).query("g", "t", 3), None);
    }
}

//! Delayed messages (`ScheduleMessageService`): a message with a delay level is stored in
//! `SCHEDULE_TOPIC_XXXX`, queue `level - 1`, and put back into its real topic when due. Retries
//! of failed messages travel this way. Progress per level is saved to `delayOffset.json`
//! every 10 s, so a broker crash redelivers what was delivered since.

use super::store::record::StoreRequest;
use crate::disk::Disk;
use crate::message::{decode_properties, encode_properties, property};
use crate::protocol::route::SCHEDULE_TOPIC;

/// `messageDelayLevel`: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h".
pub const DELAY_LEVELS_MS: [u64; 18] = [
    1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000,
    480_000, 540_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000,
];

pub const PATH: &str = "store/config/delayOffset.json";
/// How often progress is saved (`flushDelayOffsetInterval`).
pub const PERSIST_INTERVAL_MS: u64 = 10_000;
/// The first check of each level after start (`FIRST_DELAY_TIME`).
pub const FIRST_DELAY_MS: u64 = 1_000;
/// The poll of an idle level (`DELAY_FOR_A_WHILE`); here it starts when something arrives.
pub const DELAY_FOR_A_WHILE_MS: u64 = 100;
/// After a failed put (`DELAY_FOR_A_PERIOD`).
pub const DELAY_FOR_A_PERIOD_MS: u64 = 10_000;

/// How long a level delays.
pub fn delay_ms(level: u32) -> u64 {
    DELAY_LEVELS_MS[(level.clamp(1, 18) - 1) as usize]
}

/// The delay level a message asks for, if any.
pub fn delay_level(properties: &str) -> Option<u32> {
    let level: u32 = decode_properties(properties)
        .get(property::DELAY_TIME_LEVEL)?
        .parse()
        .ok()?;
    (level > 0).then(|| level.min(18))
}

/// Moves a delayed message into the schedule topic, remembering where it belongs
/// (`CommitLog.asyncPutMessage`).
pub fn rewrite_for_delay(request: &mut StoreRequest) {
    let Some(level) = delay_level(&request.properties) else {
        return;
    };
    let mut properties = decode_properties(&request.properties);
    properties.insert(property::REAL_TOPIC.to_string(), request.topic.clone());
    properties.insert(
        property::REAL_QUEUE_ID.to_string(),
        request.queue_id.to_string(),
    );
    properties.insert(property::DELAY_TIME_LEVEL.to_string(), level.to_string());
    request.properties = encode_properties(&properties);
    request.topic = SCHEDULE_TOPIC.to_string();
    request.queue_id = level - 1;
    crate::invariant!(
        (1..=18).contains(&level),
        "delay-rewrite-into-a-level-queue",
        "a delayed message for level {level} would wait in queue {}",
        request.queue_id
    );
}

/// Progress of each level: the next schedule-queue offset to deliver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleOffsets {
    pub next: [u64; 18],
}

impl ScheduleOffsets {
    pub fn load(disk: &dyn Disk) -> ScheduleOffsets {
        let mut offsets = ScheduleOffsets::default();
        let Some(len) = disk.len(PATH) else {
            return offsets;
        };
        let Ok(json) =
            serde_json::from_slice::<serde_json::Value>(&disk.read(PATH, 0, len as usize))
        else {
            return offsets;
        };
        if let Some(table) = json.get("offsetTable").and_then(|t| t.as_object()) {
            for (level, offset) in table {
                if let (Ok(level), Some(offset)) = (level.parse::<usize>(), offset.as_u64())
                    && (1..=18).contains(&level)
                {
                    offsets.next[level - 1] = offset;
                }
            }
        }
        if offsets.next.iter().any(|next| *next > 0) {
            crate::probe!(SCHEDULE_PROGRESS_LOADED);
        }
        offsets
    }

    /// Saved without fsync, like every `ConfigManager` file.
    pub fn persist(&self, disk: &mut dyn Disk) {
        let table: serde_json::Map<String, serde_json::Value> = self
            .next
            .iter()
            .enumerate()
            .filter(|(_, offset)| **offset > 0)
            .map(|(i, offset)| ((i + 1).to_string(), serde_json::Value::from(*offset)))
            .collect();
        let json = serde_json::json!({ "offsetTable": table }).to_string();
        disk.truncate(PATH, 0);
        disk.write(PATH, 0, json.as_bytes());
    }
}

/// The message a due delayed message becomes (`messageTimeup`): back in its real topic and
/// queue, without its delay.
pub fn time_up(stored: &super::store::record::StoredMessage) -> Option<StoreRequest> {
    let mut properties = stored.properties.clone();
    let topic = properties.get(property::REAL_TOPIC)?.clone();
    let queue_id = properties.get(property::REAL_QUEUE_ID)?.parse().ok()?;
    properties.remove(property::DELAY_TIME_LEVEL);
    properties.insert(property::WAIT_STORE_MSG_OK.to_string(), "false".to_string());
    Some(StoreRequest {
        topic,
        queue_id,
        flag: stored.flag,
        sys_flag: 0,
        body: stored.body.clone(),
        properties: encode_properties(&properties),
        born_timestamp_ms: stored.born_timestamp_ms,
        born_host: stored.born_host,
        reconsume_times: stored.reconsume_times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;
    use crate::ids::NodeId;

    #[test]
    fn a_delayed_message_waits_in_its_level_queue() {
        let mut properties = std::collections::BTreeMap::new();
        properties.insert(property::DELAY_TIME_LEVEL.to_string(), "3".to_string());
        let mut request = StoreRequest {
            topic: "%RETRY%g".into(),
            queue_id: 0,
            flag: 0,
            sys_flag: 0,
            body: b"x".to_vec(),
            properties: encode_properties(&properties),
            born_timestamp_ms: 1,
            born_host: NodeId(1),
            reconsume_times: 1,
        };
        rewrite_for_delay(&mut request);
        assert_eq!(
            (request.topic.as_str(), request.queue_id),
            (SCHEDULE_TOPIC, 2)
        );
        assert_eq!(delay_ms(3), 10_000);
        let props = decode_properties(&request.properties);
        assert_eq!(
            props.get(property::REAL_TOPIC).map(String::as_str),
            Some("%RETRY%g")
        );
    }

    #[test]
    fn offsets_persist() {
        let mut disk = MemDisk::new();
        let mut offsets = ScheduleOffsets::default();
        offsets.next[2] = 7;
        offsets.persist(&mut disk);
        assert_eq!(ScheduleOffsets::load(&disk), offsets);
    }
}

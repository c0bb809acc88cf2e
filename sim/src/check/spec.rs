//! The checker's own table of RocketMQ 4.9.8's timings, from its documentation and defaults
//! (`messageDelayLevel`), never the model's: a wrong table in the model must not be judged
//! right by the same table.

/// `ReputMessageService` looks for new records every millisecond: a record is dispatched to
/// its ConsumeQueue at most this long after it was stored.
pub(super) const REPUT_INTERVAL_MS: u64 = 1;

/// How long before an operator's query by key a record acknowledged by the queried broker
/// must be in its index: dispatch (and so indexing) follows the store within the reput's
/// millisecond; the margin covers a reput working through a backlog.
pub(super) const QUERY_SETTLE_MS: u64 = 1_000;

/// `accessMessageInMemoryMaxRatio`, in percent of the machine's memory: a record further
/// behind the CommitLog's end is "in disk" (a new group's rule, and smaller pulls).
pub(super) const ACCESS_MESSAGE_IN_MEMORY_MAX_RATIO: u64 = 40;

/// `persistConsumerOffsetInterval`: a push consumer sends its offsets every 5 s. A listener
/// call longer than this held its queue's committed offset back through a commit.
pub(super) const PERSIST_CONSUMER_OFFSET_MS: u64 = 5_000;

/// `MQClientInstance.resetOffset` sleeps this long between dropping a reset's process queues
/// and moving their offsets: until then the consumer's listeners finish what they hold.
pub(super) const RESET_OFFSET_SLEEP_MS: u64 = 10_000;

/// DLedger 0.3.1.2's entry header (`DLedgerEntry.BODY_OFFSET`): a DLedger CommitLog's record
/// starts this far into its entry, so its PHYSICALOFFSET is the entry's position plus this.
pub(super) const DLEDGER_ENTRY_HEADER: u64 = 48;

/// Where the transaction check service parks a half it gave up on.
pub(super) const TRANSACTION_DISCARD_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";

/// `StoreCheckpoint.getMinTimestamp`: the older of its timestamps less this margin is where
/// abnormal recovery looks for its starting file.
pub(super) const CHECKPOINT_MARGIN_MS: u64 = 3_000;

/// Where a broker keeps its CommitLog (`storePathCommitLog` under the store root).
pub(super) const COMMIT_LOG_DIR: &str = "store/commitlog/";

/// Where a broker keeps its index files (`storePathIndex`).
pub(super) const INDEX_DIR: &str = "store/index/";

/// `rocketmq.broker.diskSpaceCleanForciblyRatio` (0.85) with `cleanFileForciblyEnable`: a
/// disk fuller than this percent loses its oldest files whatever their age.
pub(super) const CLEAN_FORCIBLY_PERCENT: u64 = 85;

/// `UtilAll.isItTimeToDo(deleteWhen)`: whether the hour of a wall-clock reading (UTC) is one
/// of the `;`-separated hours.
pub(super) fn delete_hour(delete_when: &str, wall_ms: u64) -> bool {
    let hour = (wall_ms / 3_600_000) % 24;
    (delete_when.split(';')).any(|h| h.trim().parse::<u64>() == Ok(hour))
}

/// A span as retention's settings are written: hours from two hours on (`75.9h`), hours to
/// the hundredth from one (`1.03h`), else seconds.
pub(super) fn hours(ms: u64) -> String {
    if ms >= 7_200_000 {
        format!("{:.1}h", ms as f64 / 3_600_000.0)
    } else if ms >= 3_600_000 {
        format!("{:.2}h", ms as f64 / 3_600_000.0)
    } else {
        model::time::format_ms(ms)
    }
}

/// `getDiskPartitionSpaceUsedPercent`: whole percent, rounded up.
pub(super) fn used_percent(used: u64, capacity: u64) -> u64 {
    if capacity == 0 {
        return 100;
    }
    (u128::from(used) * 100).div_ceil(u128::from(capacity)) as u64
}

/// `messageDelayLevel`: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h".
const DELAY_LEVELS_S: [u64; 18] = [
    1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1_200, 1_800, 3_600, 7_200,
];

/// How long a delay level (1-18; higher is the highest) delays a message.
pub(super) fn delay_ms(level: u32) -> u64 {
    DELAY_LEVELS_S[(level.clamp(1, 18) - 1) as usize] * 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_run_from_a_second_to_two_hours() {
        assert_eq!(delay_ms(1), 1_000);
        assert_eq!(delay_ms(3), 10_000);
        assert_eq!(delay_ms(18), 7_200_000);
        assert_eq!(delay_ms(40), 7_200_000);
    }
}

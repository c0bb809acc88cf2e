//! The checker's own table of RocketMQ 4.9.8's timings, from its documentation and defaults
//! (`messageDelayLevel`), never the model's: a wrong table in the model must not be judged
//! right by the same table.

/// `ReputMessageService` looks for new records every millisecond: a record is dispatched to
/// its ConsumeQueue at most this long after it was stored.
pub(super) const REPUT_INTERVAL_MS: u64 = 1;

/// DLedger 0.3.1.2's entry header (`DLedgerEntry.BODY_OFFSET`): a DLedger CommitLog's record
/// starts this far into its entry, so its PHYSICALOFFSET is the entry's position plus this.
pub(super) const DLEDGER_ENTRY_HEADER: u64 = 48;

/// Where the transaction check service parks a half it gave up on.
pub(super) const TRANSACTION_DISCARD_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";

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

//! Coverage probes: named branches of RocketMQ's mechanisms (FoundationDB's `CODE_PROBE`,
//! TigerBeetle's coverage marks). The model marks a branch with [`probe!`](crate::probe!) when
//! it takes it; a run counts the marks of its own thread (each seed runs on a thread of its
//! own), and `sim sweep --coverage` reports which probes its seeds reached. A test requires
//! every probe not marked rare to be reached by some seed of the bundled scenarios, so a
//! mechanism no scenario exercises is seen, not assumed. Probes never change what the model
//! does.

use std::cell::RefCell;

/// One probe: its name, whether the bundled scenarios may leave it unreached, and the branch.
#[derive(Copy, Clone, Debug)]
pub struct Probe {
    pub name: &'static str,
    pub rare: bool,
    pub what: &'static str,
}

macro_rules! probes {
    ($($id:ident = $name:literal, $rare:literal, $what:literal;)*) => {
        /// Every probe, in the order of their indices.
        pub const ALL: &[Probe] = &[$(Probe { name: $name, rare: $rare, what: $what }),*];
        probes!(@index 0usize; $($id)*);
    };
    (@index $n:expr; $id:ident $($rest:ident)*) => {
        pub const $id: usize = $n;
        probes!(@index $n + 1usize; $($rest)*);
    };
    (@index $n:expr;) => {};
}

probes! {
    RECOVERY_NORMAL = "recovery-normal", false, "a clean stop: normal recovery from the third-last file";
    RECOVERY_ABNORMAL = "recovery-abnormal", false, "a crash: abnormal recovery from the checkpoint's file";
    RECOVERY_TRUNCATED = "recovery-truncated", false, "recovery cut the commitlog at a torn or missing record";
    FLUSH_DISK_TIMEOUT = "flush-disk-timeout", false, "SYNC_FLUSH answered FLUSH_DISK_TIMEOUT";
    SLAVE_NOT_AVAILABLE = "slave-not-available", false, "SYNC_MASTER answered SLAVE_NOT_AVAILABLE";
    FLUSH_SLAVE_TIMEOUT = "flush-slave-timeout", false, "SYNC_MASTER answered FLUSH_SLAVE_TIMEOUT";
    HA_ACCEPTED = "ha-accepted", false, "a master accepted a slave's HA connection";
    HA_EMPTY_SLAVE = "ha-empty-slave", false, "an empty slave's first report: pushed from the master's last file";
    HA_OVERCLAIM = "ha-overclaim", true, "a slave reported past the master's end: the connection closed (#3016)";
    HA_MISMATCH = "ha-mismatch", true, "a slave refused a push that did not continue its log";
    SEND_BACK_STORED = "send-back-stored", false, "CONSUMER_SEND_MSG_BACK stored a retry copy";
    SEND_BACK_DLQ = "send-back-dlq", false, "a send-back out of retries went to %DLQ%";
    SEND_BACK_FAILED = "send-back-failed", false, "a failed send-back: the client sent the retry itself";
    OFFSET_MOVED = "offset-moved", false, "PULL_OFFSET_MOVED corrected a consumer's offset";
    TXN_COMMIT = "txn-commit", false, "END_TRANSACTION committed a half message";
    TXN_ROLLBACK = "txn-rollback", false, "END_TRANSACTION rolled a half message back";
    TXN_REFUSED = "txn-refused", true, "END_TRANSACTION refused (checkPrepareMessage or no half)";
    TXN_CHECK = "txn-check", false, "the check asked a producer about a half message";
    TXN_DISCARD = "txn-discard", false, "the check discarded a half after its last check";
    SCHEDULE_DELIVERED = "schedule-delivered", false, "the schedule service put a due message into its topic";
    SCHEDULE_PROGRESS_LOADED = "schedule-progress-loaded", false, "a broker started from the delay progress delayOffset.json had saved";
    TXN_CHECK_FROM_DISK = "txn-check-from-disk", false, "a producer answered a check from the decision its own disk held";
    TAG_FILTERED_BY_CLIENT = "tag-filtered-by-client", false, "the client dropped a message whose tag hash collided";
    SUBSCRIPTION_MISSING = "subscription-missing", false, "a pull found no subscription for its group (SUBSCRIPTION_NOT_EXIST)";
    MACHINE_ROOM_FALLBACK = "machine-room-fallback", false, "a machine-room selector found no queue in its room and picked from every queue";
    PULL_FORBIDDEN = "pull-forbidden", true, "a pull of a topic without the read permission (NO_PERMISSION)";
    PULL_QUEUE_ILLEGAL = "pull-queue-illegal", false, "a pull of a queue past the topic's read queues (SYSTEM_ERROR)";
    NAME_SERVER_REFUSED = "name-server-refused", false, "a route call refused by a name server moved on to the next";
    BROKER_EXPIRED = "broker-expired", false, "a name server dropped a broker silent for 120 s";
    LONG_POLL_WOKEN = "long-poll-woken", false, "a held pull answered when a message arrived in its queue";
    PULL_FROM_SLAVE = "pull-from-slave", false, "a consumer pulled a queue from a slave";
    INDEX_FILE_DROPPED = "index-file-dropped", false, "a crash's recovery deleted an index file newer than the checkpoint's index timestamp";
    INDEX_QUERIED = "index-queried", false, "QUERY_MESSAGE found a key in the IndexFile";
    RETENTION_DELETED = "retention-deleted", false, "retention deleted the oldest CommitLog files";
    DISK_FULL = "disk-full", false, "the disk passed 90 % and the store stopped taking writes";
    CQ_MISPLACED = "consume-queue-misplaced", false, "a dispatch met a record past the queue's end and wrote its entry where the queue ended";
    OFFSETS_RESET = "offsets-reset", false, "a broker sent a group's consumers the offsets of an operator's reset by time";
    RESET_APPLIED = "reset-applied", false, "a push consumer moved a queue to the offset a reset sent, 10 s after it came";
    CONSUMED_DIRECTLY = "consumed-directly", false, "a client's listener consumed a message an operator sent it directly";
    SEND_THROTTLED = "send-throttled", false, "a put held the CommitLog lock while the OS throttled writes (dirty pages past vm.dirty_ratio)";
    SEND_REJECTED_BUSY = "send-rejected-busy", false, "a send refused at once while the page cache was busy ([REJECTREQUEST] SYSTEM_BUSY)";
    SEND_PAGE_CACHE_BUSY = "send-page-cache-busy", true, "a send thread found the page cache busy ([PC_SYNCHRONIZED] SYSTEM_ERROR)";
    SEND_PCBUSY_CLEAN_QUEUE = "send-pcbusy-clean-queue", false, "BrokerFastFailure answered a queued send SYSTEM_BUSY while the page cache was busy";
    SEND_TIMEOUT_CLEAN_QUEUE = "send-timeout-clean-queue", false, "BrokerFastFailure answered a send queued longer than waitTimeMillsInSendQueue SYSTEM_BUSY";
    PULL_FROM_DISK = "pull-from-disk", false, "a pull read records further behind than accessMessageInMemoryMaxRatio of memory (at most 8 a pull)";
    TXN_CHECK_OP_DONE = "txn-check-op-done", false, "the check passed a half message an op message marks resolved";
}

thread_local! {
    static HITS: RefCell<Vec<u64>> = RefCell::new(vec![0; ALL.len()]);
}

/// Counts a hit of probe `index` (one of the constants above) on this thread.
pub fn hit(index: usize) {
    HITS.with(|hits| hits.borrow_mut()[index] += 1);
}

/// This thread's hits per probe since the last call, and starts counting again.
pub fn take() -> Vec<u64> {
    HITS.with(|hits| std::mem::replace(&mut *hits.borrow_mut(), vec![0; ALL.len()]))
}

/// Marks a branch as taken: `probe!(RECOVERY_ABNORMAL)`.
#[macro_export]
macro_rules! probe {
    ($id:ident) => {
        $crate::probe::hit($crate::probe::$id)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_are_counted_per_probe_and_taken_once() {
        take();
        crate::probe!(TXN_COMMIT);
        crate::probe!(TXN_COMMIT);
        crate::probe!(OFFSET_MOVED);
        let hits = take();
        assert_eq!(
            (hits[TXN_COMMIT], hits[OFFSET_MOVED], hits[TXN_CHECK]),
            (2, 1, 0)
        );
        assert!(take().iter().all(|n| *n == 0));
        let mut names: Vec<&str> = ALL.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "names are unique");
    }
}

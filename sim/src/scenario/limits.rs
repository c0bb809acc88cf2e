//! The limits of the scenario format: the largest count, size and time a file may ask for.
//!
//! Each is chosen so that the largest legal scenario runs in bounded memory on a 2-core,
//! 24 GiB machine, and `validate` checks every one before it builds anything (exit 2, naming
//! the file, line, field and limit). The README's limits table is [`markdown_table`]; a test
//! keeps the two equal. Budgets (simulated time and events per run) bound how long an accepted
//! scenario can run; their defaults come from the scenario's phases.
//!
//! Memory: preallocated store files cost nothing until written (the simulated disk keeps no
//! page of zeros). What a run writes and records is estimated before it runs (`validate`),
//! counting every multiplier: each record with its header, on every machine of its group, for
//! every resend, transaction check copy and consumer retry; the ConsumeQueue pages its
//! entries take (a file of fewer entries than a page holds still takes a page); the history
//! per message and per delivery to every consumer (a broadcasting group delivers to each
//! instance); and the checker's index per message, which is built once the disks are freed,
//! so the peak is the larger of disks and index, with the history.
//! A scenario the estimate puts above [`MAX_RUN_MEMORY_BYTES`] is refused.

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const SECOND_MS: u64 = 1_000;
const HOUR_MS: u64 = 3_600 * SECOND_MS;

/// A scenario file (and a matrix cell after substitution) is at most this long.
pub const MAX_FILE_BYTES: u64 = MIB;
/// Every duration in a file (`duration`, `drain_timeout`, `at`, `for`, latencies, ...).
pub const MAX_DURATION_MS: u64 = 30 * 24 * HOUR_MS;
/// Name servers in the cluster.
pub const MAX_NAME_SERVERS: u64 = 8;
/// `[[cluster.broker_group]]` tables.
pub const MAX_BROKER_GROUPS: u64 = 16;
/// Slaves per broker group.
pub const MAX_SLAVES: u64 = 8;
/// Broker machines (masters, slaves and DLedger members) in the cluster.
pub const MAX_BROKER_MACHINES: u64 = 32;
/// `dledger_max_pending_requests` of a DLedger group (0.3.1.2's default is 10,000).
pub const MAX_DLEDGER_PENDING_REQUESTS: u64 = 1_000_000;
/// Every node of a run, the auditor included (the network keeps an N x N table).
pub const MAX_NODES: u64 = 256;
/// `instances` of one producer or consumer block.
pub const MAX_INSTANCES: u64 = 64;
/// Consumer instances in the scenario (each rebalances every queue of its topic).
pub const MAX_CONSUMERS: u64 = 64;
/// `[[topic]]` tables.
pub const MAX_TOPICS: u64 = 32;
/// `queues` per topic and broker group.
pub const MAX_QUEUES: u64 = 256;
/// `[[fault]]` tables.
pub const MAX_FAULTS: u64 = 256;
/// `messages` of one producer instance.
pub const MAX_MESSAGES: u64 = 10_000_000;
/// Messages of all producer instances together.
pub const MAX_TOTAL_MESSAGES: u64 = 10_000_000;
/// `body` (RocketMQ's `maxMessageSize` is 4 MiB too).
pub const MAX_BODY_BYTES: u64 = 4 * MIB;
/// What a run may take by the estimate of `validate` (measured peaks stay below it).
pub const MAX_RUN_MEMORY_BYTES: u64 = 4 * 1024 * MIB;
// Two runs at the limit (a sweep's two workers) fit the machine.
const _: () = assert!(2 * MAX_RUN_MEMORY_BYTES <= 20 * 1024 * MIB);
/// `commit_log_file_size` (at least 4 KiB, and 1 KiB more than the body).
pub const MAX_COMMIT_LOG_FILE_BYTES: u64 = 64 * MIB;
/// `consume_queue_file_entries` (20 bytes each).
pub const MAX_CONSUME_QUEUE_FILE_ENTRIES: u64 = 1_000_000;
/// Store files a broker machine creates up front: two commitlog files and one ConsumeQueue
/// file per queue it hosts (topics, the 18 delay levels, retry and dead-letter queues).
pub const MAX_PREALLOCATED_BYTES_PER_BROKER: u64 = 256 * MIB;
/// `keys` of one producer.
pub const MAX_KEYS: u64 = 100_000;
/// `tags` of one producer, and tags in one `subscription`.
pub const MAX_TAGS: u64 = 64;
/// One tag.
pub const MAX_TAG_BYTES: u64 = 127;
/// `retries` and `app_retries` of one producer.
pub const MAX_RETRIES: u64 = 16;
/// `max_reconsume_times` of a consumer group.
pub const MAX_RECONSUME_TIMES: u64 = 32;
/// `threads` of a push consumer.
pub const MAX_THREADS: u64 = 64;
/// `batch` of a push consumer (RocketMQ allows up to 1024 too).
pub const MAX_BATCH: u64 = 1_024;
/// Axes of a `[matrix]`.
pub const MAX_MATRIX_AXES: u64 = 16;
/// Values of one matrix axis.
pub const MAX_MATRIX_VALUES: u64 = 64;
/// Cells of a matrix (the product of its axes' lengths).
pub const MAX_MATRIX_CELLS: u64 = 256;
/// Seeds of one `sweep` or `matrix` (`--seeds A..B`).
pub const MAX_SEEDS: u64 = 1_000_000;
/// `--jobs`.
pub const MAX_JOBS: u64 = 256;
/// A run's simulated-time budget (`[budget] simulated_time`, `--time-budget`).
pub const MAX_TIME_BUDGET_MS: u64 = 60 * 24 * HOUR_MS;
/// A run's event budget (`[budget] events`, `--event-budget`), and the cap of its default.
pub const MAX_EVENT_BUDGET: u64 = 500_000_000;

/// How much simulated time beyond its phases a run gets by default: the boot windows and the
/// last poll of each phase.
pub const DEFAULT_TIME_BUDGET_SLACK_MS: u64 = 60 * SECOND_MS;
/// Default event budget per node and simulated second (bundled scenarios use under 300 per
/// second for the whole cluster).
pub const DEFAULT_EVENTS_PER_NODE_SECOND: u64 = 1_000;
/// Default event budget per message sent (a send, its retries, store, replication and
/// deliveries take a few dozen).
pub const DEFAULT_EVENTS_PER_MESSAGE: u64 = 500;

/// How a limit is written in the table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Millis,
}

/// One row of the limits table.
#[derive(Copy, Clone, Debug)]
pub struct Limit {
    pub what: &'static str,
    pub max: u64,
    pub unit: Unit,
}

/// Every limit, in the order of the README's table.
pub const TABLE: &[Limit] = &[
    row(
        "scenario file (also a matrix cell after substitution)",
        MAX_FILE_BYTES,
        Unit::Bytes,
    ),
    row("any duration", MAX_DURATION_MS, Unit::Millis),
    row("`name_servers`", MAX_NAME_SERVERS, Unit::Count),
    row("broker groups", MAX_BROKER_GROUPS, Unit::Count),
    row("`slaves` per group", MAX_SLAVES, Unit::Count),
    row(
        "broker machines (masters, slaves and DLedger members)",
        MAX_BROKER_MACHINES,
        Unit::Count,
    ),
    row(
        "`dledger_max_pending_requests`",
        MAX_DLEDGER_PENDING_REQUESTS,
        Unit::Count,
    ),
    row("nodes (with the auditor)", MAX_NODES, Unit::Count),
    row("`instances` of one block", MAX_INSTANCES, Unit::Count),
    row("consumer instances", MAX_CONSUMERS, Unit::Count),
    row("topics", MAX_TOPICS, Unit::Count),
    row("`queues` per topic", MAX_QUEUES, Unit::Count),
    row("faults", MAX_FAULTS, Unit::Count),
    row(
        "`messages` per producer instance",
        MAX_MESSAGES,
        Unit::Count,
    ),
    row("messages of all producers", MAX_TOTAL_MESSAGES, Unit::Count),
    row("`body`", MAX_BODY_BYTES, Unit::Bytes),
    row(
        "memory a run may take, estimated (records with headers x 2 x replicas x resends x check copies x consumer retries, ConsumeQueue pages, history and checker per message and per delivery)",
        MAX_RUN_MEMORY_BYTES,
        Unit::Bytes,
    ),
    row(
        "`commit_log_file_size` (at least 4 KiB and body + 1 KiB)",
        MAX_COMMIT_LOG_FILE_BYTES,
        Unit::Bytes,
    ),
    row(
        "`consume_queue_file_entries`",
        MAX_CONSUME_QUEUE_FILE_ENTRIES,
        Unit::Count,
    ),
    row(
        "store files preallocated per broker machine",
        MAX_PREALLOCATED_BYTES_PER_BROKER,
        Unit::Bytes,
    ),
    row("`keys`", MAX_KEYS, Unit::Count),
    row("`tags`, tags in a `subscription`", MAX_TAGS, Unit::Count),
    row("one tag", MAX_TAG_BYTES, Unit::Bytes),
    row("`retries`, `app_retries`", MAX_RETRIES, Unit::Count),
    row("`max_reconsume_times`", MAX_RECONSUME_TIMES, Unit::Count),
    row("`threads`", MAX_THREADS, Unit::Count),
    row("`batch`", MAX_BATCH, Unit::Count),
    row("matrix axes", MAX_MATRIX_AXES, Unit::Count),
    row("values per matrix axis", MAX_MATRIX_VALUES, Unit::Count),
    row("matrix cells", MAX_MATRIX_CELLS, Unit::Count),
    row("seeds per sweep (`--seeds`)", MAX_SEEDS, Unit::Count),
    row("`--jobs`", MAX_JOBS, Unit::Count),
    row("simulated-time budget", MAX_TIME_BUDGET_MS, Unit::Millis),
    row("event budget", MAX_EVENT_BUDGET, Unit::Count),
];

const fn row(what: &'static str, max: u64, unit: Unit) -> Limit {
    Limit { what, max, unit }
}

/// A limit as the table and error messages write it: `1MiB`, `24h`, `256`.
pub fn render(max: u64, unit: Unit) -> String {
    match unit {
        Unit::Count => thousands(max),
        Unit::Millis if max.is_multiple_of(HOUR_MS) => format!("{}h", max / HOUR_MS),
        Unit::Millis if max.is_multiple_of(SECOND_MS) => format!("{}s", max / SECOND_MS),
        Unit::Millis => format!("{max}ms"),
        Unit::Bytes if max.is_multiple_of(MIB) => format!("{}MiB", max / MIB),
        Unit::Bytes if max.is_multiple_of(KIB) => format!("{}KiB", max / KIB),
        Unit::Bytes => format!("{max}B"),
    }
}

/// `1000000` as `1,000,000`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The README's limits table.
pub fn markdown_table() -> String {
    let mut out = String::from("| what | at most |\n|---|---|\n");
    for limit in TABLE {
        out.push_str(&format!(
            "| {} | {} |\n",
            limit.what,
            render(limit.max, limit.unit)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_render_in_their_units() {
        assert_eq!(render(MAX_FILE_BYTES, Unit::Bytes), "1MiB");
        assert_eq!(render(MAX_DURATION_MS, Unit::Millis), "720h");
        assert_eq!(render(MAX_MESSAGES, Unit::Count), "10,000,000");
        assert_eq!(render(256, Unit::Count), "256");
    }
}

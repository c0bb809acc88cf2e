//! The limits of `limits`, checked on the parsed file before anything is built from it: counts
//! first (so that `instances = 4294967295` allocates nothing), then what a run would store
//! and preallocate.

use super::{Checker, at, broker_group_path};
use crate::ratio::Ratio;
use crate::scenario::error::{ScenarioError, Step, key};
use crate::scenario::limits::{self, Unit};
use crate::scenario::schema::{
    ConsumerSection, MessageModelName, Replication, ScenarioFile, SendModeName,
};
use model::broker::store::consume_queue;
use model::dledger::entry as dledger_entry;

type Checked = Result<(), Box<ScenarioError>>;

impl Checker<'_> {
    /// `value` must not exceed `max`; the error names the field and the limit.
    pub(super) fn at_most(&self, path: &[Step], value: u64, max: u64, unit: Unit) -> Checked {
        if value <= max {
            return Ok(());
        }
        Err(self.error(
            path,
            format!(
                "is {}; the limit is {}",
                limits::render(value, unit),
                limits::render(max, unit)
            ),
            Some("the README's limits table lists every limit".into()),
        ))
    }
}

/// Every count, size and their products, before any node or table exists.
pub(super) fn check(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    cluster(check, raw)?;
    lists(check, raw)?;
    producers(check, raw)?;
    consumers(check, &raw.consumers)?;
    nodes(check, raw)
}

fn cluster(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    let cluster = &raw.cluster;
    let name_servers = [key("cluster"), key("name_servers")];
    check.at_most(
        &name_servers,
        u64::from(cluster.name_servers),
        limits::MAX_NAME_SERVERS,
        Unit::Count,
    )?;
    let groups = cluster.broker_groups.len() as u64;
    check.at_most(
        &[key("cluster"), key("broker_group")],
        groups,
        limits::MAX_BROKER_GROUPS,
        Unit::Count,
    )?;
    let mut machines = 0;
    for (index, group) in cluster.broker_groups.iter().enumerate() {
        let path = |field| broker_group_path(index, field);
        if group.replication != Replication::Dledger {
            // A classic group is sized by `slaves`, or by `peers` (the master and the slaves).
            let (field, size, most) = match group.peers {
                Some(peers) => ("peers", u64::from(peers), limits::MAX_SLAVES + 1),
                None => ("slaves", group.machines() - 1, limits::MAX_SLAVES),
            };
            check.at_most(&path(field), size, most, Unit::Count)?;
        }
        if let Some(pending) = group.dledger_max_pending_requests {
            let max = limits::MAX_DLEDGER_PENDING_REQUESTS;
            check.at_most(
                &path("dledger_max_pending_requests"),
                pending,
                max,
                Unit::Count,
            )?;
        }
        check.at_most(
            &path("commit_log_file_size"),
            group.commit_log_file_size.0,
            limits::MAX_COMMIT_LOG_FILE_BYTES,
            Unit::Bytes,
        )?;
        check.at_most(
            &path("consume_queue_file_entries"),
            group.consume_queue_file_entries,
            limits::MAX_CONSUME_QUEUE_FILE_ENTRIES,
            Unit::Count,
        )?;
        machines += group.machines();
    }
    check
        .at_most(
            &[key("cluster")],
            machines,
            limits::MAX_BROKER_MACHINES,
            Unit::Count,
        )
        .map_err(|err| rename(err, "broker machines (masters, slaves and DLedger members)"))
}

fn lists(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    let topics = raw.topics.len() as u64;
    check.at_most(&[key("topic")], topics, limits::MAX_TOPICS, Unit::Count)?;
    for (index, topic) in raw.topics.iter().enumerate() {
        let numbers = [
            ("queues", Some(topic.queues)),
            ("read_queues", topic.read_queues),
            ("write_queues", topic.write_queues),
        ];
        for (field, queues) in numbers {
            let queues = u64::from(queues.unwrap_or(0));
            check.at_most(
                &at("topic", index, field),
                queues,
                limits::MAX_QUEUES,
                Unit::Count,
            )?;
        }
    }
    let faults = raw.faults.len() as u64;
    check.at_most(&[key("fault")], faults, limits::MAX_FAULTS, Unit::Count)
}

fn producers(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    let mut total_messages = 0u64;
    for (index, producer) in raw.producers.iter().enumerate() {
        let path = |field| at("producer", index, field);
        let instances = u64::from(producer.instances);
        check.at_most(
            &path("instances"),
            instances,
            limits::MAX_INSTANCES,
            Unit::Count,
        )?;
        let messages = u64::from(producer.messages);
        check.at_most(
            &path("messages"),
            messages,
            limits::MAX_MESSAGES,
            Unit::Count,
        )?;
        check.at_most(
            &path("body"),
            producer.body.0,
            limits::MAX_BODY_BYTES,
            Unit::Bytes,
        )?;
        let keys = u64::from(producer.keys.unwrap_or(0));
        check.at_most(&path("keys"), keys, limits::MAX_KEYS, Unit::Count)?;
        for (field, value) in [
            ("retries", producer.retries),
            ("app_retries", producer.app_retries),
        ] {
            check.at_most(
                &path(field),
                u64::from(value),
                limits::MAX_RETRIES,
                Unit::Count,
            )?;
        }
        total_messages += instances * messages;
        check
            .at_most(
                &path("messages"),
                total_messages,
                limits::MAX_TOTAL_MESSAGES,
                Unit::Count,
            )
            .map_err(|err| rename(err, "messages of all producers so far"))?;
    }
    Ok(())
}

fn consumers(check: &Checker<'_>, blocks: &[ConsumerSection]) -> Checked {
    let mut total = 0u64;
    for (index, block) in blocks.iter().enumerate() {
        let path = |field| at("consumer", index, field);
        let instances = u64::from(block.instances);
        check.at_most(
            &path("instances"),
            instances,
            limits::MAX_INSTANCES,
            Unit::Count,
        )?;
        let threads = u64::from(block.threads.unwrap_or(1));
        check.at_most(&path("threads"), threads, limits::MAX_THREADS, Unit::Count)?;
        let batch = u64::from(block.batch.unwrap_or(1));
        check.at_most(&path("batch"), batch, limits::MAX_BATCH, Unit::Count)?;
        let reconsume = u64::from(block.max_reconsume_times.unwrap_or(0));
        check.at_most(
            &path("max_reconsume_times"),
            reconsume,
            limits::MAX_RECONSUME_TIMES,
            Unit::Count,
        )?;
        total += instances;
        check
            .at_most(
                &path("instances"),
                total,
                limits::MAX_CONSUMERS,
                Unit::Count,
            )
            .map_err(|err| rename(err, "consumer instances so far"))?;
    }
    Ok(())
}

/// Every node the scenario would declare, counted without declaring any.
fn nodes(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    let brokers: u64 = raw.cluster.broker_groups.iter().map(|g| g.machines()).sum();
    let producers: u64 = raw.producers.iter().map(|p| u64::from(p.instances)).sum();
    let consumers: u64 = raw.consumers.iter().map(|c| u64::from(c.instances)).sum();
    let total = u64::from(raw.cluster.name_servers) + brokers + producers + consumers + 1;
    if total <= limits::MAX_NODES {
        return Ok(());
    }
    Err(check.error(
        &[key("cluster")],
        format!(
            "too many nodes: {total} (name servers, brokers, producer and consumer instances \
             and the auditor); the limit is {}",
            limits::MAX_NODES
        ),
        None,
    ))
}

/// The limit error, with the quantity it counts named in front.
fn rename(mut err: Box<ScenarioError>, what: &str) -> Box<ScenarioError> {
    err.message = format!("{what}: {}", err.message);
    err
}

/// Bytes a record needs besides its body (header, topic, properties), with room to spare.
const RECORD_OVERHEAD_BYTES: u64 = 1024;
/// What a stored record costs the simulated disk besides its body (its header, topic and
/// properties), as a ceiling.
const RECORD_HEADER_BYTES: u64 = 256;
/// What one message sent once costs in the history, as a ceiling (measured: about 75 bytes on
/// a 1,000,000-message run: its invoke, its answer and its read-back, encoded).
const HISTORY_BYTES_PER_MESSAGE: u64 = 96;
/// What one message costs in the checker's index, as a ceiling (measured: about 180 bytes on
/// a 1,000,000-message run). The index is built after the run's world is freed, so it shares
/// the run's peak with the history only, not with the simulated disks.
const INDEX_BYTES_PER_MESSAGE: u64 = 256;
/// What one delivery to one consumer costs in the history and the checker's index, as a
/// ceiling (measured: about 1.1 KiB on a broadcasting group of 16 instances).
const BYTES_PER_DELIVERY: u64 = 1536;
/// What one more attempt to send a message costs in the history, as a ceiling.
const BYTES_PER_ATTEMPT: u64 = 128;
/// Queues every broker hosts besides the topics': the delay levels of `SCHEDULE_TOPIC_XXXX`.
const SCHEDULE_QUEUES: u64 = 18;
/// Retries a concurrent consumer makes by default (`maxReconsumeTimes`).
const DEFAULT_RECONSUME_TIMES: u64 = 16;
/// A page-cache copy and a durable copy of every preallocated file.
const COPIES: u64 = 2;

/// What a run could store, and what each broker machine preallocates; run after [`check`],
/// whose limits keep these products far from overflowing.
pub(super) fn storage(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    let largest_body = raw.producers.iter().map(|p| p.body.0).max().unwrap_or(0);
    for (index, group) in raw.cluster.broker_groups.iter().enumerate() {
        let path = |field| broker_group_path(index, field);
        let file = group.commit_log_file_size.0;
        if file < largest_body + RECORD_OVERHEAD_BYTES {
            return Err(check.error(
                &path("commit_log_file_size"),
                format!(
                    "is {}, too small for a body of {} (a record must fit one file: body + 1KiB)",
                    limits::render(file, Unit::Bytes),
                    limits::render(largest_body, Unit::Bytes)
                ),
                None,
            ));
        }
        let preallocated =
            preallocated_bytes(raw, &group.name, file, group.consume_queue_file_entries);
        check
            .at_most(
                &path("consume_queue_file_entries"),
                preallocated,
                limits::MAX_PREALLOCATED_BYTES_PER_BROKER,
                Unit::Bytes,
            )
            .map_err(|err| rename(err, "store files preallocated per machine"))?;
    }
    let memory = memory_bytes(raw);
    check
        .at_most(
            &[key("producer")],
            memory
                .div_ceil(1 << 20)
                .saturating_mul(1 << 20)
                .min(u128::from(u64::MAX)) as u64,
            limits::MAX_RUN_MEMORY_BYTES,
            Unit::Bytes,
        )
        .map_err(|err| {
            rename(
                err,
                "memory the run would take, estimated (records x replicas x resends x retries, \
                 ConsumeQueue pages, history and checker per message and delivery)",
            )
        })
}

/// Two commitlog files and one ConsumeQueue file per hosted queue, each kept twice.
fn preallocated_bytes(raw: &ScenarioFile, group: &str, file: u64, entries: u64) -> u64 {
    let topic_queues: u64 = raw
        .topics
        .iter()
        .filter(|t| {
            t.brokers
                .as_ref()
                .is_none_or(|b| b.iter().any(|n| n == group))
        })
        .map(|t| {
            u64::from(
                t.queues
                    .max(t.read_queues.unwrap_or(0))
                    .max(t.write_queues.unwrap_or(0)),
            )
        })
        .sum();
    let consumer_groups = {
        let mut names: Vec<&str> = raw.consumers.iter().map(|c| c.group.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len() as u64
    };
    let queues = topic_queues + SCHEDULE_QUEUES + 2 * consumer_groups;
    let consume_queue_file = entries * consume_queue::ENTRY_BYTES;
    COPIES * (2 * file + queues * consume_queue_file)
}

/// Every multiplier of what a run writes and records (see `limits`): per record stored, its
/// bytes with their header twice on every machine of the largest group and its ConsumeQueue
/// share; per message, the history and the checker; per delivery, the history.
fn memory_bytes(raw: &ScenarioFile) -> u128 {
    let replicas = raw.cluster.broker_groups.iter().map(|g| g.machines()).max();
    let replicas = u128::from(replicas.unwrap_or(1));
    let entries = raw
        .cluster
        .broker_groups
        .iter()
        .map(|g| g.consume_queue_file_entries)
        .min();
    let page = crate::disk::PAGE_BYTES as u64;
    let cq_share = (page / entries.unwrap_or(page).max(1)).max(consume_queue::ENTRY_BYTES);
    let entry_share = dledger_entry_bytes(raw);
    let stores_again = 1 + consumer_retries(raw);
    let deliveries_per_message = deliveries_per_message(raw);
    let (mut stored, mut history, mut index) = (0, 0, 0);
    for p in &raw.producers {
        let sends = u128::from(p.instances) * u128::from(p.messages);
        let resends = u128::from(p.app_retries + 1) * u128::from(p.retries + 1);
        let records = sends * resends * transaction_copies(raw, p) * stores_again;
        let record = u128::from(p.body.0 + RECORD_HEADER_BYTES + cq_share + entry_share);
        // A clean page is stored once; only the pages dirty at an instant keep a second copy.
        stored += records * record * replicas;
        history += sends
            * (u128::from(HISTORY_BYTES_PER_MESSAGE)
                + (resends - 1) * u128::from(BYTES_PER_ATTEMPT)
                + deliveries_per_message * u128::from(BYTES_PER_DELIVERY));
        index += sends * u128::from(INDEX_BYTES_PER_MESSAGE);
    }
    // The disks are freed when the run ends, before the checker builds its index.
    stored.max(index) + history
}

/// What a DLedger member stores per record besides it (when a group is one): the entry's
/// header and its index entry.
fn dledger_entry_bytes(raw: &ScenarioFile) -> u64 {
    let mut groups = raw.cluster.broker_groups.iter();
    match groups.any(|g| g.replication == Replication::Dledger) {
        true => dledger_entry::BODY_OFFSET + dledger_entry::INDEX_UNIT_BYTES,
        false => 0,
    }
}

/// How often a failing consumer's message is stored again: twice per retry (schedule topic,
/// retry topic), then the DLQ.
fn consumer_retries(raw: &ScenarioFile) -> u128 {
    let failing = raw
        .consumers
        .iter()
        .filter(|c| c.fail.is_some_and(|f| f != Ratio::ZERO));
    failing
        .map(|c| {
            let times = c
                .max_reconsume_times
                .map_or(DEFAULT_RECONSUME_TIMES, u64::from);
            u128::from(2 * times + 1)
        })
        .sum()
}

/// A transactional message is stored as a half, a copy per check, the real message and the
/// discarded copy.
fn transaction_copies(
    raw: &ScenarioFile,
    producer: &crate::scenario::schema::ProducerSection,
) -> u128 {
    if producer.send != SendModeName::Transaction {
        return 1;
    }
    let check_max = raw
        .cluster
        .broker_groups
        .iter()
        .map(|g| g.transaction_check_max)
        .max();
    u128::from(check_max.unwrap_or(0)) + 3
}

/// Deliveries of one message: one per clustering group, one per instance of a broadcasting
/// group, each retried up to its reconsume times when its listener fails.
fn deliveries_per_message(raw: &ScenarioFile) -> u128 {
    raw.consumers
        .iter()
        .map(|c| {
            let copies = match c.model {
                MessageModelName::Broadcasting => u128::from(c.instances),
                MessageModelName::Clustering => 1,
            };
            let failing = c.fail.is_some_and(|f| f != Ratio::ZERO);
            let times = c
                .max_reconsume_times
                .map_or(DEFAULT_RECONSUME_TIMES, u64::from);
            copies * (1 + u128::from(failing) * u128::from(times))
        })
        .sum()
}

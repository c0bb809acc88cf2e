//! Semantic checks of a parsed scenario (names that must exist, values that must fit together,
//! the limits of `limits`), and its resolution into a [`Scenario`]. Faults, consumers and node
//! names have their own files.

mod budget;
mod consumers;
mod counts;
mod dledger;
mod faults;
mod names;
mod retention;
mod swarm;
mod tags;
mod topics;

use super::error::{ScenarioError, Step, did_you_mean, key, locate, render_path};
use super::resolved::*;
use super::schema::{
    BrokerGroupSection, ExpectSection, MasterRole, ProducerSection, Replication, ScenarioFile,
    SelectorName, SendModeName,
};
use super::units::Condition;
use crate::workload::transaction::TransactionSpec;
use model::NodeId;
use model::event::SendMode;
use names::NodeNames;

/// Collects the first error with its place in the file.
pub(super) struct Checker<'a> {
    text: &'a str,
    file: &'a str,
}

impl Checker<'_> {
    pub(super) fn error(
        &self,
        path: &[Step],
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Box<ScenarioError> {
        ScenarioError::at(
            self.file,
            self.text,
            locate(self.text, path),
            render_path(path),
            message.into(),
            hint,
        )
    }
}

/// The path of a field of `cluster.broker_group[index]`.
pub(super) fn broker_group_path(index: usize, field: &str) -> Vec<Step> {
    vec![
        key("cluster"),
        key("broker_group"),
        Step::Index(index),
        key(field),
    ]
}

pub(super) fn at(list: &str, index: usize, field: &str) -> Vec<Step> {
    vec![key(list), Step::Index(index), key(field)]
}

/// The machines of the tools: the auditor's, and the operator's when a fault queries keys.
fn tool_nodes(raw: &ScenarioFile, nodes: &mut Vec<NodeDecl>) {
    nodes.push(NodeDecl {
        name: "auditor".to_string(),
        role: NodeRole::Auditor,
    });
    let by_operator = |f: &&crate::scenario::schema::FaultSection| {
        (crate::fault::BY_OPERATOR.iter()).any(|kind| kind.name == f.kind.name())
    };
    if raw.faults.iter().any(|f| by_operator(&f)) {
        nodes.push(NodeDecl {
            name: "operator".to_string(),
            role: NodeRole::Operator,
        });
    }
}

pub fn validate(raw: ScenarioFile, text: &str, file: &str) -> Result<Scenario, Box<ScenarioError>> {
    let check = Checker { text, file };
    basics(&check, &raw)?;
    dledger::check(&check, &raw)?;
    counts::check(&check, &raw)?;
    counts::storage(&check, &raw)?;
    let mut nodes = name_servers(raw.cluster.name_servers);
    let broker_groups = broker_groups(&check, &raw, &mut nodes)?;
    let topics = topics::topics(&check, &raw, &broker_groups)?;
    let producers = producers(&check, &raw, &topics, &mut nodes)?;
    let consumers = consumers::consumer_groups(&check, &raw.consumers, &topics, &mut nodes)?;
    tool_nodes(&raw, &mut nodes);
    unique_names(&check, &nodes)?;
    let names = NodeNames {
        nodes: &nodes,
        broker_groups: &broker_groups,
        producer_groups: producers
            .iter()
            .map(|p| (p.group.clone(), p.nodes.clone()))
            .collect(),
    };
    let drain_timeout_ms = raw.drain_timeout.map_or(DEFAULT_DRAIN_TIMEOUT_MS, |d| d.0);
    let phases = faults::Phases {
        run: raw.duration,
        drain: crate::scenario::units::Millis(drain_timeout_ms),
    };
    let faults = (raw.faults.iter().enumerate())
        .map(|(index, fault)| {
            let declared = (&topics[..], &producers[..], &consumers[..]);
            faults::validate_fault(&check, &names, declared, index, fault, phases)
        })
        .collect::<Result<Vec<_>, _>>()?;
    faults::no_fault_without_effect(&check, &faults, &nodes, raw.duration)?;
    let topics = topics::with_updates(topics, &faults);
    let swarm = swarm::resolve(&check, &names, raw.swarm.as_ref(), raw.duration)?;
    let budget = budget::resolve(&check, &raw, nodes.len() as u64, drain_timeout_ms)?;
    let transactional = producers.iter().any(|p| p.transaction.is_some());
    let shape = Shape {
        consumers: !consumers.is_empty(),
        transactional,
        dledger: broker_groups.iter().any(|g| g.is_dledger()),
    };
    let expect = expectations(&raw.expect, shape);
    Ok(Scenario {
        file: file.to_string(),
        cell: None,
        name: raw.name,
        summary: raw.summary.trim().to_string(),
        teaches: raw.teaches.trim().to_string(),
        duration_ms: raw.duration.0,
        drain_timeout_ms,
        query_index: raw.query_index,
        budget,
        latency: raw.network.latency,
        flush_latency: raw.disk.flush_latency,
        cluster_name: raw.cluster.name,
        nodes,
        broker_groups,
        topics,
        producers,
        consumers,
        faults,
        expect,
        bugs: raw.bugs.clone(),
        swarm,
    })
}

/// Checks of the file as a whole: its name, phases, latency and cluster.
fn basics(check: &Checker<'_>, raw: &ScenarioFile) -> Result<(), Box<ScenarioError>> {
    if raw.name.trim().is_empty() {
        return Err(check.error(&[key("name")], "must not be empty", None));
    }
    if raw.duration.0 == 0 {
        return Err(check.error(&[key("duration")], "must be longer than 0s", None));
    }
    if raw.network.latency.min.0 == 0 {
        return Err(check.error(
            &[key("network"), key("latency")],
            "must be at least 1ms",
            Some("a message never arrives in the instant it is sent".into()),
        ));
    }
    if raw.cluster.name_servers == 0 {
        return Err(check.error(
            &[key("cluster"), key("name_servers")],
            "needs at least one name server",
            None,
        ));
    }
    if raw.cluster.broker_groups.is_empty() {
        return Err(check.error(
            &[key("cluster")],
            "needs at least one [[cluster.broker_group]]",
            None,
        ));
    }
    Ok(())
}

/// Nodes, in id order: name servers, brokers (master then slaves), producers, consumers, the
/// auditor. These are the first.
fn name_servers(count: u32) -> Vec<NodeDecl> {
    (0..count)
        .map(|i| NodeDecl {
            name: format!("namesrv-{i}"),
            role: NodeRole::NameServer,
        })
        .collect()
}

/// The broker groups, declaring their nodes.
fn broker_groups(
    check: &Checker<'_>,
    raw: &ScenarioFile,
    nodes: &mut Vec<NodeDecl>,
) -> Result<Vec<BrokerGroup>, Box<ScenarioError>> {
    let mut broker_groups = Vec::new();
    for (index, group) in raw.cluster.broker_groups.iter().enumerate() {
        let path = |field| broker_group_path(index, field);
        if group.name.is_empty() || group.name.contains(char::is_whitespace) {
            return Err(check.error(
                &path("name"),
                "must be a non-empty name without spaces",
                None,
            ));
        }
        if broker_groups
            .iter()
            .any(|g: &BrokerGroup| g.name == group.name)
        {
            return Err(check.error(
                &path("name"),
                format!("`{}` is declared twice", group.name),
                None,
            ));
        }
        file_sizes(check, index, group)?;
        let slaves = group.machines().saturating_sub(1);
        if group.role() == MasterRole::SyncMaster && slaves == 0 {
            return Err(check.error(
                &path("role"),
                "a sync-master needs at least one slave",
                Some("set `slaves = 1`, or use role = \"async-master\"".into()),
            ));
        }
        let dledger = dledger::resolve(group);
        let ids = declare_nodes(index, group, dledger.is_some(), nodes);
        broker_groups.push(BrokerGroup {
            name: group.name.clone(),
            flush: group.flush,
            role: match dledger {
                Some(_) => MasterRole::SyncMaster,
                None => group.role(),
            },
            transient_store_pool: group.transient_store_pool,
            commit_log_file_size: group.commit_log_file_size.0,
            consume_queue_file_entries: group.consume_queue_file_entries,
            index: model::broker::store::index::IndexShape {
                slots: group.index_hash_slots,
                entries: group.index_entries,
            },
            sync_flush_timeout_ms: group.sync_flush_timeout.0,
            slave_read_enable: group.slave_read_enable,
            memory_bytes: group.memory.0,
            send_queue_wait_ms: positive(
                check,
                index,
                group.wait_time_in_send_queue,
                "wait_time_in_send_queue",
            )?
            .unwrap_or(model::broker::config::SendPoolConfig::default().wait_time_in_queue_ms),
            page_cache_busy_timeout_ms: positive(
                check,
                index,
                group.os_page_cache_busy_timeout,
                "os_page_cache_busy_timeout",
            )?
            .unwrap_or(model::broker::config::StoreConfig::default().os_page_cache_busy_timeout_ms),
            transaction: transaction_config(check, index, group)?,
            retention: retention::resolve(check, index, group)?,
            ha: ha_limits(check, index, group)?,
            dledger,
            nodes: ids,
        });
    }

    Ok(broker_groups)
}

/// A duration a group's file may set, if it does: more than 0.
fn positive(
    check: &Checker<'_>,
    index: usize,
    value: Option<crate::scenario::units::Millis>,
    field: &str,
) -> Result<Option<u64>, Box<ScenarioError>> {
    match value {
        Some(millis) if millis.0 == 0 => {
            let path = broker_group_path(index, field);
            Err(check.error(&path, "must be more than 0", None))
        }
        _ => Ok(value.map(|m| m.0)),
    }
}

/// A classic group's replication limits, RocketMQ's defaults where the file names none.
fn ha_limits(
    check: &Checker<'_>,
    index: usize,
    group: &BrokerGroupSection,
) -> Result<HaLimits, Box<ScenarioError>> {
    let path = |field| broker_group_path(index, field);
    let defaults = model::broker::config::StoreConfig::default();
    let named = [
        (
            "ha_slave_fallbehind_max",
            group.ha_slave_fallbehind_max.map(|b| b.0),
        ),
        (
            "ha_transfer_batch_size",
            group.ha_transfer_batch_size.map(|b| b.0),
        ),
        ("slave_timeout", group.slave_timeout.map(|m| m.0)),
        (
            "ha_send_heartbeat_interval",
            group.ha_send_heartbeat_interval.map(|m| m.0),
        ),
        (
            "ha_housekeeping_interval",
            group.ha_housekeeping_interval.map(|m| m.0),
        ),
    ];
    for (field, value) in named {
        let Some(value) = value else { continue };
        if group.replication == Replication::Dledger {
            let message = "a DLedger group replicates through DLedger, not HAService";
            return Err(check.error(&path(field), message, Some(format!("remove `{field}`"))));
        }
        if value == 0 {
            return Err(check.error(&path(field), "must be more than 0", None));
        }
    }
    Ok(HaLimits {
        slave_fallbehind_max: named[0].1.unwrap_or(defaults.ha_slave_fallbehind_max),
        transfer_batch_size: named[1].1.unwrap_or(defaults.ha_transfer_batch_size),
        slave_timeout_ms: named[2].1.unwrap_or(defaults.slave_timeout_ms),
        heartbeat_interval_ms: named[3].1.unwrap_or(defaults.ha_send_heartbeat_interval_ms),
        housekeeping_interval_ms: named[4].1.unwrap_or(defaults.ha_housekeeping_interval_ms),
    })
}

/// The sizes of a group's CommitLog, ConsumeQueue and index files.
fn file_sizes(
    check: &Checker<'_>,
    index: usize,
    group: &BrokerGroupSection,
) -> Result<(), Box<ScenarioError>> {
    let path = |field| broker_group_path(index, field);
    if group.commit_log_file_size.0 < 4096 {
        return Err(check.error(&path("commit_log_file_size"), "must be at least 4KiB", None));
    }
    for (field, value) in [
        ("index_hash_slots", group.index_hash_slots),
        ("index_entries", group.index_entries),
    ] {
        if !(2..=1_000_000).contains(&value) {
            return Err(check.error(&path(field), "must be 2 to 1,000,000", None));
        }
    }
    if group.consume_queue_file_entries == 0 {
        let field = &path("consume_queue_file_entries");
        return Err(check.error(field, "must be at least 1", None));
    }
    Ok(())
}

/// Declares group `index`'s nodes and returns their ids. Classic: the master, named after the
/// group (broker id 0), then the slaves `<name>-s1`, ... (broker ids 1, ...). DLedger: the
/// members `<name>-n0`, `<name>-n1`, ... with the broker ids they run with (the leader `n0`: 0).
fn declare_nodes(
    index: usize,
    group: &BrokerGroupSection,
    dledger: bool,
    nodes: &mut Vec<NodeDecl>,
) -> Vec<NodeId> {
    let named: Vec<(String, u64)> = if dledger {
        (0..group.machines() as usize)
            .map(|member| {
                let id = DLedgerGroup::member_id(member);
                (
                    format!("{}-{id}", group.name),
                    DLedgerGroup::broker_id(member),
                )
            })
            .collect()
    } else {
        (0..group.machines())
            .map(|broker_id| match broker_id {
                0 => (group.name.clone(), 0),
                _ => (format!("{}-s{broker_id}", group.name), broker_id),
            })
            .collect()
    };
    let mut ids = Vec::new();
    for (name, broker_id) in named {
        ids.push(NodeId(nodes.len() as u16));
        nodes.push(NodeDecl {
            name,
            role: NodeRole::Broker {
                group: index,
                broker_id,
            },
        });
    }
    ids
}

/// The group's transaction settings: a check interval of at least a second.
fn transaction_config(
    check: &Checker<'_>,
    index: usize,
    group: &BrokerGroupSection,
) -> Result<model::broker::TransactionConfig, Box<ScenarioError>> {
    if group.transaction_check_interval.0 < 1_000 {
        return Err(check.error(
            &broker_group_path(index, "transaction_check_interval"),
            "must be at least 1s",
            None,
        ));
    }
    if group.transaction_check_max == 0 || group.transaction_check_max > 1_000 {
        return Err(check.error(
            &broker_group_path(index, "transaction_check_max"),
            "must be 1 to 1000",
            None,
        ));
    }
    Ok(model::broker::TransactionConfig {
        check_interval_ms: group.transaction_check_interval.0,
        timeout_ms: group.transaction_timeout.0,
        check_max: group.transaction_check_max,
        reject_transaction_message: false,
    })
}

/// A delay level from 1 to 18, on a producer that is not transactional (a transactional send
/// clears it).
fn delay_level(
    check: &Checker<'_>,
    index: usize,
    producer: &ProducerSection,
) -> Result<Option<u32>, Box<ScenarioError>> {
    let Some(level) = producer.delay_level else {
        return Ok(None);
    };
    let path = at("producer", index, "delay_level");
    if !(1..=18).contains(&level) {
        return Err(check.error(&path, "must be 1 to 18 (1s, 5s, 10s, 30s, 1m ... 2h)", None));
    }
    if producer.send == SendModeName::Transaction {
        let message = "a transactional send clears the delay level (sendMessageInTransaction)";
        return Err(check.error(&path, message, None));
    }
    Ok(Some(level))
}

/// A transactional producer's local transactions; the table only with `send = "transaction"`.
fn transaction_spec(
    check: &Checker<'_>,
    index: usize,
    producer: &ProducerSection,
) -> Result<Option<TransactionSpec>, Box<ScenarioError>> {
    let transactional = producer.send == SendModeName::Transaction;
    if !transactional {
        if producer.transaction.is_some() {
            let hint = Some("set `send = \"transaction\"`, or remove the table".into());
            let message = "is only for a transactional producer";
            return Err(check.error(&at("producer", index, "transaction"), message, hint));
        }
        return Ok(None);
    }
    let section = producer.transaction.clone().unwrap_or_default();
    let odds = [section.commit, section.rollback, section.unknown];
    if odds.iter().map(|o| u64::from(*o)).sum::<u64>() == 0 || odds.iter().any(|o| *o > 1_000_000) {
        return Err(check.error(
            &at("producer", index, "transaction"),
            "`commit`, `rollback` and `unknown` must each be at most 1000000, and not all 0",
            None,
        ));
    }
    Ok(Some(TransactionSpec {
        commit: section.commit,
        rollback: section.rollback,
        unknown: section.unknown,
        duration_ms: (section.local_time.min.0, section.local_time.max.0),
    }))
}

/// The broker groups in a machine-room producer's room (none: it falls back to every queue).
fn room_brokers(
    check: &Checker<'_>,
    raw: &ScenarioFile,
    index: usize,
    producer: &ProducerSection,
) -> Result<Vec<String>, Box<ScenarioError>> {
    let path = |field: &str| at("producer", index, field);
    let machine_room = producer.selector == SelectorName::MachineRoom;
    match (&producer.room, machine_room) {
        (Some(room), true) => Ok((raw.cluster.broker_groups.iter())
            .filter(|g| g.room.as_ref() == Some(room))
            .map(|g| g.name.clone())
            .collect()),
        (None, true) => Err(check.error(
            &path("selector"),
            "the machine-room selector needs the producer's `room`",
            Some("set `room = \"north\"` here and on the broker groups in that room".into()),
        )),
        (Some(_), false) => Err(check.error(
            &path("room"),
            "only the machine-room selector reads a producer's room",
            Some("set `selector = \"machine-room\"`, or leave `room` out".into()),
        )),
        (None, false) => Ok(Vec::new()),
    }
}

/// The producers, declaring their nodes.
#[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
fn producers(
    check: &Checker<'_>,
    raw: &ScenarioFile,
    topics: &[Topic],
    nodes: &mut Vec<NodeDecl>,
) -> Result<Vec<Producer>, Box<ScenarioError>> {
    let mut producers = Vec::new();
    let mut client = 0;
    for (index, producer) in raw.producers.iter().enumerate() {
        let path = |field| at("producer", index, field);
        if !topics.iter().any(|t| t.name == producer.topic) {
            let hint = did_you_mean(&producer.topic, topics.iter().map(|t| t.name.as_str()))
                .map(|near| format!("did you mean `{near}`?"))
                .or_else(|| Some("declare it in a [[topic]] table".into()));
            return Err(check.error(
                &path("topic"),
                format!("no topic named `{}`", producer.topic),
                hint,
            ));
        }
        if producer.instances == 0 {
            return Err(check.error(&path("instances"), "must be at least 1", None));
        }
        if producer.keys == Some(0) {
            return Err(check.error(&path("keys"), "must be at least 1", None));
        }
        if producer.selector == SelectorName::HashKey && producer.keys.is_none() {
            return Err(check.error(
                &path("selector"),
                "the hash-key selector needs sharding keys",
                Some("set `keys = 8` (or any count)".into()),
            ));
        }
        let room_brokers = room_brokers(check, raw, index, producer)?;
        if producer.timeout.0 == 0 {
            return Err(check.error(&path("timeout"), "must be longer than 0s", None));
        }
        if producers
            .iter()
            .any(|p: &Producer| p.group == producer.group)
        {
            return Err(check.error(
                &path("group"),
                format!("`{}` is declared twice", producer.group),
                None,
            ));
        }
        let mut ids = Vec::new();
        for instance in 0..producer.instances {
            ids.push(NodeId(nodes.len() as u16));
            nodes.push(NodeDecl {
                name: format!("{}-{instance}", producer.group),
                role: NodeRole::Producer {
                    producer: index,
                    instance,
                    client,
                },
            });
            client += 1;
        }
        producers.push(Producer {
            group: producer.group.clone(),
            topic: producer.topic.clone(),
            send: match producer.send {
                SendModeName::Sync => SendMode::Sync,
                SendModeName::Async => SendMode::Async,
                SendModeName::Oneway => SendMode::Oneway,
                SendModeName::Transaction => SendMode::Transaction,
            },
            messages: producer.messages,
            interval_ms: producer.rate.interval_ms(),
            start_ms: producer.start.0,
            keys: producer.keys,
            selector: producer.selector,
            room_brokers,
            body_bytes: producer.body.0,
            retries: producer.retries,
            timeout_ms: producer.timeout.0,
            latency_fault_tolerance: producer.latency_fault_tolerance,
            retry_when_not_store_ok: producer.retry_when_not_store_ok,
            app_retries: producer.app_retries,
            transaction: transaction_spec(check, index, producer)?,
            delay_level: delay_level(check, index, producer)?,
            tags: tags::producer_tags(check, index, producer)?,
            nodes: ids,
        });
    }
    Ok(producers)
}

fn unique_names(check: &Checker<'_>, nodes: &[NodeDecl]) -> Result<(), Box<ScenarioError>> {
    let mut seen = std::collections::BTreeSet::new();
    for node in nodes {
        if !seen.insert(node.name.as_str()) {
            return Err(check.error(
                &[],
                format!("two nodes would both be named `{}`", node.name),
                Some("rename a broker group or producer group".into()),
            ));
        }
    }
    Ok(())
}

/// What of a scenario decides which expectations default to 0.
struct Shape {
    consumers: bool,
    transactional: bool,
    dledger: bool,
}

/// Each expectation's condition: the file's, else the table's default.
fn expectations(raw: &ExpectSection, shape: Shape) -> Expectations {
    use crate::check::expectations::{DefaultTo, TABLE};
    let conditions = TABLE.iter().enumerate().map(|(at, expectation)| {
        let default = match expectation.default {
            DefaultTo::Nothing => false,
            DefaultTo::Zero => true,
            DefaultTo::ZeroWithConsumers => shape.consumers,
            DefaultTo::ZeroWithTransactions => shape.transactional,
            DefaultTo::ZeroWithDLedger => shape.dledger,
        };
        (raw.get(at).cloned()).or(default.then_some(Condition::Equal(0)))
    });
    Expectations::new(conditions.collect())
}

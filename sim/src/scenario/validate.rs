//! Semantic checks of a parsed scenario, and its resolution into node ids and model settings.

use super::error::{ScenarioError, Step, did_you_mean, key, locate, render_path};
use super::schema::{
    AllocateName, ConsumeFromName, ConsumerKindName, ConsumerSection, ExpectSection, FaultKind,
    FaultSection, FlushMode, ListenerName, MasterRole, MessageModelName, Names, ScenarioFile,
    SelectorName, SendModeName,
};
use super::units::{Condition, Millis, MillisRange};
use crate::net::Direction;
use crate::ratio::Ratio;
use model::NodeId;
use model::client::consumer::ConsumeMode;
use model::event::SendMode;
use model::protocol::RequestCode;

/// A scenario, checked and resolved.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: String,
    /// The matrix cell this scenario is, e.g. `flush=sync,fault=kill`.
    pub cell: Option<String>,
    pub name: String,
    pub summary: String,
    pub teaches: String,
    pub duration_ms: u64,
    pub drain_timeout_ms: u64,
    pub latency: MillisRange,
    pub flush_latency: MillisRange,
    pub cluster_name: String,
    /// Every node, in id order.
    pub nodes: Vec<NodeDecl>,
    pub broker_groups: Vec<BrokerGroup>,
    pub topics: Vec<Topic>,
    pub producers: Vec<Producer>,
    pub consumers: Vec<ConsumerGroup>,
    pub faults: Vec<Fault>,
    pub expect: Expectations,
    pub bugs: Bugs,
}

#[derive(Clone, Debug)]
pub struct NodeDecl {
    pub name: String,
    pub role: NodeRole,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeRole {
    NameServer,
    /// A broker of group `group` (index into `broker_groups`) with this broker id.
    Broker {
        group: usize,
        broker_id: u64,
    },
    /// Instance `instance` of producer `producer`; `client` numbers every producer instance of
    /// the scenario densely (it is the producer part of message ids).
    Producer {
        producer: usize,
        instance: u32,
        client: u32,
    },
    /// Instance `instance` of consumer group `group` (index into `consumers`).
    Consumer {
        group: usize,
        instance: u32,
    },
    /// Reads every queue back after the drain.
    Auditor,
}

#[derive(Clone, Debug)]
pub struct BrokerGroup {
    pub name: String,
    pub flush: FlushMode,
    pub role: MasterRole,
    pub transient_store_pool: bool,
    pub commit_log_file_size: u64,
    pub consume_queue_file_entries: u64,
    pub sync_flush_timeout_ms: u64,
    pub slave_read_enable: bool,
    /// `TOTAL_PHYSICAL_MEMORY_SIZE` of each machine of the group.
    pub memory_bytes: u64,
    /// Master first, then slaves.
    pub nodes: Vec<NodeId>,
}

#[derive(Clone, Debug)]
pub struct Topic {
    pub name: String,
    pub queues: u32,
    /// Indexes into `broker_groups`.
    pub groups: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Producer {
    pub group: String,
    pub topic: String,
    pub send: SendMode,
    pub messages: u32,
    pub interval_ms: u64,
    pub start_ms: u64,
    pub keys: Option<u32>,
    pub hash_selector: bool,
    pub body_bytes: u64,
    pub retries: u32,
    pub timeout_ms: u64,
    pub latency_fault_tolerance: bool,
    pub retry_when_not_store_ok: bool,
    pub app_retries: u32,
    pub nodes: Vec<NodeId>,
}

/// A consumer group: its settings and its instances.
#[derive(Clone, Debug)]
pub struct ConsumerGroup {
    pub group: String,
    pub topic: String,
    pub broadcasting: bool,
    pub mode: ConsumeMode,
    pub strategy: model::client::consumer::Strategy,
    pub consume_from_first: bool,
    /// `consumeMessageBatchMaxSize` and `consumeThreadMax`, when the file sets them (the
    /// model's defaults otherwise).
    pub batch: Option<usize>,
    pub threads: Option<usize>,
    pub max_reconsume_times: Option<u32>,
    pub nodes: Vec<NodeId>,
    /// When each instance boots, if not with the cluster.
    pub starts_ms: Vec<Option<u64>>,
    /// What each instance's listener does.
    pub listeners: Vec<Listener>,
}

/// What a consumer instance's listener does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub consume_time: MillisRange,
    pub fail: Ratio,
    pub crash_after: Option<u32>,
    pub restart_after_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Fault {
    /// Position in the file, from 0; names the fault in the history.
    pub index: usize,
    pub at: MillisRange,
    pub lasts_ms: Option<u64>,
    pub spec: FaultSpec,
    /// A one-line description for the history and reports.
    pub description: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeFault {
    Kill,
    Shutdown,
    /// An operator switches a broker between master and slave.
    SwitchRole,
    PowerOff,
    DiskLoss {
        returns: bool,
    },
    Pause,
}

#[derive(Clone, Debug)]
pub enum FaultSpec {
    /// Something happens to one node, drawn per seed from `candidates`.
    Node {
        fault: NodeFault,
        candidates: Vec<NodeId>,
    },
    Partition {
        a: Vec<NodeId>,
        b: Vec<NodeId>,
        one_way: bool,
    },
    Drop {
        direction: Direction,
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
        codes: Vec<RequestCode>,
        probability: Ratio,
    },
    Delay {
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
        codes: Vec<RequestCode>,
        extra: MillisRange,
    },
    Bandwidth {
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
        codes: Vec<RequestCode>,
        bytes_per_second: u64,
    },
    SlowDisk {
        candidates: Vec<NodeId>,
        extra_ms: u64,
    },
    /// A byte of a broker's newest commitlog file rots.
    BitRot { candidates: Vec<NodeId> },
}

/// What must hold; `None` or `Observe` means reported only.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    pub lost: Option<Condition>,
    pub lost_unconfirmed: Option<Condition>,
    pub lost_unexplained: Option<Condition>,
    pub recovered: Option<Condition>,
    pub duplicated: Option<Condition>,
    pub redelivered: Option<Condition>,
    pub redelivered_unexplained: Option<Condition>,
    pub stale_deliveries: Option<Condition>,
    pub abandoned: Option<Condition>,
    pub retry_lost: Option<Condition>,
    pub failed_acked: Option<Condition>,
    pub orderly_overlaps: Option<Condition>,
    pub reordered: Option<Condition>,
    pub skipped: Option<Condition>,
    pub rewinds: Option<Condition>,
    pub dead_lettered: Option<Condition>,
    pub unexpected: Option<Condition>,
    pub corrupt: Option<Condition>,
    pub diverged: Option<Condition>,
    pub weak_acks: Option<Condition>,
    pub failed: Option<Condition>,
    pub unavailable: Option<Condition>,
    pub removal_after_kill: Option<Condition>,
    pub removal_after_silence: Option<Condition>,
    pub route_catch_up: Option<Condition>,
}

#[derive(Clone, Debug, Default)]
pub struct Bugs {
    pub ack_before_sync_flush: bool,
    pub skip_crc_check_on_recover: bool,
    pub ack_before_slave_has_data: bool,
    pub commit_before_consume: bool,
    pub consume_dropped_queue: bool,
    pub reset_offset_to_zero: bool,
    pub drop_failed_send_back: bool,
    pub ack_failed_send_back: bool,
    pub orderly_without_lock: bool,
}

/// Collects the first error with its place in the file.
struct Checker<'a> {
    text: &'a str,
    file: &'a str,
}

impl Checker<'_> {
    fn error(
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

fn at(list: &str, index: usize, field: &str) -> Vec<Step> {
    vec![key(list), Step::Index(index), key(field)]
}

/// Resolves node names: exact names, `prefix*` patterns, producer group names, or `*`.
struct NodeNames<'a> {
    nodes: &'a [NodeDecl],
    producer_groups: Vec<(String, Vec<NodeId>)>,
}

impl NodeNames<'_> {
    fn resolve(&self, name: &str) -> Result<Vec<NodeId>, (String, Option<String>)> {
        let ids: Vec<NodeId> = if let Some(prefix) = name.strip_suffix('*') {
            self.nodes
                .iter()
                .enumerate()
                .filter(|(_, node)| node.name.starts_with(prefix))
                .map(|(i, _)| NodeId(i as u16))
                .collect()
        } else if let Some(index) = self.nodes.iter().position(|node| node.name == name) {
            vec![NodeId(index as u16)]
        } else if let Some((_, ids)) = self.producer_groups.iter().find(|(g, _)| g == name) {
            ids.clone()
        } else {
            Vec::new()
        };
        if ids.is_empty() {
            let names = self.nodes.iter().map(|node| node.name.as_str());
            let hint = match did_you_mean(name, names) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "nodes are {}",
                    self.nodes
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err((format!("no node named `{name}`"), Some(hint)));
        }
        Ok(ids)
    }

    fn resolve_all(&self, names: &Names) -> Result<Vec<NodeId>, (String, Option<String>)> {
        let mut ids = Vec::new();
        for name in names.to_vec() {
            for id in self.resolve(&name)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }
}

pub fn validate(raw: ScenarioFile, text: &str, file: &str) -> Result<Scenario, Box<ScenarioError>> {
    let check = Checker { text, file };

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

    // Nodes, in id order: name servers, brokers (master then slaves), producers, auditor.
    let mut nodes = Vec::new();
    for i in 0..raw.cluster.name_servers {
        nodes.push(NodeDecl {
            name: format!("namesrv-{i}"),
            role: NodeRole::NameServer,
        });
    }
    let mut broker_groups = Vec::new();
    for (index, group) in raw.cluster.broker_groups.iter().enumerate() {
        let path = |field| {
            vec![
                key("cluster"),
                key("broker_group"),
                Step::Index(index),
                key(field),
            ]
        };
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
        if group.commit_log_file_size.0 < 4096 {
            return Err(check.error(&path("commit_log_file_size"), "must be at least 4KiB", None));
        }
        if group.consume_queue_file_entries == 0 {
            return Err(check.error(
                &path("consume_queue_file_entries"),
                "must be at least 1",
                None,
            ));
        }
        if group.role == MasterRole::SyncMaster && group.slaves == 0 {
            return Err(check.error(
                &path("role"),
                "a sync-master needs at least one slave",
                Some("set `slaves = 1`, or use role = \"async-master\"".into()),
            ));
        }
        if group.slaves > 8 {
            return Err(check.error(&path("slaves"), "at most 8 slaves", None));
        }
        let mut ids = Vec::new();
        for broker_id in 0..=u64::from(group.slaves) {
            ids.push(NodeId(nodes.len() as u16));
            let name = if broker_id == 0 {
                group.name.clone()
            } else {
                format!("{}-s{broker_id}", group.name)
            };
            nodes.push(NodeDecl {
                name,
                role: NodeRole::Broker {
                    group: index,
                    broker_id,
                },
            });
        }
        broker_groups.push(BrokerGroup {
            name: group.name.clone(),
            flush: group.flush,
            role: group.role,
            transient_store_pool: group.transient_store_pool,
            commit_log_file_size: group.commit_log_file_size.0,
            consume_queue_file_entries: group.consume_queue_file_entries,
            sync_flush_timeout_ms: group.sync_flush_timeout.0,
            slave_read_enable: group.slave_read_enable,
            memory_bytes: group.memory.0,
            nodes: ids,
        });
    }

    let mut topics = Vec::new();
    for (index, topic) in raw.topics.iter().enumerate() {
        if topic.name.is_empty() || topic.name.len() > 127 || topic.name.contains(['/', ' ']) {
            return Err(check.error(
                &at("topic", index, "name"),
                "must be 1 to 127 characters without `/` or spaces",
                None,
            ));
        }
        if topics.iter().any(|t: &Topic| t.name == topic.name) {
            return Err(check.error(
                &at("topic", index, "name"),
                format!("`{}` is declared twice", topic.name),
                None,
            ));
        }
        if topic.queues == 0 || topic.queues > 1024 {
            return Err(check.error(
                &at("topic", index, "queues"),
                "must be between 1 and 1024",
                None,
            ));
        }
        let groups = match &topic.brokers {
            None => (0..broker_groups.len()).collect(),
            Some(names) => {
                let mut groups = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    let Some(group) = broker_groups.iter().position(|g| &g.name == name) else {
                        let hint =
                            did_you_mean(name, broker_groups.iter().map(|g| g.name.as_str()))
                                .map(|near| format!("did you mean `{near}`?"));
                        let mut path = at("topic", index, "brokers");
                        path.push(Step::Index(i));
                        return Err(check.error(
                            &path,
                            format!("no broker group named `{name}`"),
                            hint,
                        ));
                    };
                    groups.push(group);
                }
                groups
            }
        };
        topics.push(Topic {
            name: topic.name.clone(),
            queues: topic.queues,
            groups,
        });
    }

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
            },
            messages: producer.messages,
            interval_ms: producer.rate.interval_ms(),
            start_ms: producer.start.0,
            keys: producer.keys,
            hash_selector: producer.selector == SelectorName::HashKey,
            body_bytes: producer.body.0,
            retries: producer.retries,
            timeout_ms: producer.timeout.0,
            latency_fault_tolerance: producer.latency_fault_tolerance,
            retry_when_not_store_ok: producer.retry_when_not_store_ok,
            app_retries: producer.app_retries,
            nodes: ids,
        });
    }
    let consumers = consumer_groups(&check, &raw.consumers, &topics, &mut nodes)?;
    nodes.push(NodeDecl {
        name: "auditor".to_string(),
        role: NodeRole::Auditor,
    });
    if nodes.len() > usize::from(u16::MAX) {
        return Err(check.error(&[key("cluster")], "too many nodes", None));
    }
    {
        let mut seen = std::collections::BTreeSet::new();
        for node in &nodes {
            if !seen.insert(node.name.as_str()) {
                return Err(check.error(
                    &[],
                    format!("two nodes would both be named `{}`", node.name),
                    Some("rename a broker group or producer group".into()),
                ));
            }
        }
    }

    let names = NodeNames {
        nodes: &nodes,
        producer_groups: producers
            .iter()
            .map(|p| (p.group.clone(), p.nodes.clone()))
            .collect(),
    };
    let mut faults = Vec::new();
    for (index, fault) in raw.faults.iter().enumerate() {
        faults.push(validate_fault(&check, &names, index, fault, raw.duration)?);
    }

    let expect = expectations(&raw.expect, !consumers.is_empty());
    Ok(Scenario {
        file: file.to_string(),
        cell: None,
        name: raw.name,
        summary: raw.summary.trim().to_string(),
        teaches: raw.teaches.trim().to_string(),
        duration_ms: raw.duration.0,
        drain_timeout_ms: raw.drain_timeout.map_or(300_000, |d| d.0),
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
        bugs: Bugs {
            ack_before_sync_flush: raw.bugs.ack_before_sync_flush,
            skip_crc_check_on_recover: raw.bugs.skip_crc_check_on_recover,
            ack_before_slave_has_data: raw.bugs.ack_before_slave_has_data,
            commit_before_consume: raw.bugs.commit_before_consume,
            consume_dropped_queue: raw.bugs.consume_dropped_queue,
            reset_offset_to_zero: raw.bugs.reset_offset_to_zero,
            drop_failed_send_back: raw.bugs.drop_failed_send_back,
            ack_failed_send_back: raw.bugs.ack_failed_send_back,
            orderly_without_lock: raw.bugs.orderly_without_lock,
        },
    })
}

/// Merges the `[[consumer]]` blocks into groups and declares their nodes.
fn consumer_groups(
    check: &Checker<'_>,
    blocks: &[ConsumerSection],
    topics: &[Topic],
    nodes: &mut Vec<NodeDecl>,
) -> Result<Vec<ConsumerGroup>, Box<ScenarioError>> {
    let mut groups: Vec<ConsumerGroup> = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let path = |field: &str| at("consumer", index, field);
        if !topics.iter().any(|t| t.name == block.topic) {
            let hint = did_you_mean(&block.topic, topics.iter().map(|t| t.name.as_str()))
                .map(|near| format!("did you mean `{near}`?"))
                .or_else(|| Some("declare it in a [[topic]] table".into()));
            return Err(check.error(
                &path("topic"),
                format!("no topic named `{}`", block.topic),
                hint,
            ));
        }
        if block.group.is_empty() || block.group.contains(['%', '@', ' ']) {
            return Err(check.error(
                &path("group"),
                "must be a name without `%`, `@` or spaces",
                None,
            ));
        }
        if block.instances == 0 {
            return Err(check.error(&path("instances"), "must be at least 1", None));
        }
        for (field, value) in [("batch", block.batch), ("threads", block.threads)] {
            if value == Some(0) {
                return Err(check.error(&path(field), "must be at least 1", None));
            }
        }
        if block.crash_after == Some(0) {
            return Err(check.error(&path("crash_after"), "must be at least 1", None));
        }
        let mode = match (block.kind, block.listener) {
            (ConsumerKindName::Push, None | Some(ListenerName::Concurrent)) => {
                ConsumeMode::Concurrently
            }
            (ConsumerKindName::Push, Some(ListenerName::Orderly)) => ConsumeMode::Orderly,
            (ConsumerKindName::LitePull, _) => {
                let push_only = [
                    ("listener", block.listener.is_some()),
                    ("batch", block.batch.is_some()),
                    ("threads", block.threads.is_some()),
                    ("fail", block.fail.is_some()),
                    ("max_reconsume_times", block.max_reconsume_times.is_some()),
                ];
                if let Some((field, _)) = push_only.iter().find(|(_, set)| *set) {
                    return Err(check.error(
                        &path(field),
                        "applies to push consumers only",
                        Some("a lite pull application polls batches of 10 on one thread, and has no retries".into()),
                    ));
                }
                ConsumeMode::LitePull
            }
        };
        let settings = ConsumerGroup {
            group: block.group.clone(),
            topic: block.topic.clone(),
            broadcasting: block.model == MessageModelName::Broadcasting,
            mode,
            strategy: match block.allocate {
                AllocateName::Averagely => model::client::consumer::Strategy::Averagely,
                AllocateName::ByCircle => model::client::consumer::Strategy::ByCircle,
                AllocateName::ConsistentHash => model::client::consumer::Strategy::ConsistentHash,
            },
            consume_from_first: block.consume_from == ConsumeFromName::First,
            batch: block.batch.map(|b| b as usize),
            threads: block.threads.map(|t| t as usize),
            max_reconsume_times: block.max_reconsume_times,
            nodes: Vec::new(),
            starts_ms: Vec::new(),
            listeners: Vec::new(),
        };
        let listener = Listener {
            consume_time: block.consume_time,
            fail: block.fail.unwrap_or(Ratio::ZERO),
            crash_after: block.crash_after,
            restart_after_ms: block.restart_after.map_or(10_000, |d| d.0),
        };
        let group_index = match groups.iter().position(|g| g.group == block.group) {
            Some(existing) => {
                let same = {
                    let g = &groups[existing];
                    (
                        g.topic.as_str(),
                        g.broadcasting,
                        g.mode,
                        g.strategy,
                        g.batch,
                        g.threads,
                        g.max_reconsume_times,
                    ) == (
                        settings.topic.as_str(),
                        settings.broadcasting,
                        settings.mode,
                        settings.strategy,
                        settings.batch,
                        settings.threads,
                        settings.max_reconsume_times,
                    )
                };
                if !same {
                    return Err(check.error(
                        &path("group"),
                        format!("`{}` is declared again with other settings", block.group),
                        Some("blocks of one group may differ only in instances, start and listener behaviour".into()),
                    ));
                }
                existing
            }
            None => {
                groups.push(settings);
                groups.len() - 1
            }
        };
        for _ in 0..block.instances {
            let group = &mut groups[group_index];
            let instance = group.nodes.len() as u32;
            group.nodes.push(NodeId(nodes.len() as u16));
            group.starts_ms.push(block.start.map(|s| s.0));
            group.listeners.push(listener.clone());
            nodes.push(NodeDecl {
                name: format!("{}-{instance}", block.group),
                role: NodeRole::Consumer {
                    group: group_index,
                    instance,
                },
            });
        }
    }
    Ok(groups)
}

fn validate_fault(
    check: &Checker<'_>,
    names: &NodeNames<'_>,
    index: usize,
    fault: &FaultSection,
    duration: Millis,
) -> Result<Fault, Box<ScenarioError>> {
    let path = |field: &str| at("fault", index, field);
    let fail = |field: &str, (message, hint): (String, Option<String>)| {
        check.error(&path(field), message, hint)
    };
    if fault.at.max >= duration {
        return Err(check.error(
            &path("at"),
            format!(
                "starts at {} but the run phase ends at {duration}",
                fault.at.max
            ),
            Some("faults happen during the run phase; raise `duration` or start earlier".into()),
        ));
    }
    if fault.lasts == Some(Millis(0)) {
        return Err(check.error(&path("for"), "must be longer than 0s", None));
    }

    // Which fields each kind takes; anything else set is a mistake worth naming.
    let allowed: &[&str] = match fault.kind {
        FaultKind::Kill | FaultKind::Shutdown | FaultKind::PowerOff | FaultKind::Pause => &["node"],
        FaultKind::DiskLoss => &["node", "returns"],
        FaultKind::Partition => &["a", "b", "one_way"],
        FaultKind::DropRequest | FaultKind::DropResponse => {
            &["from", "to", "request", "probability"]
        }
        FaultKind::Delay => &["from", "to", "request", "extra"],
        FaultKind::Bandwidth => &["from", "to", "request", "rate"],
        FaultKind::SlowDisk => &["node", "extra"],
        FaultKind::BitRot | FaultKind::Promote | FaultKind::Demote => &["node"],
    };
    let set = [
        ("node", fault.node.is_some()),
        ("returns", fault.returns.is_some()),
        ("a", fault.a.is_some()),
        ("b", fault.b.is_some()),
        ("one_way", fault.one_way.is_some()),
        ("from", fault.from.is_some()),
        ("to", fault.to.is_some()),
        ("request", fault.request.is_some()),
        ("probability", fault.probability.is_some()),
        ("extra", fault.extra.is_some()),
        ("rate", fault.rate.is_some()),
    ];
    let kind_name = format!("{:?}", fault.kind);
    for (field, present) in set {
        if present && !allowed.contains(&field) {
            return Err(check.error(
                &path(field),
                format!("does not apply to a {kind_name} fault"),
                Some(format!("a {kind_name} fault takes: {}", allowed.join(", "))),
            ));
        }
    }
    let required = |field: &str, value: bool| {
        if value {
            Ok(())
        } else {
            Err(check.error(
                &path("kind"),
                format!("a {kind_name} fault needs `{field}`"),
                None,
            ))
        }
    };
    let nodes_of = |field: &str,
                    names_field: &Option<Names>|
     -> Result<Option<Vec<NodeId>>, Box<ScenarioError>> {
        match names_field {
            None => Ok(None),
            Some(list) => names
                .resolve_all(list)
                .map(Some)
                .map_err(|e| fail(field, e)),
        }
    };
    let codes = match &fault.request {
        None => Vec::new(),
        Some(list) => {
            let mut codes = Vec::new();
            for name in list.to_vec() {
                match RequestCode::from_name(&name) {
                    Some(code) => codes.push(code),
                    None => {
                        let hint = did_you_mean(&name, RequestCode::names())
                            .map(|near| format!("did you mean `{near}`?"))
                            .unwrap_or_else(|| {
                                format!("codes are {}", RequestCode::names().join(", "))
                            });
                        return Err(check.error(
                            &path("request"),
                            format!("no request code `{name}`"),
                            Some(hint),
                        ));
                    }
                }
            }
            codes
        }
    };

    let spec = match fault.kind {
        FaultKind::Kill
        | FaultKind::Shutdown
        | FaultKind::PowerOff
        | FaultKind::Pause
        | FaultKind::DiskLoss => {
            required("node", fault.node.is_some())?;
            let candidates = nodes_of("node", &fault.node)?.unwrap_or_default();
            let node_fault = match fault.kind {
                FaultKind::Kill => NodeFault::Kill,
                FaultKind::Shutdown => NodeFault::Shutdown,
                FaultKind::PowerOff => NodeFault::PowerOff,
                FaultKind::Pause => NodeFault::Pause,
                _ => NodeFault::DiskLoss {
                    returns: fault.returns.unwrap_or(true),
                },
            };
            if node_fault == NodeFault::Pause && fault.lasts.is_none() {
                return Err(check.error(
                    &path("kind"),
                    "a pause needs `for`: how long the node stays stopped",
                    None,
                ));
            }
            FaultSpec::Node {
                fault: node_fault,
                candidates,
            }
        }
        FaultKind::Partition => {
            required("a", fault.a.is_some())?;
            required("b", fault.b.is_some())?;
            let a = nodes_of("a", &fault.a)?.unwrap_or_default();
            let b = nodes_of("b", &fault.b)?.unwrap_or_default();
            if let Some(both) = a.iter().find(|id| b.contains(id)) {
                return Err(check.error(
                    &path("b"),
                    format!("`{}` is on both sides", names.nodes[both.index()].name),
                    None,
                ));
            }
            FaultSpec::Partition {
                a,
                b,
                one_way: fault.one_way.unwrap_or(false),
            }
        }
        FaultKind::DropRequest | FaultKind::DropResponse => FaultSpec::Drop {
            direction: if fault.kind == FaultKind::DropRequest {
                Direction::Request
            } else {
                Direction::Response
            },
            from: nodes_of("from", &fault.from)?,
            to: nodes_of("to", &fault.to)?,
            codes,
            probability: fault.probability.unwrap_or(Ratio::ONE),
        },
        FaultKind::Delay => {
            required("extra", fault.extra.is_some())?;
            FaultSpec::Delay {
                from: nodes_of("from", &fault.from)?,
                to: nodes_of("to", &fault.to)?,
                codes,
                extra: fault.extra.expect("required"),
            }
        }
        FaultKind::Bandwidth => {
            required("rate", fault.rate.is_some())?;
            FaultSpec::Bandwidth {
                from: nodes_of("from", &fault.from)?,
                to: nodes_of("to", &fault.to)?,
                codes,
                bytes_per_second: fault.rate.expect("required").bytes_per_second,
            }
        }
        FaultKind::SlowDisk => {
            required("node", fault.node.is_some())?;
            required("extra", fault.extra.is_some())?;
            let extra = fault.extra.expect("required");
            if extra.min != extra.max {
                return Err(check.error(
                    &path("extra"),
                    "a slow disk takes one fixed extra time",
                    None,
                ));
            }
            FaultSpec::SlowDisk {
                candidates: nodes_of("node", &fault.node)?.unwrap_or_default(),
                extra_ms: extra.min.0,
            }
        }
        FaultKind::BitRot => {
            required("node", fault.node.is_some())?;
            if fault.lasts.is_some() {
                return Err(check.error(&path("for"), "bit rot does not heal: remove `for`", None));
            }
            FaultSpec::BitRot {
                candidates: nodes_of("node", &fault.node)?.unwrap_or_default(),
            }
        }
        FaultKind::Promote | FaultKind::Demote => {
            required("node", fault.node.is_some())?;
            if fault.lasts.is_some() {
                return Err(check.error(&path("for"), "a role switch stays: remove `for`", None));
            }
            let candidates = nodes_of("node", &fault.node)?.unwrap_or_default();
            let promote = fault.kind == FaultKind::Promote;
            let wrong = candidates
                .iter()
                .find(|id| match names.nodes[id.index()].role {
                    NodeRole::Broker { broker_id, .. } => (broker_id == 0) == promote,
                    _ => true,
                });
            if let Some(wrong) = wrong {
                let (message, hint) = if promote {
                    (
                        "is not a slave: only a slave can be promoted",
                        "slaves are named <group>-s1, ...",
                    )
                } else {
                    (
                        "is not a master: only a master can be demoted",
                        "a master is named after its group",
                    )
                };
                return Err(check.error(
                    &path("node"),
                    format!("`{}` {message}", names.nodes[wrong.index()].name),
                    Some(hint.into()),
                ));
            }
            FaultSpec::Node {
                fault: NodeFault::SwitchRole,
                candidates,
            }
        }
    };
    if let FaultSpec::BitRot { candidates } = &spec
        && let Some(not_broker) = candidates
            .iter()
            .find(|id| !matches!(names.nodes[id.index()].role, NodeRole::Broker { .. }))
    {
        return Err(check.error(
            &path("node"),
            format!(
                "`{}` is not a broker: only brokers keep a commitlog",
                names.nodes[not_broker.index()].name
            ),
            None,
        ));
    }
    if let FaultSpec::Node { candidates, .. }
    | FaultSpec::SlowDisk { candidates, .. }
    | FaultSpec::BitRot { candidates } = &spec
        && let Some(auditor) = candidates
            .iter()
            .find(|id| names.nodes[id.index()].role == NodeRole::Auditor)
    {
        return Err(check.error(
            &path("node"),
            format!(
                "`{}` reads the results back after the run and cannot be faulted",
                names.nodes[auditor.index()].name
            ),
            None,
        ));
    }
    let description = describe(fault, names);
    Ok(Fault {
        index,
        at: fault.at,
        lasts_ms: fault.lasts.map(|d| d.0),
        spec,
        description,
    })
}

fn describe(fault: &FaultSection, _names: &NodeNames<'_>) -> String {
    let list = |names: &Option<Names>| names.as_ref().map(|n| n.to_vec().join("|"));
    let mut parts = vec![format!("{:?}", fault.kind).to_lowercase()];
    for (label, value) in [
        ("node", list(&fault.node)),
        ("a", list(&fault.a)),
        ("b", list(&fault.b)),
        ("from", list(&fault.from)),
        ("to", list(&fault.to)),
        ("request", list(&fault.request)),
    ] {
        if let Some(value) = value {
            parts.push(format!("{label}={value}"));
        }
    }
    if let Some(p) = fault.probability {
        parts.push(format!("p={p}"));
    }
    if let Some(extra) = fault.extra {
        parts.push(format!("extra={extra}"));
    }
    if let Some(rate) = fault.rate {
        parts.push(format!("rate={}B/s", rate.bytes_per_second));
    }
    if let Some(lasts) = fault.lasts {
        parts.push(format!("for={lasts}"));
    }
    parts.join(" ")
}

fn expectations(raw: &ExpectSection, has_consumers: bool) -> Expectations {
    let count = |c: &Option<super::units::CountCondition>| c.as_ref().map(|c| c.0.clone());
    let invariant = |c: &Option<super::units::CountCondition>| {
        count(c).or(has_consumers.then_some(Condition::Equal(0)))
    };
    let time = |c: &Option<super::units::TimeCondition>| c.as_ref().map(|c| c.0.clone());
    Expectations {
        lost: count(&raw.lost),
        lost_unconfirmed: count(&raw.lost_unconfirmed),
        lost_unexplained: count(&raw.lost_unexplained),
        recovered: count(&raw.recovered),
        duplicated: count(&raw.duplicated),
        redelivered: count(&raw.redelivered),
        redelivered_unexplained: invariant(&raw.redelivered_unexplained),
        stale_deliveries: invariant(&raw.stale_deliveries),
        abandoned: count(&raw.abandoned),
        retry_lost: invariant(&raw.retry_lost),
        failed_acked: invariant(&raw.failed_acked),
        orderly_overlaps: invariant(&raw.orderly_overlaps),
        reordered: count(&raw.reordered),
        skipped: count(&raw.skipped),
        rewinds: count(&raw.rewinds),
        dead_lettered: count(&raw.dead_lettered),
        unexpected: count(&raw.unexpected).or(Some(Condition::Equal(0))),
        corrupt: count(&raw.corrupt),
        diverged: count(&raw.diverged),
        weak_acks: count(&raw.weak_acks),
        failed: count(&raw.failed),
        unavailable: time(&raw.unavailable),
        removal_after_kill: time(&raw.removal_after_kill),
        removal_after_silence: time(&raw.removal_after_silence),
        route_catch_up: time(&raw.route_catch_up),
    }
}

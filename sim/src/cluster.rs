//! From a scenario and a seed to what the runtime runs: a node factory per node (name servers,
//! brokers, producer applications, the auditor) and the fault plan, with every random choice
//! of the plan drawn from the `faults` stream.

use crate::rng::Stream;
use crate::runtime::{Boot, NodeSpec, Plan, Progress, World};
use crate::scenario::resolved::FaultSpec;
use crate::scenario::schema::{FaultPhase, FlushMode, MasterRole};
use crate::scenario::{BrokerGroup, DLedgerGroup, NodeRole, Scenario};
use crate::workload::operator::{Operator, Round};
use crate::workload::roles::GroupReplicas;
use crate::workload::{
    AuditTarget, Auditor, ConsumerApp, ListenerSpec, ProducerApp, ProducerWorkload, Watched,
};
use model::broker::{Broker, BrokerBugs, BrokerConfig, BrokerRole, FlushDiskType};
use model::client::ClientConfig;
use model::client::consumer::{ConsumeMode, ConsumerBugs, ConsumerConfig};
use model::client::producer::ProducerConfig;
use model::dledger::config::{DLedgerConfig, Peer};
use model::namesrv::NameServer;
use model::protocol::TopicConfig;
use model::protocol::route::{dlq_topic, retry_topic};
use model::{NodeId, Time};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Time the read-back may take after the drain.
use crate::scenario::resolved::read_back_timeout_ms;

/// When each role's processes boot, as a window the seed draws from: name servers first,
/// then brokers, then clients.
fn boot_window_ms(role: NodeRole) -> (u64, u64) {
    match role {
        NodeRole::NameServer => (0, 500),
        NodeRole::Broker { .. } => (500, 1_500),
        NodeRole::Producer { .. }
        | NodeRole::Consumer { .. }
        | NodeRole::Auditor
        | NodeRole::Operator => (1_500, 2_500),
    }
}

/// The node specs of one seed; `lost_for_good` are the machines its fault plan loses for good
/// (the auditor neither watches nor reads them).
pub fn nodes(scenario: &Scenario, seed: u64, lost_for_good: &[NodeId]) -> Vec<NodeSpec> {
    let mut boot = Stream::new(seed, "boot");
    let name_servers: Vec<NodeId> = (scenario.nodes.iter().enumerate())
        .filter(|(_, node)| node.role == NodeRole::NameServer)
        .map(|(i, _)| NodeId(i as u16))
        .collect();
    scenario
        .nodes
        .iter()
        .map(|node| {
            let (min, max) = boot_window_ms(node.role);
            let at_start = Boot::AtStart {
                delay_ms: boot.between(min, max - 1),
            };
            let mut switched: Option<crate::runtime::NodeFactory> = None;
            let (factory, boot): (crate::runtime::NodeFactory, Boot) = match node.role {
                NodeRole::NameServer => {
                    let never_expire = scenario.bugs.never_expire_brokers;
                    let factory: crate::runtime::NodeFactory =
                        Arc::new(move || Box::new(NameServer::new().never_expiring(never_expire)));
                    (factory, at_start)
                }
                NodeRole::Broker { group, broker_id } => {
                    let config = broker_config(scenario, group, broker_id, &name_servers);
                    switched = switched_broker(scenario, group, broker_id, &name_servers);
                    (
                        Arc::new(move || Box::new(Broker::new(config.clone()))),
                        at_start,
                    )
                }
                NodeRole::Producer {
                    producer, client, ..
                } => {
                    let factory =
                        producer_factory(scenario, &node.name, (producer, client), &name_servers);
                    (factory, at_start)
                }
                NodeRole::Consumer { group, instance } => {
                    let spec = &scenario.consumers[group];
                    let factory =
                        consumer_factory(scenario, &node.name, (group, instance), &name_servers);
                    let boot = match spec.starts_ms[instance as usize] {
                        Some(start) => Boot::AtStart { delay_ms: start },
                        None => at_start,
                    };
                    (factory, boot)
                }
                NodeRole::Auditor => (
                    auditor_factory(scenario, lost_for_good, &name_servers),
                    Boot::AtReadBack,
                ),
                NodeRole::Operator => {
                    let rounds = operator_rounds(scenario, seed);
                    let name_servers = name_servers.clone();
                    let factory = move || {
                        Box::new(Operator::new(name_servers.clone(), rounds.clone()))
                            as Box<dyn model::node::Node>
                    };
                    (Arc::new(factory), at_start)
                }
            };
            NodeSpec {
                name: node.name.clone(),
                factory,
                switched,
                boot,
            }
        })
        .collect()
}

/// The auditor, reading back every broker but those lost for good.
fn auditor_factory(
    scenario: &Scenario,
    lost_for_good: &[NodeId],
    name_servers: &[NodeId],
) -> crate::runtime::NodeFactory {
    let targets = audit_targets(scenario, lost_for_good);
    let watched = watched(scenario, lost_for_good, name_servers);
    Arc::new(move || {
        Box::new(Auditor::new(targets.clone(), watched.clone())) as Box<dyn model::node::Node>
    })
}

/// The operator's rounds of one seed: each operator's fault at the time it drew.
fn operator_rounds(scenario: &Scenario, seed: u64) -> Vec<Round> {
    let draws = fault_draws(scenario, seed);
    let group_nodes = |name: &String| {
        let group = scenario.broker_groups.iter().find(|g| &g.name == name);
        GroupReplicas {
            broker: name.clone(),
            nodes: group.map(|g| g.nodes.clone()).unwrap_or_default(),
        }
    };
    (scenario.faults.iter().zip(&draws))
        .filter_map(|(fault, draw)| match &fault.spec {
            FaultSpec::Operator(call) => Some(Round {
                at: Time::from_ms(fault.origin_ms(scenario.duration_ms) + draw.start_ms),
                brokers: call.brokers().iter().map(group_nodes).collect(),
                call: call.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The broker a `promote` or `demote` restarts a classic group's node as: promoted, a slave
/// becomes the master (id 0); demoted, the master becomes a slave with an id no slave uses. A
/// DLedger group's members have none: the group elects its own master.
fn switched_broker(
    scenario: &Scenario,
    group: usize,
    broker_id: u64,
    name_servers: &[NodeId],
) -> Option<crate::runtime::NodeFactory> {
    let spec = &scenario.broker_groups[group];
    if spec.is_dledger() {
        return None;
    }
    let slaves = spec.nodes.len() as u64 - 1;
    let other_id = if broker_id == 0 { slaves + 1 } else { 0 };
    let other = broker_config(scenario, group, other_id, name_servers);
    Some(Arc::new(move || Box::new(Broker::new(other.clone()))))
}

/// The factory of a producer application: its client, producer settings and workload.
fn producer_factory(
    scenario: &Scenario,
    name: &str,
    (producer, client): (usize, u32),
    name_servers: &[NodeId],
) -> crate::runtime::NodeFactory {
    let spec = &scenario.producers[producer];
    let client_config = ClientConfig::new(name, name_servers.to_vec());
    let mut producer_config = ProducerConfig::new(&spec.group);
    producer_config.send_msg_timeout_ms = spec.timeout_ms;
    producer_config.retry_times_when_send_failed = spec.retries;
    producer_config.retry_times_when_send_async_failed = spec.retries;
    producer_config.retry_another_broker_when_not_store_ok = spec.retry_when_not_store_ok;
    producer_config.send_latency_fault_enable = spec.latency_fault_tolerance;
    producer_config.transactional = spec.transaction.is_some();
    let workload = ProducerWorkload {
        topic: spec.topic.clone(),
        mode: spec.send,
        messages: spec.messages,
        interval_ms: spec.interval_ms,
        start_ms: spec.start_ms,
        keys: spec.keys,
        selector: spec.selector,
        room_brokers: spec.room_brokers.clone().into(),
        body_bytes: spec.body_bytes,
        app_retries: spec.app_retries,
        client,
        transaction: spec.transaction.clone(),
        delay_level: spec.delay_level,
        tags: spec.tags.clone(),
    };
    let factory = move || {
        Box::new(ProducerApp::new(
            client_config.clone(),
            producer_config.clone(),
            workload.clone(),
        )) as Box<dyn model::node::Node>
    };
    Arc::new(factory)
}

/// The factory of a consumer application: its client, consumer settings and listener.
fn consumer_factory(
    scenario: &Scenario,
    name: &str,
    (group, instance): (usize, u32),
    name_servers: &[NodeId],
) -> crate::runtime::NodeFactory {
    let spec = &scenario.consumers[group];
    let client_config = ClientConfig::new(name, name_servers.to_vec());
    let mut consumer = consumer_config(scenario, spec);
    consumer.subscription = spec.subscriptions[instance as usize].clone();
    let behaviour = &spec.listeners[instance as usize];
    let listener = ListenerSpec {
        fail: behaviour.fail,
        consume_time: behaviour.consume_time,
        crash_after: behaviour.crash_after,
        restart_after_ms: behaviour.restart_after_ms,
        stuck: behaviour.stuck,
    };
    let factory = move || {
        Box::new(ConsumerApp::new(
            client_config.clone(),
            consumer.clone(),
            listener.clone(),
        )) as Box<dyn model::node::Node>
    };
    Arc::new(factory)
}

fn broker_config(
    scenario: &Scenario,
    group: usize,
    broker_id: u64,
    name_servers: &[NodeId],
) -> BrokerConfig {
    let spec = &scenario.broker_groups[group];
    let mut config = BrokerConfig::new(&scenario.cluster_name, &spec.name, name_servers.to_vec());
    config.broker_id = broker_id;
    config.role = match (broker_id, spec.role) {
        (0, MasterRole::AsyncMaster) => BrokerRole::AsyncMaster,
        (0, MasterRole::SyncMaster) => BrokerRole::SyncMaster,
        _ => BrokerRole::Slave,
    };
    config.flush_disk_type = match spec.flush {
        FlushMode::Async => FlushDiskType::AsyncFlush,
        FlushMode::Sync => FlushDiskType::SyncFlush,
    };
    config.topics = scenario
        .topics
        .iter()
        .filter(|topic| topic.groups.contains(&group))
        .map(|topic| TopicConfig {
            name: topic.name.clone(),
            read_queue_nums: topic.read_queues,
            write_queue_nums: topic.write_queues,
            perm: topic.perm,
        })
        .collect();
    store_config(spec, &mut config.store);
    config.send_pool.wait_time_in_queue_ms = spec.send_queue_wait_ms;
    config.transaction = spec.transaction.clone();
    config.bugs = BrokerBugs {
        ack_before_sync_flush: scenario.bugs.ack_before_sync_flush,
        skip_crc_check_on_recover: scenario.bugs.skip_crc_check_on_recover,
        ack_before_slave_has_data: scenario.bugs.ack_before_slave_has_data,
        reput_stops_at_file_end: scenario.bugs.reput_stops_at_file_end,
        keep_consume_queue_on_truncation: scenario.bugs.keep_consume_queue_on_truncation,
        rollback_puts_message: scenario.bugs.rollback_puts_message,
        check_ignores_op_messages: scenario.bugs.check_ignores_op_messages,
        half_in_real_topic: scenario.bugs.half_in_real_topic,
        ignore_delay_level: scenario.bugs.ignore_delay_level,
        filter_first_tag_only: scenario.bugs.filter_first_tag_only,
        ack_before_quorum: scenario.bugs.ack_before_quorum,
        dispatch_past_committed: scenario.bugs.dispatch_past_committed,
        shrink_counts_consumed: scenario.bugs.shrink_counts_consumed,
        broker_ignores_tag_hash: scenario.bugs.broker_ignores_tag_hash,
        ignore_file_reserved_time: scenario.bugs.ignore_file_reserved_time,
        index_wrong_slot: scenario.bugs.index_wrong_slot,
        recover_from_newest_file: scenario.bugs.recover_from_newest_file,
        store_after_busy: scenario.bugs.store_after_busy,
        zero_for_new_groups: scenario.bugs.zero_for_new_groups,
    };
    config.slave_read_enable = spec.slave_read_enable;
    if spec.is_dledger() {
        // Until its member's first role change, a DLedger broker has the default role and no
        // id it would register (BrokerStartup's -1): the change gives it both.
        let member = DLedgerGroup::member(broker_id);
        config.role = BrokerRole::AsyncMaster;
        config.broker_id = member as u64 + 1;
        let mut dledger = dledger_config(spec, member);
        dledger.grant_two_votes_per_term = scenario.bugs.grant_two_votes_per_term;
        dledger.skip_follower_truncation = scenario.bugs.skip_follower_truncation;
        dledger.commit_before_quorum = scenario.bugs.commit_before_quorum;
        dledger.follower_ack_before_write = scenario.bugs.follower_ack_before_write;
        config.dledger = Some(dledger);
    }
    config
}

/// The DLedger settings of member `member` of a DLedger group (its `nodes`, `n0` first): every
/// member names them all as its peers and elects its leader with them, with the group's timings, and
/// data files of the group's commitlog file size, as `DLedgerCommitLog` sets them.
pub fn dledger_config(spec: &BrokerGroup, member: usize) -> DLedgerConfig {
    let (group_name, nodes) = (&spec.name, &spec.nodes);
    let group = spec.dledger.as_ref().expect("a DLedger group");
    let peers = nodes
        .iter()
        .enumerate()
        .map(|(k, node)| Peer {
            id: DLedgerGroup::member_id(k),
            node: *node,
        })
        .collect();
    let self_id = DLedgerGroup::member_id(member);
    let mut config = DLedgerConfig::new(group_name, &self_id, peers, None);
    // DLedgerCommitLog: `setMappedFileSizeForEntryData(getMappedFileSizeCommitLog())`.
    config.data_file_size = spec.commit_log_file_size;
    config.max_wait_ack_ms = group.max_wait_ack_ms;
    config.max_push_timeout_ms = group.max_push_timeout_ms;
    config.flush_interval_ms = group.flush_interval_ms;
    config.checkpoint_interval_ms = group.checkpoint_interval_ms;
    config.max_pending_requests = group.max_pending_requests;
    config
}

fn consumer_config(scenario: &Scenario, spec: &crate::scenario::ConsumerGroup) -> ConsumerConfig {
    let mut config = match spec.mode {
        ConsumeMode::LitePull => ConsumerConfig::lite_pull(&spec.group, &spec.topic),
        mode => ConsumerConfig {
            mode,
            ..ConsumerConfig::new(&spec.group, &spec.topic)
        },
    };
    config.broadcasting = spec.broadcasting;
    config.strategy = spec.strategy;
    config.consume_from_first_offset = spec.consume_from_first;
    config.consume_timestamp_ms = spec.consume_timestamp_ms;
    if let Some(batch) = spec.batch {
        config.consume_message_batch_max_size = batch;
    }
    if let Some(threads) = spec.threads {
        config.consume_thread_max = threads;
    }
    config.max_reconsume_times = spec.max_reconsume_times;
    config.bugs = ConsumerBugs {
        commit_before_consume: scenario.bugs.commit_before_consume,
        consume_dropped_queue: scenario.bugs.consume_dropped_queue,
        reset_offset_to_zero: scenario.bugs.reset_offset_to_zero,
        keep_offset_after_moved: scenario.bugs.keep_offset_after_moved,
        drop_failed_send_back: scenario.bugs.drop_failed_send_back,
        ack_failed_send_back: scenario.bugs.ack_failed_send_back,
        orderly_without_lock: scenario.bugs.orderly_without_lock,
        keep_unallocated_queues: scenario.bugs.keep_unallocated_queues,
        slow_rebalance: scenario.bugs.slow_rebalance,
        skip_client_tag_filter: scenario.bugs.skip_client_tag_filter,
        commit_past_pending: scenario.bugs.commit_past_pending,
        ignore_reset_offset: scenario.bugs.ignore_reset_offset,
    };
    config
}

/// Every queue to read back: each topic's queues on each group hosting it, each clustering
/// consumer group's retry and dead-letter queue on every broker group, and with transactional
/// producers every group's queue of discarded half messages.
fn audit_targets(scenario: &Scenario, lost_for_good: &[NodeId]) -> Vec<AuditTarget> {
    let mut targets = Vec::new();
    let mut add = |group: usize, topic: &str, queues: u32| {
        let spec = &scenario.broker_groups[group];
        for node in spec.nodes.iter().filter(|n| !lost_for_good.contains(n)) {
            for queue_id in 0..queues {
                targets.push(AuditTarget {
                    broker: spec.name.clone(),
                    node: *node,
                    topic: topic.to_string(),
                    queue_id,
                });
            }
        }
    };
    for topic in &scenario.topics {
        for group in &topic.groups {
            add(*group, &topic.name, topic.queues);
        }
    }
    for consumer in scenario.consumers.iter().filter(|c| !c.broadcasting) {
        for group in 0..scenario.broker_groups.len() {
            add(group, &retry_topic(&consumer.group), 1);
            add(group, &dlq_topic(&consumer.group), 1);
        }
    }
    if scenario.producers.iter().any(|p| p.transaction.is_some()) {
        for group in 0..scenario.broker_groups.len() {
            add(group, model::broker::transaction::DISCARD_TOPIC, 1);
        }
    }
    targets
}

/// What the auditor watches before reading back: every clustering group's progress on every
/// broker group's current master, as the name servers' routes of every topic name it (with
/// no route naming a group: its first node not lost for good).
fn watched(scenario: &Scenario, lost_for_good: &[NodeId], name_servers: &[NodeId]) -> Watched {
    let clustering = || scenario.consumers.iter().filter(|c| !c.broadcasting);
    let mut topics: Vec<String> = scenario.topics.iter().map(|t| t.name.clone()).collect();
    topics.extend(clustering().map(|c| retry_topic(&c.group)));
    Watched {
        name_servers: name_servers
            .iter()
            .filter(|n| !lost_for_good.contains(n))
            .copied()
            .collect(),
        topics,
        brokers: scenario
            .broker_groups
            .iter()
            .map(|g| crate::workload::roles::GroupReplicas {
                broker: g.name.clone(),
                nodes: g
                    .nodes
                    .iter()
                    .filter(|n| !lost_for_good.contains(n))
                    .copied()
                    .collect(),
            })
            .filter(|g| !g.nodes.is_empty())
            .collect(),
        groups: scenario
            .consumers
            .iter()
            .filter(|c| !c.broadcasting)
            .map(|c| (c.group.clone(), c.topic.clone()))
            .collect(),
        transactions: scenario.producers.iter().any(|p| p.transaction.is_some()),
        query_index: scenario.query_index,
    }
}

/// What the `faults` stream drew for one fault of a seed: its start, and its node when it
/// has candidates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultDraw {
    pub start_ms: u64,
    pub node: Option<NodeId>,
}

/// The broker groups whose SEND_OK promises something the disks can show: flushed
/// (SYNC_FLUSH), held by a slave (SYNC_MASTER), or held by a quorum of a DLedger group's
/// members; each machine with the directory its log lies in.
/// A group's store settings: its files, replication limits and retention.
fn store_config(spec: &BrokerGroup, store: &mut model::broker::config::StoreConfig) {
    store.commit_log_file_size = spec.commit_log_file_size;
    store.consume_queue_entries_per_file = spec.consume_queue_file_entries;
    store.index = spec.index;
    store.ha_slave_fallbehind_max = spec.ha.slave_fallbehind_max;
    store.ha_transfer_batch_size = spec.ha.transfer_batch_size;
    store.slave_timeout_ms = spec.ha.slave_timeout_ms;
    store.ha_send_heartbeat_interval_ms = spec.ha.heartbeat_interval_ms;
    store.ha_housekeeping_interval_ms = spec.ha.housekeeping_interval_ms;
    store.transient_store_pool_enable = spec.transient_store_pool;
    store.sync_flush_timeout_ms = spec.sync_flush_timeout_ms;
    store.total_memory_bytes = spec.memory_bytes;
    store.os_page_cache_busy_timeout_ms = spec.page_cache_busy_timeout_ms;
    let retention = &spec.retention;
    store.file_reserved_time_ms = retention.file_reserved_time_ms;
    store.delete_when = retention.delete_when.clone();
    store.disk_max_used_space_percent = retention.disk_max_used_space_percent;
    store.clean_resource_interval_ms = retention.clean_resource_interval_ms;
    store.clean_file_forcibly_enable = retention.clean_file_forcibly;
}

/// Each broker machine's disk size, where its group names one.
pub fn disk_capacities(scenario: &Scenario) -> BTreeMap<NodeId, u64> {
    let groups = scenario.broker_groups.iter();
    let sized = groups.filter_map(|g| Some((g.retention.disk_bytes?, &g.nodes)));
    let machines = sized.flat_map(|(bytes, nodes)| nodes.iter().map(move |node| (*node, bytes)));
    machines.collect()
}

pub fn promise_watch(scenario: &Scenario) -> crate::runtime::promises::PromiseWatch {
    let promising = scenario.broker_groups.iter().filter(|g| {
        g.is_dledger()
            || g.flush == FlushMode::Sync
            || (g.role == MasterRole::SyncMaster && g.nodes.len() > 1)
    });
    let groups: Vec<Vec<(NodeId, String)>> = promising.map(log_dirs).collect();
    crate::runtime::promises::PromiseWatch::new(&groups)
}

/// Each machine of a group with the directory its log lies in.
fn log_dirs(spec: &BrokerGroup) -> Vec<(NodeId, String)> {
    let dir = |member: usize| match spec.is_dledger() {
        true => model::dledger::store::data_dir(&dledger_config(spec, member).store_dir),
        false => model::broker::store::commit_log::DIR.to_string(),
    };
    (spec.nodes.iter().enumerate())
        .map(|(member, node)| (*node, dir(member)))
        .collect()
}

/// The fault plan of one seed.
pub fn plan(scenario: &Scenario, seed: u64) -> Plan {
    plan_and_draws(scenario, seed).0
}

/// What each fault of a seed drew (the file's faults, then the swarm's), in order.
pub fn fault_draws(scenario: &Scenario, seed: u64) -> Vec<FaultDraw> {
    plan_and_draws(scenario, seed).1
}

fn plan_and_draws(scenario: &Scenario, seed: u64) -> (Plan, Vec<FaultDraw>) {
    let mut stream = Stream::new(seed, "faults");
    let mut draws = Vec::new();
    let (mut run_actions, mut drain_actions) = (Vec::new(), Vec::new());
    let mut never_return = Vec::new();
    let drawn = crate::swarm::draw(scenario, seed);
    for fault in scenario.faults.iter().chain(&drawn) {
        let start = stream.between(fault.at.min.0, fault.at.max.0);
        let at_ms = fault.origin_ms(scenario.duration_ms) + start;
        let actions = match fault.phase {
            FaultPhase::Run => &mut run_actions,
            FaultPhase::Drain => &mut drain_actions,
        };
        if !fault.aims.is_empty() {
            let fault = Box::new(fault.clone());
            let action = crate::runtime::Action::Aimed(crate::runtime::Aimed { fault, seed });
            let at = Time::from_ms(at_ms);
            actions.push(crate::runtime::Timed { at, action });
            draws.push(FaultDraw {
                start_ms: start,
                node: None,
            });
            continue;
        }
        let mut planning = crate::fault::Planning {
            fault,
            at: Time::from_ms(at_ms),
            end: fault.lasts_ms.map(|lasts| Time::from_ms(at_ms + lasts)),
            stream: &mut stream,
            actions,
            never_return: &mut never_return,
            node: None,
        };
        crate::fault::plan(&mut planning);
        let node = planning.node;
        draws.push(FaultDraw {
            start_ms: start,
            node,
        });
    }
    let plan = Plan {
        actions: run_actions,
        drain_actions,
        duration: Time::from_ms(scenario.duration_ms),
        never_return,
        drain_timeout_ms: scenario.drain_timeout_ms,
        read_back_timeout_ms: read_back_timeout_ms(scenario.drain_timeout_ms),
        time_budget: Time::from_ms(scenario.budget.simulated_ms),
    };
    (plan, draws)
}

/// The drain ends when every producer finished, their delayed messages fell due (when that
/// fits the drain timeout: otherwise they are pending at the read-back) and every broadcasting
/// consumer has nothing left; the auditor then waits for the clustering groups itself, and
/// reads back.
pub struct ScenarioProgress {
    pub producers: usize,
    pub broadcasting: Vec<NodeId>,
    /// The longest delay of a producer's messages, plus the schedule service's tick.
    pub longest_delay_ms: u64,
    /// When the drain times out at the latest (the run phase, then the drain timeout).
    pub drain_deadline: Time,
}

impl ScenarioProgress {
    pub fn of(scenario: &Scenario) -> ScenarioProgress {
        ScenarioProgress {
            producers: scenario
                .nodes
                .iter()
                .filter(|n| matches!(n.role, NodeRole::Producer { .. }))
                .count(),
            broadcasting: scenario
                .consumers
                .iter()
                .filter(|c| c.broadcasting)
                .flat_map(|c| c.nodes.iter().copied())
                .collect(),
            longest_delay_ms: scenario
                .producers
                .iter()
                .filter_map(|p| p.delay_level)
                .map(|level| model::broker::schedule::delay_ms(level) + DELAY_SLACK_MS)
                .max()
                .unwrap_or(0),
            drain_deadline: Time::from_ms(scenario.duration_ms + scenario.drain_timeout_ms),
        }
    }

    /// Whether the producers' delayed messages fell due, or cannot within the drain.
    fn delays_passed(&self, world: &World) -> bool {
        let due = world
            .progress
            .producers_finished_at
            .plus_ms(self.longest_delay_ms);
        due > self.drain_deadline || world.clock() >= due
    }
}

/// The schedule service's tick and a put, after a delay falls due.
const DELAY_SLACK_MS: u64 = 2_000;

impl Progress for ScenarioProgress {
    fn drained(&self, world: &World) -> bool {
        world.progress.finished_producers.len() >= self.producers
            && self.delays_passed(world)
            && self
                .broadcasting
                .iter()
                .all(|node| world.progress.consumer_lag.get(node) == Some(&0))
    }

    fn read_back(&self, world: &World) -> bool {
        world.progress.read_back_done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(group: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\nsummary = \"s\"\nteaches = \"t\"\nduration = \"60s\"\n\
             [cluster]\nname_servers = 1\n\
             [[cluster.broker_group]]\nname = \"broker-a\"\n{group}\n\
             [[topic]]\nname = \"orders\"\n"
        );
        crate::scenario::parse(&text, "t.toml").expect("valid")
    }

    /// Each broker node's config, in the group's order.
    fn configs(scenario: &Scenario) -> Vec<BrokerConfig> {
        let name_servers = [NodeId(0)];
        let group = &scenario.broker_groups[0];
        let config = |node: &NodeId| match scenario.nodes[node.index()].role {
            NodeRole::Broker { group, broker_id } => {
                broker_config(scenario, group, broker_id, &name_servers)
            }
            role => panic!("{role:?} is no broker"),
        };
        group.nodes.iter().map(config).collect()
    }

    #[test]
    fn a_dledger_group_of_three_elects_its_master_among_members_n0_to_n2() {
        let scenario = scenario("replication = \"dledger\"\ndledger_max_wait_ack = \"4s\"");
        let configs = configs(&scenario);
        let ids: Vec<u64> = configs.iter().map(|c| c.broker_id).collect();
        assert_eq!(ids, [1, 2, 3]);
        let roles: Vec<BrokerRole> = configs.iter().map(|c| c.role).collect();
        assert_eq!(roles, [BrokerRole::AsyncMaster; 3]);
        let nodes = &scenario.broker_groups[0].nodes;
        for (k, config) in configs.iter().enumerate() {
            let dledger = config.dledger.as_ref().expect("a DLedger member");
            assert_eq!(config.broker_name, "broker-a");
            assert_eq!(dledger.group, "broker-a");
            assert_eq!(dledger.self_id, format!("n{k}"));
            assert_eq!(dledger.leader_id, None);
            let peers: Vec<(&str, NodeId)> = dledger
                .peers
                .iter()
                .map(|p| (p.id.as_str(), p.node))
                .collect();
            assert_eq!(
                peers,
                [("n0", nodes[0]), ("n1", nodes[1]), ("n2", nodes[2])]
            );
            assert_eq!(dledger.max_wait_ack_ms, 4_000);
            assert_eq!(dledger.data_file_size, config.store.commit_log_file_size);
            let defaults = crate::scenario::schema::dledger_defaults();
            assert_eq!(dledger.flush_interval_ms, defaults.flush_interval_ms);
            assert!(!config.store.transient_store_pool_enable);
        }
    }

    #[test]
    fn a_dledger_group_of_five_names_five_peers() {
        let scenario = scenario("replication = \"dledger\"\npeers = 5");
        let configs = configs(&scenario);
        let ids: Vec<u64> = configs.iter().map(|c| c.broker_id).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        for (k, config) in configs.iter().enumerate() {
            let dledger = config.dledger.as_ref().expect("a DLedger member");
            assert_eq!(dledger.self_id, format!("n{k}"));
            assert_eq!(dledger.peers.len(), 5);
            assert_eq!(dledger.peers[4].node, scenario.broker_groups[0].nodes[4]);
        }
    }

    #[test]
    fn only_a_classic_group_can_be_switched_by_an_operator() {
        let classic = scenario("slaves = 1");
        assert!(configs(&classic).iter().all(|c| c.dledger.is_none()));
        let specs = nodes(&classic, 1, &[]);
        assert!(
            specs
                .iter()
                .filter(|n| n.name.starts_with("broker-a"))
                .all(|n| n.switched.is_some())
        );
        let dledger = scenario("replication = \"dledger\"");
        let specs = nodes(&dledger, 1, &[]);
        let members: Vec<_> = specs
            .iter()
            .filter(|n| n.name.starts_with("broker-a-n"))
            .collect();
        assert_eq!(members.len(), 3);
        assert!(members.iter().all(|n| n.switched.is_none()));
    }
}

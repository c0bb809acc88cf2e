//! The broker (`BrokerController`): registers with the name servers, stores and serves
//! messages, and keeps what consumers need.
//!
//! Map: [`config`] (settings and deliberate defects), [`store`] (CommitLog, ConsumeQueues,
//! flush, recovery); `send` (SEND_MESSAGE), `pull` (PULL_MESSAGE, offset queries), `long_poll`
//! (held pulls), `admin` (heartbeats, consumer lists, offsets, locks, progress), `send_back`
//! (failed messages to retry or dead-letter topics), `schedule` and `delayed` (delayed
//! delivery), `transaction` (half messages, END_TRANSACTION and the check service),
//! `topic_admin` (an operator's UPDATE_AND_CREATE_TOPIC), `consumers`, `offsets`, `locks`,
//! `topics` (the broker's tables).

mod admin;
pub mod config;
mod consumers;
mod delayed;
mod dledger;
pub mod ha;
mod locks;
mod long_poll;
mod offsets;
mod operator_calls;
mod pull;
mod query;
pub mod schedule;
mod send;
mod send_back;
mod send_pool;
mod slave_sync;
pub mod store;
mod topic_admin;
mod topics;
pub mod transaction;

pub use config::{
    BrokerBugs, BrokerConfig, BrokerRole, FlushDiskType, StoreConfig, TransactionConfig,
};

use crate::disk::FlushId;
use crate::ids::{NodeId, RequestId};
use crate::node::{Context, Inbound, Node, RpcError};
use crate::protocol::route::SCHEDULE_TOPIC;
use crate::protocol::{RegisterBroker, Request, Response, ResponseBody, ResponseCode};
use crate::timer::Timer;
use consumers::Consumers;
use locks::QueueLocks;
use long_poll::LongPolling;
use offsets::Offsets;
use schedule::ScheduleOffsets;
use send::WaitingSend;
use std::collections::BTreeMap;
use store::{Arrival, MessageStore, StoreSettings, StoreTimer};
use topics::Topics;

/// The first periodic registration runs this long after start.
const REGISTER_INITIAL_DELAY_MS: u64 = 10_000;
/// `ClientHousekeepingService`: first scan after 10 s, then every 10 s.
const SCAN_CHANNELS_INTERVAL_MS: u64 = 10_000;
/// `ConsumerOffsetManager.persist` first runs this long after start.
const PERSIST_OFFSETS_INITIAL_DELAY_MS: u64 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerTimer {
    /// `registerBrokerAll` to every name server.
    RegisterAll,
    Store(StoreTimer),
    /// The sync flush of a waiting send is overdue.
    FlushTimeout(u64),
    /// A SYNC_MASTER's wait for a slave is overdue.
    ReplicaTimeout(u64),
    /// Replication.
    Ha(ha::HaTimer),
    /// `SlaveSynchronize.syncAll`.
    SlaveSync,
    /// `PullRequestHoldService`'s check of held pulls.
    HoldCheck,
    /// `ClientHousekeepingService`'s scan for silent consumers.
    ScanChannels,
    /// `ConsumerOffsetManager.persist`.
    PersistOffsets,
    /// The delivery task of one delay level (1..=18).
    Schedule(u32),
    /// `ScheduleMessageService.persist`.
    PersistScheduleOffsets,
    /// `TransactionalMessageCheckService`'s round.
    TransactionCheck,
    /// `DLedgerRoleChangeHandler`: a new leader looks again whether its log is committed and
    /// dispatched, to become the master.
    DLedgerTakeOver,
    /// `BrokerFastFailure`'s round (every 10 ms while sends wait).
    FastFailure,
}

#[derive(Clone, Debug)]
enum Pending {
    Register,
    SlaveSync,
    /// A call to a client on an operator's behalf, whose answer goes back to the operator.
    CallClient(Inbound),
}

/// A broker process: its configuration until it starts, then its running state.
pub struct Broker {
    phase: Phase,
}

enum Phase {
    Stopped(Box<BrokerConfig>),
    Running(Box<Running>),
}

/// A started broker: its store (loaded at start, so always there), its tables and services.
pub(in crate::broker) struct Running {
    config: BrokerConfig,
    pending: BTreeMap<RequestId, Pending>,
    /// The master's address as the name servers last told this slave.
    master_addr: Option<NodeId>,
    store: MessageStore,
    waiting_sends: BTreeMap<u64, WaitingSend>,
    send_pool: send_pool::SendPool,
    next_wait: u64,
    topics: Topics,
    consumers: Consumers,
    producers: transaction::Producers,
    check_loop: transaction::CheckLoop,
    offsets: Offsets,
    holds: LongPolling,
    locks: QueueLocks,
    delays: delayed::DelayService,
    ha_master: ha::master::HaMaster,
    ha_slave: ha::slave::HaSlave,
    /// The DLedger term this broker leads in while it waits to become the master.
    leading_term: Option<u64>,
    loops: Loops,
}

/// Periodic tasks whose timer is set, so that a role change starts each at most once.
#[derive(Default)]
struct Loops {
    slave_sync: bool,
    delay_persistence: bool,
}

impl Broker {
    pub fn new(config: BrokerConfig) -> Broker {
        Broker {
            phase: Phase::Stopped(Box::new(config)),
        }
    }

    pub fn config(&self) -> &BrokerConfig {
        match &self.phase {
            Phase::Stopped(config) => config,
            Phase::Running(running) => &running.config,
        }
    }

    /// The store, once the broker has started.
    pub fn store(&self) -> Option<&MessageStore> {
        match &self.phase {
            Phase::Stopped(_) => None,
            Phase::Running(running) => Some(&running.store),
        }
    }

    pub(in crate::broker) fn running(&mut self) -> Option<&mut Running> {
        match &mut self.phase {
            Phase::Stopped(_) => None,
            Phase::Running(running) => Some(running),
        }
    }
}

impl Running {
    fn register_all(&mut self, ctx: &mut Context<'_>) {
        register_all(ctx, &self.config, &self.topics, &mut self.pending);
    }

    /// `registerBrokerAll` with `oneway` (as a role change registers): no answer comes back.
    fn register_all_oneway(&mut self, ctx: &mut Context<'_>) {
        for name_server in &self.config.name_servers {
            let request = registration(ctx, &self.config, &self.topics);
            ctx.oneway(*name_server, request);
        }
    }

    /// New messages were dispatched: answer held pulls, wake delay levels, and wake the
    /// replication loops.
    fn on_arrivals(&mut self, ctx: &mut Context<'_>, arrivals: Vec<Arrival>) {
        if !arrivals.is_empty() {
            self.ha_data_appended(ctx, false);
        }
        for arrival in arrivals {
            let queue_max = (self.store).max_offset_in_queue(&arrival.topic, arrival.queue_id);
            crate::invariant!(
                arrival.max_offset <= queue_max,
                "long-poll-arrival-within-queue",
                "{}:{} arrived at {} but the queue ends at {queue_max}",
                arrival.topic,
                arrival.queue_id,
                arrival.max_offset
            );
            if arrival.topic == SCHEDULE_TOPIC && self.config.role.is_master() {
                self.delays.arrival(ctx, arrival.queue_id);
            }
            if arrival.topic == transaction::HALF_TOPIC {
                self.arm_transaction_check(ctx);
            }
            for held in self
                .holds
                .arrived(&arrival.topic, arrival.queue_id, arrival.max_offset)
            {
                self.handle_pull(ctx, held.inbound, held.pull, false);
            }
        }
    }
}

/// `registerBrokerAll`: the broker's identity and topics to every name server.
fn register_all(
    ctx: &mut Context<'_>,
    config: &BrokerConfig,
    topics: &Topics,
    pending: &mut BTreeMap<RequestId, Pending>,
) {
    for name_server in &config.name_servers {
        let request = registration(ctx, config, topics);
        let id = ctx.request(*name_server, request, config.register_broker_timeout_ms);
        pending.insert(id, Pending::Register);
    }
}

/// REGISTER_BROKER: the broker's identity and its topics.
fn registration(ctx: &Context<'_>, config: &BrokerConfig, topics: &Topics) -> Request {
    Request::RegisterBroker(RegisterBroker {
        cluster: config.cluster.clone(),
        broker_name: config.broker_name.clone(),
        broker_id: config.broker_id,
        ha_addr: ctx.me(),
        topics: topics.all(),
    })
}

fn timer(timer: BrokerTimer) -> Timer {
    Timer::Broker(timer)
}

impl Running {
    /// `BrokerController.start`: the store loads (recovering after a crash), the tables are
    /// read back, the broker registers and its services start.
    pub(in crate::broker) fn start(ctx: &mut Context<'_>, config: BrokerConfig) -> Running {
        let settings = StoreSettings {
            broker_name: config.broker_name.clone(),
            store_host: ctx.me(),
            config: config.store.clone(),
            flush_disk_type: config.flush_disk_type,
            is_slave: !config.role.is_master(),
            bugs: config.bugs.clone(),
            dledger: config.dledger.clone(),
        };
        let store = MessageStore::open(ctx, settings)
            .unwrap_or_else(|err| panic!("{}: the store does not load: {err}", config.broker_name));
        let offsets = Offsets::load(ctx.disk());
        let topics = Topics::load(&config.topics, ctx.disk());
        let schedule = ScheduleOffsets::load(ctx.disk());
        let mut running = Running {
            config,
            pending: BTreeMap::new(),
            master_addr: None,
            store,
            waiting_sends: BTreeMap::new(),
            send_pool: Default::default(),
            next_wait: 0,
            topics,
            consumers: Consumers::default(),
            producers: transaction::Producers::default(),
            check_loop: transaction::CheckLoop::new(ctx.now()),
            offsets,
            holds: LongPolling::default(),
            locks: QueueLocks::default(),
            delays: delayed::DelayService::new(schedule),
            ha_master: ha::master::HaMaster::default(),
            ha_slave: ha::slave::HaSlave::default(),
            leading_term: None,
            loops: Loops::default(),
        };
        running.start_services(ctx);
        running
    }

    /// The broker's own services. A DLedger broker neither registers nor starts its master's
    /// or slave's services here (`BrokerController.start`, `DefaultMessageStore.start`): its
    /// member's first role change does.
    fn start_services(&mut self, ctx: &mut Context<'_>) {
        let dledger = self.is_dledger();
        if !dledger {
            self.register_all(ctx);
        }
        ctx.set_timer(REGISTER_INITIAL_DELAY_MS, timer(BrokerTimer::RegisterAll));
        ctx.set_timer(long_poll::CHECK_INTERVAL_MS, timer(BrokerTimer::HoldCheck));
        ctx.set_timer(SCAN_CHANNELS_INTERVAL_MS, timer(BrokerTimer::ScanChannels));
        ctx.set_timer(
            PERSIST_OFFSETS_INITIAL_DELAY_MS,
            timer(BrokerTimer::PersistOffsets),
        );
        if dledger {
            let progress = self.store.dledger().map(|m| m.take_progress());
            self.on_dledger_progress(ctx, progress.unwrap_or_default());
        } else if self.config.role.is_master() {
            self.start_delay_persistence(ctx);
            self.delays.start(ctx, &self.store);
            self.arm_transaction_check(ctx);
        } else {
            self.start_ha_slave(ctx);
            self.start_slave_sync(ctx);
        }
    }

    /// `ScheduleMessageService`'s persist task, every 10 s from its first start.
    fn start_delay_persistence(&mut self, ctx: &mut Context<'_>) {
        if !std::mem::replace(&mut self.loops.delay_persistence, true) {
            let interval = schedule::PERSIST_INTERVAL_MS;
            ctx.set_timer(interval, timer(BrokerTimer::PersistScheduleOffsets));
        }
    }

    /// SlaveSynchronize's loop: the first round 3 s from now, unless the loop runs already.
    fn start_slave_sync(&mut self, ctx: &mut Context<'_>) {
        if !std::mem::replace(&mut self.loops.slave_sync, true) {
            let delay = slave_sync::INITIAL_DELAY_MS;
            ctx.set_timer(delay, timer(BrokerTimer::SlaveSync));
        }
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request) {
        match request {
            Request::SendMessage(send) => self.accept_send(ctx, inbound, send),
            Request::PullMessage(pull) => self.handle_pull(ctx, inbound, pull, true),
            Request::GetMaxOffset { .. }
            | Request::GetMinOffset { .. }
            | Request::SearchOffsetByTimestamp { .. } => {
                self.handle_offset_query(ctx, inbound, request)
            }
            Request::HeartBeat(heartbeat) => self.handle_heartbeat(ctx, inbound, heartbeat),
            Request::UnregisterClient { .. } => {
                let changed = self.consumers.remove_channel(inbound.from);
                self.notify_changed(ctx, &changed);
                ctx.respond(inbound, Response::success(ResponseBody::Empty));
            }
            Request::GetConsumerListByGroup { group } => {
                self.handle_consumer_list(ctx, inbound, &group)
            }
            Request::UpdateConsumerOffset(update) => {
                self.handle_update_offset(ctx, inbound, update)
            }
            Request::QueryConsumerOffset {
                group,
                topic,
                queue_id,
            } => self.handle_query_offset(ctx, inbound, &group, &topic, queue_id),
            Request::ConsumerSendMsgBack(back) => self.handle_send_back(ctx, inbound, back),
            Request::LockBatchMq {
                group,
                client_id,
                queues,
            } => self.handle_lock(ctx, inbound, &group, &client_id, &queues),
            Request::UnlockBatchMq {
                group,
                client_id,
                queues,
            } => self.handle_unlock(ctx, inbound, &group, &client_id, &queues),
            Request::GetConsumeStats { group, topic } => {
                self.handle_consume_stats(ctx, inbound, &group, &topic)
            }
            Request::GetBrokerRuntimeInfo => self.handle_runtime_info(ctx, inbound),
            Request::QueryMessage { .. } | Request::ViewMessageById { .. } => {
                self.handle_lookup(ctx, inbound, request)
            }
            Request::EndTransaction(end) => self.handle_end_transaction(ctx, end),
            Request::InvokeBrokerToResetOffset { .. } | Request::ConsumeMessageDirectly(_) => {
                self.handle_operator_call(ctx, inbound, request)
            }
            Request::UpdateAndCreateTopic(config) => self.handle_update_topic(ctx, inbound, config),
            Request::GetAllTopicConfig
            | Request::GetAllConsumerOffset
            | Request::GetAllDelayOffset => self.handle_sync_request(ctx, inbound, &request),
            Request::HaConnect { session } => self.on_ha_connect(ctx, inbound.from, session),
            Request::HaReport {
                session,
                max_offset,
            } => self.on_ha_report(ctx, inbound.from, session, max_offset),
            Request::HaTransfer {
                session,
                seq,
                offset,
                data,
            } => self.on_ha_transfer(ctx, inbound.from, (session, seq), offset, &data),
            Request::DLedgerPush(_) | Request::DLedgerVote(_) | Request::DLedgerHeartBeat(_) => {
                self.on_dledger_request(ctx, inbound, request)
            }
            _ => ctx.not_supported(inbound),
        }
    }

    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        if self
            .store
            .dledger()
            .is_some_and(|member| member.is_waiting_for(id))
        {
            self.on_dledger_response(ctx, id, result);
            return;
        }
        match (self.pending.remove(&id), result) {
            (
                Some(Pending::Register),
                Ok(Response {
                    body: ResponseBody::Register(result),
                    ..
                }),
            ) if result.master_addr.is_some() => self.master_addr = result.master_addr,
            (Some(Pending::SlaveSync), Ok(response)) if response.code == ResponseCode::Success => {
                self.on_slave_sync(ctx, response.body)
            }
            (Some(Pending::CallClient(inbound)), result) => {
                self.relay_client_answer(ctx, inbound, result)
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer_fired: Timer) {
        let fired = match timer_fired {
            Timer::Broker(fired) => fired,
            Timer::DLedger(fired) => return self.on_dledger_timer(ctx, fired),
            _ => return,
        };
        match fired {
            BrokerTimer::RegisterAll => {
                self.register_all(ctx);
                ctx.set_timer(
                    self.config.register_name_server_period_ms,
                    timer(BrokerTimer::RegisterAll),
                );
            }
            BrokerTimer::Store(store_timer) => {
                let arrivals = self.store.on_timer(ctx, store_timer);
                self.on_arrivals(ctx, arrivals);
            }
            BrokerTimer::FlushTimeout(id) => self.flush_timed_out(ctx, id),
            BrokerTimer::ReplicaTimeout(id) => self.replica_timed_out(ctx, id),
            BrokerTimer::Ha(ha_timer) => self.on_ha_timer(ctx, ha_timer),
            BrokerTimer::SlaveSync => self.slave_synchronize(ctx),
            BrokerTimer::HoldCheck => {
                let now = ctx.now();
                let store = &self.store;
                let due =
                    (self.holds).due(now, |topic, queue| store.max_offset_in_queue(topic, queue));
                for held in due {
                    self.handle_pull(ctx, held.inbound, held.pull, false);
                }
                ctx.set_timer(long_poll::CHECK_INTERVAL_MS, timer(BrokerTimer::HoldCheck));
            }
            BrokerTimer::ScanChannels => {
                for channel in self.producers.expire(ctx.now()) {
                    ctx.close_connection(channel);
                }
                for channel in self.consumers.expired(ctx.now()) {
                    let changed = self.consumers.remove_channel(channel);
                    ctx.close_connection(channel);
                    self.notify_changed(ctx, &changed);
                }
                ctx.set_timer(SCAN_CHANNELS_INTERVAL_MS, timer(BrokerTimer::ScanChannels));
            }
            BrokerTimer::PersistOffsets => {
                self.offsets.persist(ctx.disk());
                let interval = self.config.store.flush_consumer_offset_interval_ms;
                ctx.set_timer(interval, timer(BrokerTimer::PersistOffsets));
            }
            BrokerTimer::Schedule(level) if self.config.role.is_master() => {
                self.delays.deliver_due(ctx, &mut self.store, level)
            }
            BrokerTimer::Schedule(_) => {} // Set before a change to slave.
            BrokerTimer::TransactionCheck => self.transaction_check(ctx),
            BrokerTimer::DLedgerTakeOver => self.take_over_when_caught_up(ctx),
            BrokerTimer::FastFailure => self.fast_failure(ctx),
            BrokerTimer::PersistScheduleOffsets => {
                self.delays.offsets.persist(ctx.disk());
                ctx.set_timer(
                    schedule::PERSIST_INTERVAL_MS,
                    timer(BrokerTimer::PersistScheduleOffsets),
                );
            }
        }
    }

    fn on_flushed(&mut self, ctx: &mut Context<'_>, flush: FlushId) {
        if self.store.on_flushed(ctx, flush) {
            self.release_flushed_sends(ctx);
        }
        self.release_throttled_put(ctx);
    }

    /// `BrokerController.shutdown`: the store closes cleanly and the offset tables are written.
    fn on_shutdown(&mut self, ctx: &mut Context<'_>) {
        self.store.shutdown(ctx.disk());
        self.offsets.persist(ctx.disk());
        self.delays.offsets.persist(ctx.disk());
    }

    fn on_connection_closed(&mut self, ctx: &mut Context<'_>, peer: NodeId) {
        self.ha_connection_closed(peer);
        self.ha_slave_connection_closed(peer);
        self.producers.remove_channel(peer);
        let changed = self.consumers.remove_channel(peer);
        self.notify_changed(ctx, &changed);
    }
}

impl Node for Broker {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        if let Phase::Stopped(config) = &self.phase {
            let running = Running::start(ctx, (**config).clone());
            self.phase = Phase::Running(Box::new(running));
        }
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request) {
        match self.running() {
            Some(running) => running.on_request(ctx, inbound, request),
            None => ctx.not_supported(inbound),
        }
    }

    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        if let Some(running) = self.running() {
            running.on_response(ctx, id, result);
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        if let Some(running) = self.running() {
            running.on_timer(ctx, timer);
        }
    }

    fn on_flushed(&mut self, ctx: &mut Context<'_>, flush: FlushId) {
        if let Some(running) = self.running() {
            running.on_flushed(ctx, flush);
        }
    }

    fn on_shutdown(&mut self, ctx: &mut Context<'_>) {
        if let Some(running) = self.running() {
            running.on_shutdown(ctx);
        }
    }

    fn on_connection_closed(&mut self, ctx: &mut Context<'_>, peer: NodeId) {
        if let Some(running) = self.running() {
            running.on_connection_closed(ctx, peer);
        }
    }
}

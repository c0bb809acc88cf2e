//! The consumers: the push consumer (`DefaultMQPushConsumerImpl` with its `RebalanceImpl`,
//! `PullAPIWrapper`, consume services and `OffsetStore`) and the lite pull consumer
//! (`DefaultLitePullConsumerImpl`), which share rebalancing, pulling and offsets.
//!
//! A push consumer pulls (long polling), hands messages to the application's listener on a
//! pool of consume threads, commits the smallest unconsumed offset of each queue, and sends
//! that to the broker every 5 s. A lite pull consumer pulls the same way, and the application
//! polls the pulled batches one at a time. Rebalancing every 20 s, or when a broker says the group changed, decides which
//! queues it owns; a queue moved away is dropped, and whatever was consumed since the last
//! commit will be consumed again by its new owner: the duplicate window.
//!
//! Map: `rebalance` (queue ownership, locks), `pull` (pull requests and their answers),
//! `consume` (the concurrent, orderly and polling consume services, retries), `process_queue`,
//! `offset_store`, [`allocate`] (the allocation strategies).

pub mod allocate;
mod consume;
mod offset_store;
mod operator;
mod process_queue;
mod pull;
mod rebalance;

pub use allocate::Strategy;

use super::producer::{Producer, ProducerConfig};
use super::{ClientCore, Pending};
use crate::broker::store::record::StoredMessage;
use crate::event::Event;
use crate::filter::SubscriptionData;
use crate::ids::NodeId;
use crate::node::Context;
use crate::protocol::route::retry_topic;
use crate::protocol::{ConsumerData, HeartBeat, MessageQueue, QueueOffset, Request};
use crate::timer::Timer;
use consume::ConsumeService;
use offset_store::OffsetStore;
use process_queue::ProcessQueue;
use std::collections::{BTreeMap, BTreeSet};

/// `DefaultMQConsumer` settings; defaults as RocketMQ 4.9.x.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    pub group: String,
    pub topic: String,
    /// The subscription expression (`subscribe(topic, "TagA || TagB")`); `*` takes all.
    pub subscription: String,
    /// `MessageModel.BROADCASTING` (every consumer gets every message) or clustering.
    pub broadcasting: bool,
    /// How messages reach the application.
    pub mode: ConsumeMode,
    pub strategy: Strategy,
    /// `CONSUME_FROM_FIRST_OFFSET` rather than the default `CONSUME_FROM_LAST_OFFSET`.
    pub consume_from_first_offset: bool,
    /// `CONSUME_FROM_TIMESTAMP` at this wall-clock time (`consumeTimestamp`).
    pub consume_timestamp_ms: Option<u64>,
    /// `pullBatchSize`.
    pub pull_batch_size: u32,
    /// `consumeMessageBatchMaxSize`.
    pub consume_message_batch_max_size: usize,
    /// `consumeThreadMax`.
    pub consume_thread_max: usize,
    /// `maxReconsumeTimes` (-1 in RocketMQ): 16 for concurrent, unlimited for orderly.
    pub max_reconsume_times: Option<u32>,
    /// `suspendCurrentQueueTimeMillis`.
    pub suspend_current_queue_time_ms: u64,
    /// `pullThresholdForQueue`.
    pub pull_threshold_for_queue: usize,
    /// `consumeConcurrentlyMaxSpan`.
    pub consume_concurrently_max_span: u64,
    pub bugs: ConsumerBugs,
}

impl ConsumerConfig {
    pub fn new(group: &str, topic: &str) -> ConsumerConfig {
        ConsumerConfig {
            group: group.to_string(),
            topic: topic.to_string(),
            subscription: crate::filter::SUB_ALL.to_string(),
            broadcasting: false,
            mode: ConsumeMode::Concurrently,
            strategy: Strategy::Averagely,
            consume_from_first_offset: false,
            consume_timestamp_ms: None,
            pull_batch_size: 32,
            consume_message_batch_max_size: 1,
            consume_thread_max: 20,
            max_reconsume_times: None,
            suspend_current_queue_time_ms: 1_000,
            pull_threshold_for_queue: 1_000,
            consume_concurrently_max_span: 2_000,
            bugs: ConsumerBugs::default(),
        }
    }

    /// A lite pull consumer's defaults: 10 messages a pull, one application thread polling.
    pub fn lite_pull(group: &str, topic: &str) -> ConsumerConfig {
        ConsumerConfig {
            mode: ConsumeMode::LitePull,
            pull_batch_size: 10,
            consume_thread_max: 1,
            ..ConsumerConfig::new(group, topic)
        }
    }

    fn max_reconsume_times(&self) -> u32 {
        self.max_reconsume_times
            .unwrap_or(if self.orderly() { u32::MAX } else { 16 })
    }

    pub fn orderly(&self) -> bool {
        self.mode == ConsumeMode::Orderly
    }

    /// Orderly in clustering: queues are locked on their broker before they are consumed.
    fn locks_queues(&self) -> bool {
        self.orderly() && !self.broadcasting && !self.bugs.orderly_without_lock
    }
}

/// How messages reach the application.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConsumeMode {
    /// Push, `MessageListenerConcurrently`: a pool of threads; failures retried via the broker.
    Concurrently,
    /// Push, `MessageListenerOrderly`: queue locks, one thread per queue, retried in place.
    Orderly,
    /// `DefaultLitePullConsumer`: the application polls one pulled batch at a time; the offset
    /// moves when a batch is polled and is committed at the next poll, 5 s apart at most.
    LitePull,
}

/// Deliberate defects, switched on only to prove that the checker sees what they break.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerBugs {
    /// The offset moves past a batch before the listener has run.
    pub commit_before_consume: bool,
    /// A dropped process queue's messages are still handed to the listener.
    pub consume_dropped_queue: bool,
    /// After PULL_OFFSET_MOVED the offset goes back to 0 (as up to 4.9.3 when the queue's min
    /// offset is 0), not to the broker's corrected offset.
    pub reset_offset_to_zero: bool,
    /// After PULL_OFFSET_MOVED the fix commits the offset the pull asked for, not the
    /// broker's correction: the next take asks for the same deleted messages again.
    pub keep_offset_after_moved: bool,
    /// A CONSUMER_SEND_MSG_BACK that fails is taken as done: no copy sent by the client, no
    /// local re-consumption (breaks at-least-once with retries).
    pub drop_failed_send_back: bool,
    /// The offset passes messages whose send-back (and the client's own retry send) failed;
    /// they are still consumed again locally, if the process keeps the queue that long.
    pub ack_failed_send_back: bool,
    /// An orderly consumer takes and consumes queues without the broker lock.
    pub orderly_without_lock: bool,
    /// A rebalance keeps consuming the queues no longer allocated to it (it never drops
    /// their process queues, so it never reports them dropped either).
    pub keep_unallocated_queues: bool,
    /// NOTIFY_CONSUMER_IDS_CHANGED is ignored and the RebalanceService waits 60 s between
    /// rebalances, not 20 s: a queue moved to a new consumer stays with its old one as long.
    pub slow_rebalance: bool,
    /// RESET_CONSUMER_CLIENT_OFFSET is ignored: an operator's reset by time never moves the
    /// group's offsets, though the broker answered it with the new ones.
    pub ignore_reset_offset: bool,
    /// `processPullResult` hands over what the broker sent without comparing tag strings: a
    /// tag whose hash code collides with a subscribed one reaches the listener.
    pub skip_client_tag_filter: bool,
    /// A consumed batch commits one past the last message pulled, not the smallest offset
    /// still in the process queue: a message still in the listener is passed.
    pub commit_past_pending: bool,
}

/// What the application's listener did with a batch.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ListenerAnswer {
    /// CONSUME_SUCCESS / SUCCESS, or RECONSUME_LATER / SUSPEND_CURRENT_QUEUE_A_MOMENT.
    pub success: bool,
    /// How long consuming took.
    pub duration_ms: u64,
    /// The process crashes in the middle of the batch (and restarts after this long).
    pub crash: Option<u64>,
}

/// The application's `MessageListener`.
pub trait MessageListener {
    fn consume(&mut self, ctx: &mut Context<'_>, msgs: &[StoredMessage]) -> ListenerAnswer;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerTimer {
    /// `RebalanceService`, every 20 s.
    Rebalance,
    /// `sendHeartbeatToAllBroker`, every 30 s.
    Heartbeat,
    /// `persistAllConsumerOffset`, every 5 s.
    PersistOffsets,
    /// `lockMQPeriodically` (orderly), every 20 s.
    LockAll,
    /// `executePullRequestLater`.
    Pull { queue: MessageQueue, pq: u64 },
    /// A consume request's listener returns.
    ConsumeDone { request: u64 },
    /// A consume request waits its turn again (`submitConsumeRequestLater`).
    Resubmit { request: u64 },
    /// Lite pull: a `poll` that waited `pollTimeoutMillis` for a batch returns empty.
    PollTimeout { generation: u64 },
    /// An operator's offset reset moves the queues it dropped, 10 s after it came.
    ApplyReset { reset: u64 },
    /// The listener returns from a message an operator sent directly.
    DirectDone { call: u64 },
    /// OFFSET_ILLEGAL: move to the corrected offset and drop the queue, 10 s later.
    FixOffset {
        queue: MessageQueue,
        pq: u64,
        offset: u64,
    },
}

/// Why a consumer's request is in flight.
#[derive(Clone, Debug)]
pub enum ConsumerPending {
    ConsumerIds {
        topic: String,
    },
    QueryOffset {
        queue: MessageQueue,
    },
    MaxOffset {
        queue: MessageQueue,
    },
    Pull {
        queue: MessageQueue,
        pq: u64,
    },
    SendBack {
        request: u64,
        index: usize,
    },
    Lock {
        queues: Vec<MessageQueue>,
        assign: bool,
    },
    Heartbeat,
}

const REBALANCE_INTERVAL_MS: u64 = 20_000;
const LOCK_INTERVAL_MS: u64 = 20_000;

pub struct Consumer {
    pub config: ConsumerConfig,
    /// This client's id, as consumer lists and events name it.
    client_id: String,
    listener: Box<dyn MessageListener>,
    /// `topicSubscribeInfoTable`: readable queues per subscribed topic.
    subscribe_info: BTreeMap<String, Vec<MessageQueue>>,
    /// The latest allocation per topic.
    allocation: BTreeMap<String, BTreeSet<MessageQueue>>,
    /// `processQueueTable`.
    queues: BTreeMap<MessageQueue, ProcessQueue>,
    /// Queues being taken (offset query or lock in flight).
    assigning: BTreeSet<MessageQueue>,
    offsets: OffsetStore,
    /// `pullFromWhichNodeTable`: the broker id each queue's last answer suggested.
    suggested: BTreeMap<MessageQueue, u64>,
    consume: ConsumeService,
    /// The client's own producer, for retries the broker could not take
    /// (`CLIENT_INNER_PRODUCER`).
    pub inner: Producer,
    next_pq: u64,
    started_rebalancing: bool,
    /// Broadcasting: whether the last lag report said "behind".
    reported_behind: Option<bool>,
    /// `subscriptionInner`: per topic subscribed (the `%RETRY%` topic takes everything).
    subscriptions: BTreeMap<String, SubscriptionData>,
    /// `suspend`ed by this many offset resets waiting to be applied: pulls wait meanwhile.
    paused: u32,
    /// What operators asked of this consumer and is not done yet (`operator`).
    operator: operator::OperatorCalls,
}

impl Consumer {
    pub fn new(config: ConsumerConfig, listener: Box<dyn MessageListener>) -> Consumer {
        let mut inner = ProducerConfig::new("CLIENT_INNER_PRODUCER");
        inner.record_operations = false;
        Consumer {
            client_id: String::new(),
            consume: ConsumeService::new(config.consume_thread_max),
            config,
            listener,
            subscribe_info: BTreeMap::new(),
            allocation: BTreeMap::new(),
            queues: BTreeMap::new(),
            assigning: BTreeSet::new(),
            offsets: OffsetStore::default(),
            suggested: BTreeMap::new(),
            inner: Producer::new(inner),
            next_pq: 0,
            started_rebalancing: false,
            reported_behind: None,
            subscriptions: BTreeMap::new(),
            paused: 0,
            operator: operator::OperatorCalls::default(),
        }
    }

    /// The topics this consumer reads: its own, and in clustering its group's retry topic.
    pub fn topics(&self) -> Vec<String> {
        let mut topics = vec![self.config.topic.clone()];
        if !self.config.broadcasting {
            topics.push(retry_topic(&self.config.group));
        }
        topics
    }

    pub fn start(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        self.client_id = core.config.client_id.clone();
        // `subscribe` and `copySubscription`: the version is the time they were made.
        let version = ctx.wall_clock_ms();
        self.subscriptions.clear();
        for topic in self.topics() {
            let expression = if topic == self.config.topic {
                self.config.subscription.as_str()
            } else {
                crate::filter::SUB_ALL
            };
            let data = SubscriptionData::build(&topic, expression, version);
            self.subscriptions.insert(topic, data);
        }
        if self.config.broadcasting {
            self.offsets = OffsetStore::load(ctx.disk(), &self.config.group);
        }
        for topic in self.topics() {
            core.query_route(ctx, &topic);
        }
        ctx.set_timer(1_000, consumer_timer(ConsumerTimer::Heartbeat));
        ctx.set_timer(10_000, consumer_timer(ConsumerTimer::PersistOffsets));
        ctx.set_timer(
            self.rebalance_interval_ms(),
            consumer_timer(ConsumerTimer::Rebalance),
        );
        if self.config.locks_queues() {
            ctx.set_timer(1_000, consumer_timer(ConsumerTimer::LockAll));
        }
        if self.config.mode == ConsumeMode::LitePull {
            self.poll_again(ctx, core);
        }
    }

    /// A route changed: keep `topicSubscribeInfoTable` current. The first route known starts
    /// rebalancing (RocketMQ fetches it before `rebalanceImmediately` at start).
    pub fn route_changed(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore, topic: &str) {
        self.inner.update_publish_info(ctx, core, topic);
        if !self.topics().iter().any(|t| t == topic) {
            return;
        }
        let Some(route) = core.routes.route(topic) else {
            return;
        };
        let mut queues = Vec::new();
        for qd in &route.queue_datas {
            if crate::protocol::route::perm::is_readable(qd.perm) {
                for queue_id in 0..qd.read_queue_nums {
                    queues.push(MessageQueue {
                        topic: topic.to_string(),
                        broker_name: qd.broker_name.clone(),
                        queue_id,
                    });
                }
            }
        }
        queues.sort();
        crate::invariant!(
            queues.windows(2).all(|w| w[0] < w[1]),
            "subscribe-info-queues-unique",
            "{topic}: the route lists a queue twice among {}",
            queues.len()
        );
        self.subscribe_info.insert(topic.to_string(), queues);
        if !self.started_rebalancing {
            self.started_rebalancing = true;
            self.send_heartbeats(ctx, core);
            self.do_rebalance(ctx, core);
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore, timer: ConsumerTimer) {
        match timer {
            ConsumerTimer::Rebalance => {
                self.do_rebalance(ctx, core);
                ctx.set_timer(
                    self.rebalance_interval_ms(),
                    consumer_timer(ConsumerTimer::Rebalance),
                );
            }
            ConsumerTimer::Heartbeat => {
                self.send_heartbeats(ctx, core);
                let interval = core.config.heartbeat_broker_interval_ms;
                ctx.set_timer(interval, consumer_timer(ConsumerTimer::Heartbeat));
            }
            ConsumerTimer::PersistOffsets => {
                self.persist_offsets(ctx, core);
                let interval = core.config.persist_consumer_offset_interval_ms;
                ctx.set_timer(interval, consumer_timer(ConsumerTimer::PersistOffsets));
            }
            ConsumerTimer::LockAll => {
                self.lock_all(ctx, core);
                ctx.set_timer(LOCK_INTERVAL_MS, consumer_timer(ConsumerTimer::LockAll));
            }
            ConsumerTimer::Pull { queue, pq } => self.pull(ctx, core, &queue, pq),
            ConsumerTimer::ConsumeDone { request } => self.consume_done(ctx, core, request),
            ConsumerTimer::Resubmit { request } => self.resubmit(ctx, core, request),
            ConsumerTimer::PollTimeout { generation } => self.poll_timeout(ctx, core, generation),
            ConsumerTimer::ApplyReset { reset } => self.apply_reset(ctx, core, reset),
            ConsumerTimer::DirectDone { call } => self.direct_done(ctx, call),
            ConsumerTimer::FixOffset { queue, pq, offset } => {
                self.fix_offset(ctx, core, &queue, pq, offset)
            }
        }
    }

    /// The answer to one of the consumer's requests.
    pub fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        pending: ConsumerPending,
        result: Result<crate::protocol::Response, crate::node::RpcError>,
    ) {
        match pending {
            ConsumerPending::ConsumerIds { topic } => {
                self.on_consumer_ids(ctx, core, &topic, result)
            }
            ConsumerPending::QueryOffset { queue } => {
                self.on_query_offset(ctx, core, queue, result)
            }
            ConsumerPending::MaxOffset { queue } => self.on_max_offset(ctx, core, queue, result),
            ConsumerPending::Pull { queue, pq } => self.on_pull(ctx, core, queue, pq, result),
            ConsumerPending::SendBack { request, index } => {
                self.on_send_back(ctx, core, request, index, result)
            }
            ConsumerPending::Lock { queues, assign } => {
                self.on_lock(ctx, core, queues, assign, result)
            }
            ConsumerPending::Heartbeat => {}
        }
    }

    /// `shutdown`: offsets are persisted, and an orderly consumer unlocks its queues
    /// (`RebalanceImpl.destroy`, `unlockAll`). A lite pull consumer persists what its last
    /// auto commit took, not what it polled since.
    pub fn shutdown(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        self.persist_offsets(ctx, core);
        if self.config.locks_queues() {
            self.unlock_all(ctx, core);
        }
    }

    /// `NOTIFY_CONSUMER_IDS_CHANGED`: rebalance now.
    pub fn on_ids_changed(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        if !self.config.bugs.slow_rebalance {
            self.do_rebalance(ctx, core);
        }
    }

    /// The RebalanceService's wait between rebalances.
    fn rebalance_interval_ms(&self) -> u64 {
        if self.config.bugs.slow_rebalance {
            3 * REBALANCE_INTERVAL_MS
        } else {
            REBALANCE_INTERVAL_MS
        }
    }

    /// `sendHeartbeatToAllBroker`: a consumer heartbeats every broker of its routes.
    fn send_heartbeats(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        let heartbeat = HeartBeat {
            client_id: core.config.client_id.clone(),
            producer_groups: Vec::new(),
            consumers: vec![ConsumerData {
                group: self.config.group.clone(),
                broadcasting: self.config.broadcasting,
                subscriptions: self.subscriptions.values().cloned().collect(),
            }],
        };
        for addr in core.routes.all_broker_addrs() {
            let id = ctx.request(
                addr,
                Request::HeartBeat(heartbeat.clone()),
                core.config.mq_client_api_timeout_ms,
            );
            core.pending
                .insert(id, Pending::Consumer(ConsumerPending::Heartbeat));
        }
    }

    /// `persistAllConsumerOffset`: oneway `UPDATE_CONSUMER_OFFSET` for every queue still
    /// owned (clustering), or the local file (broadcasting).
    fn persist_offsets(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        if self.config.broadcasting {
            self.offsets.save(ctx.disk(), &self.config.group);
            return;
        }
        let queues = &self.queues;
        for (queue, offset) in self.offsets.retain_in_use(|q| queues.contains_key(q)) {
            self.send_offset(ctx, core, &queue, offset);
        }
    }

    /// One queue's offset to its master (or, without one, to any replica).
    fn send_offset(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
        offset: u64,
    ) {
        let Some((addr, _)) =
            find_broker(core, &queue.broker_name, crate::protocol::route::MASTER_ID)
        else {
            return;
        };
        let update = QueueOffset {
            group: self.config.group.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            offset,
        };
        ctx.oneway(addr, Request::UpdateConsumerOffset(update));
    }

    /// Broadcasting: tell the history when this consumer's backlog empties or fills.
    fn report_lag(&mut self, ctx: &mut Context<'_>) {
        if !self.config.broadcasting {
            return;
        }
        let behind_in = |(queue, pq): (&MessageQueue, &ProcessQueue)| {
            pq.behind(self.offsets.read(queue).unwrap_or(0))
        };
        // Called after every consume and pull: whether it is behind is settled cheaply first.
        let is_behind = self.consume.busy() || self.queues.iter().any(|q| behind_in(q) > 0);
        if self.reported_behind != Some(is_behind) {
            let behind: u64 = self.queues.iter().map(behind_in).sum();
            self.reported_behind = Some(is_behind);
            ctx.emit(Event::ConsumerLag {
                group: self.config.group.clone(),
                behind: if is_behind { behind.max(1) } else { 0 },
            });
        }
    }
}

/// `findBrokerAddressInSubscribe(brokerName, brokerId, onlyThisBroker = false)`: the asked-for
/// replica, else the next one, else any. Returns the address and whether it is a slave.
pub(crate) fn find_broker(
    core: &ClientCore,
    broker_name: &str,
    broker_id: u64,
) -> Option<(NodeId, bool)> {
    let addrs = core.routes.broker_addrs(broker_name)?;
    if let Some(addr) = addrs.get(&broker_id) {
        return Some((*addr, broker_id != crate::protocol::route::MASTER_ID));
    }
    if broker_id != crate::protocol::route::MASTER_ID
        && let Some(addr) = addrs.get(&(broker_id + 1))
    {
        return Some((*addr, true));
    }
    addrs
        .iter()
        .next()
        .map(|(id, addr)| (*addr, *id != crate::protocol::route::MASTER_ID))
}

pub(crate) fn consumer_timer(timer: ConsumerTimer) -> Timer {
    Timer::Client(super::ClientTimer::Consumer(timer))
}

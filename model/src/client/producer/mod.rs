//! The producer (`DefaultMQProducerImpl`): sync, async and oneway sends; retries within the
//! `sendMsgTimeout` budget to another broker; optional latency fault tolerance; a hash
//! selector for ordered sends. Every send is reported as invoke / ok / fail / info.
//!
//! What 4.9.x does on a timeout matters here: an attempt waits for the whole remaining budget,
//! so after one timed-out attempt no retry fits ("sendDefaultImpl call timeout"). A lost ACK
//! therefore surfaces to the application as an unknown outcome, not as an internal duplicate.

mod fault;
mod publish;
mod transaction;

pub use publish::TopicPublishInfo;

use super::{ClientCore, Pending};
use crate::event::{Event, SendMode, SendStatus};
use crate::ids::MessageId;
use crate::message::{Message, property};
use crate::node::{Context, RpcError};
use crate::protocol::{
    MessageQueue, Request, Response, ResponseBody, ResponseCode, SendMessage, SendResult,
};
use crate::time::Time;
use fault::LatencyFaultTolerance;
use std::collections::BTreeMap;

/// Broker answers that send the producer on to its next attempt (4.9.x `retryResponseCodes`).
const RETRY_RESPONSE_CODES: [ResponseCode; 4] = [
    ResponseCode::TopicNotExist,
    ResponseCode::ServiceNotAvailable,
    ResponseCode::SystemError,
    ResponseCode::NoPermission,
];

#[derive(Clone, Debug)]
pub struct ProducerConfig {
    pub group: String,
    /// `sendMsgTimeout`: the budget of all attempts of one send.
    pub send_msg_timeout_ms: u64,
    /// `retryTimesWhenSendFailed` (sync).
    pub retry_times_when_send_failed: u32,
    /// `retryTimesWhenSendAsyncFailed`.
    pub retry_times_when_send_async_failed: u32,
    /// `retryAnotherBrokerWhenNotStoreOK`.
    pub retry_another_broker_when_not_store_ok: bool,
    /// `sendLatencyFaultEnable`.
    pub send_latency_fault_enable: bool,
    /// Report sends to the history (not for a client's internal producer).
    pub record_operations: bool,
    /// A `TransactionMQProducer`: it heartbeats its group to the masters, so that their
    /// transaction checks can ask it.
    pub transactional: bool,
}

impl ProducerConfig {
    pub fn new(group: &str) -> ProducerConfig {
        ProducerConfig {
            group: group.to_string(),
            send_msg_timeout_ms: 3_000,
            retry_times_when_send_failed: 2,
            retry_times_when_send_async_failed: 2,
            retry_another_broker_when_not_store_ok: false,
            send_latency_fault_enable: false,
            record_operations: true,
            transactional: false,
        }
    }
}

/// How a send ended, as the application learns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Ok {
        status: SendStatus,
        broker: String,
        result: SendResult,
    },
    /// Certainly not stored.
    Failed { error: String },
    /// Perhaps stored: some attempt's outcome is unknown.
    Unknown { error: String },
}

/// A `MessageQueueSelector` a send names (`send(msg, selector, arg)`): one attempt, on the
/// queue it picks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// `SelectMessageQueueByHash`: `abs(key.hashCode()) % queues` (ordered sends).
    Hash(String),
    /// `SelectMessageQueueByRandom`: any queue, each as likely.
    Random,
    /// An application's machine-room selector: any queue of the brokers in its room, each as
    /// likely; any queue of the route when none of them is in it.
    MachineRoom(std::sync::Arc<[String]>),
}

#[derive(Clone, Debug)]
struct SendOp {
    id: MessageId,
    message: Message,
    mode: SendMode,
    /// A send through a selector.
    selector: Option<Selector>,
    started: Time,
    attempts: u32,
    last_queue: Option<MessageQueue>,
    unknown: bool,
    last_error: String,
    waiting_route: bool,
}

pub struct Producer {
    pub config: ProducerConfig,
    publish: BTreeMap<String, TopicPublishInfo>,
    fault: LatencyFaultTolerance,
    ops: BTreeMap<u64, SendOp>,
    next_op: u64,
}

impl Producer {
    pub fn new(config: ProducerConfig) -> Producer {
        Producer {
            config,
            publish: BTreeMap::new(),
            fault: LatencyFaultTolerance::default(),
            ops: BTreeMap::new(),
            next_op: 0,
        }
    }

    /// Sends don't finish yet.
    pub fn in_flight(&self) -> usize {
        self.ops.len()
    }

    /// The route of `topic` changed: rebuild its publish info.
    pub fn update_publish_info(&mut self, ctx: &mut Context<'_>, core: &ClientCore, topic: &str) {
        if let Some(route) = core.routes.route(topic) {
            let start = ctx.random_u64() % 1_000_000;
            self.publish.insert(
                topic.to_string(),
                TopicPublishInfo::from_route(topic, route, start),
            );
        }
    }

    /// Starts a send; its outcome comes back from [`Producer::on_response`] or a later call,
    /// as `(op, outcome)`. A `selector` picks the queue (one attempt, as `sendSelectImpl`).
    pub fn send(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        id: MessageId,
        mut message: Message,
        mode: SendMode,
        selector: Option<Selector>,
    ) -> (u64, Option<SendOutcome>) {
        message.set_property(property::UNIQ_KEY, id.to_uniq_key());
        if mode == SendMode::Transaction {
            // `sendMessageInTransaction`: no delay; marked as a half message of this group.
            message.properties.remove(property::DELAY_TIME_LEVEL);
            message.set_property(property::TRANSACTION_PREPARED, "true");
            message.set_property(property::PRODUCER_GROUP, self.config.group.clone());
        }
        ctx.emit(Event::SendInvoke {
            id,
            topic: message.topic.clone(),
            key: match &selector {
                Some(Selector::Hash(key)) => Some(key.clone()),
                _ => message.keys().map(str::to_string),
            },
            tags: message.tags().map(str::to_string),
            mode,
            body_crc: crc32fast::hash(&message.body),
        });
        self.next_op += 1;
        let op = self.next_op;
        let topic = message.topic.clone();
        self.ops.insert(
            op,
            SendOp {
                id,
                message,
                mode,
                selector,
                started: ctx.now(),
                attempts: 0,
                last_queue: None,
                unknown: false,
                last_error: String::new(),
                waiting_route: false,
            },
        );
        if !self.publish.get(&topic).is_some_and(TopicPublishInfo::ok) {
            // tryToFindTopicPublishInfo: ask the name server before giving up.
            self.ops.get_mut(&op).expect("inserted").waiting_route = true;
            core.query_route(ctx, &topic);
            return (op, None);
        }
        (op, self.attempt(ctx, core, op))
    }

    /// A route query finished: sends that waited for it go on (or fail without a route).
    pub fn route_settled(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        topic: &str,
    ) -> Vec<(u64, SendOutcome)> {
        let waiting: Vec<u64> = self
            .ops
            .iter()
            .filter(|(_, op)| op.waiting_route && op.message.topic == topic)
            .map(|(id, _)| *id)
            .collect();
        let mut done = Vec::new();
        for op in waiting {
            self.ops.get_mut(&op).expect("listed").waiting_route = false;
            let outcome = if self.publish.get(topic).is_some_and(TopicPublishInfo::ok) {
                self.attempt(ctx, core, op)
            } else {
                let error = format!("No route info of this topic: {topic}");
                Some(self.finish(ctx, op, Err(error)))
            };
            if let Some(outcome) = outcome {
                done.push((op, outcome));
            }
        }
        done
    }

    /// How many attempts a send may make.
    fn attempts_total(&self, op: &SendOp) -> u32 {
        match op.mode {
            _ if op.selector.is_some() => 1,
            SendMode::Sync | SendMode::Transaction => 1 + self.config.retry_times_when_send_failed,
            SendMode::Async => 1 + self.config.retry_times_when_send_async_failed,
            SendMode::Oneway => 1,
        }
    }

    /// The next attempt of a send, or its end.
    fn attempt(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        op_id: u64,
    ) -> Option<SendOutcome> {
        loop {
            let op = self.ops.get(&op_id).expect("live op");
            if op.attempts >= self.attempts_total(op) {
                let error = op.last_error.clone();
                return Some(self.finish(ctx, op_id, Err(error)));
            }
            let elapsed = ctx.now().ms_since(op.started);
            // RocketMQ breaks when `timeout < costTime`; an attempt that only starts once the
            // budget is spent has a cost just past it there, so "spent" is `>=` in whole ms.
            if elapsed >= self.config.send_msg_timeout_ms {
                return Some(self.finish(ctx, op_id, Err("sendDefaultImpl call timeout".into())));
            }
            let remaining = self.config.send_msg_timeout_ms - elapsed;
            let queue = self.select_queue(ctx, op_id);
            if let Some(queue) = &queue {
                self.check_selected(op_id, queue);
            }
            let total = self.attempts_total(&self.ops[&op_id]);
            let op = self.ops.get_mut(&op_id).expect("live op");
            op.attempts += 1;
            crate::invariant!(
                op.attempts <= total,
                "producer-attempts-within-budget",
                "send {}: attempt {} of {total}",
                op.id,
                op.attempts
            );
            let Some(queue) = queue else {
                op.last_error = "select message queue return null".into();
                continue;
            };
            op.last_queue = Some(queue.clone());
            let Some(addr) = core
                .routes
                .broker_addrs(&queue.broker_name)
                .and_then(|a| a.get(&0).copied())
            else {
                op.last_error = format!("The broker[{}] not exist", queue.broker_name);
                continue;
            };
            // A retry travels with its reconsume count in the header (`sendKernelImpl`).
            let mut message = op.message.clone();
            let reconsume_times = match message.topic.starts_with("%RETRY%") {
                true => message
                    .properties
                    .remove(property::RECONSUME_TIME)
                    .and_then(|times| times.parse().ok())
                    .unwrap_or(0),
                false => 0,
            };
            let request = Request::SendMessage(SendMessage {
                producer_group: self.config.group.clone(),
                queue_id: queue.queue_id,
                born_timestamp_ms: ctx.wall_clock_ms(),
                reconsume_times,
                message,
            });
            if op.mode == SendMode::Oneway {
                ctx.oneway(addr, request);
                return Some(self.finish(ctx, op_id, Err("oneway: no response".into())));
            }
            let request_id = ctx.request(addr, request, remaining);
            core.pending.insert(
                request_id,
                Pending::Send {
                    op: op_id,
                    broker: queue.broker_name,
                    begun: ctx.now(),
                    internal: !self.config.record_operations,
                },
            );
            return None;
        }
    }

    /// The queue an attempt goes to is one of the message's topic that its publish info lists.
    fn check_selected(&self, op_id: u64, queue: &MessageQueue) {
        let topic = &self.ops[&op_id].message.topic;
        crate::invariant!(
            queue.topic == *topic,
            "producer-queue-of-message-topic",
            "a message of {topic} sent to {queue}"
        );
        crate::invariant!(
            self.publish
                .get(topic)
                .is_some_and(|info| info.queues.binary_search(queue).is_ok()),
            "producer-queue-in-publish-info",
            "{queue} is not among the writable queues of the route"
        );
    }

    fn select_queue(&mut self, ctx: &mut Context<'_>, op_id: u64) -> Option<MessageQueue> {
        let now = ctx.now();
        let op = &self.ops[&op_id];
        let info = self.publish.get_mut(&op.message.topic)?;
        match &op.selector {
            Some(Selector::Hash(key)) => {
                // SelectMessageQueueByHash: abs(key.hashCode()) % queues.
                let hash = crate::filter::java_string_hash(key).unsigned_abs() as usize;
                return info.queues.get(hash % info.queues.len().max(1)).cloned();
            }
            Some(Selector::Random) => {
                let count = info.queues.len() as u64;
                let pick = (count > 0).then(|| ctx.random_below(count) as usize);
                return pick.and_then(|index| info.queues.get(index)).cloned();
            }
            Some(Selector::MachineRoom(room)) => {
                let in_room = |q: &&MessageQueue| room.contains(&q.broker_name);
                let mut queues: Vec<&MessageQueue> = info.queues.iter().filter(in_room).collect();
                if queues.is_empty() {
                    crate::probe!(MACHINE_ROOM_FALLBACK);
                    queues = info.queues.iter().collect();
                }
                let count = queues.len() as u64;
                let pick = (count > 0).then(|| ctx.random_below(count) as usize);
                return pick.map(|index| queues[index].clone());
            }
            None => {}
        }
        let last_broker = op.last_queue.as_ref().map(|q| q.broker_name.as_str());
        if !self.config.send_latency_fault_enable {
            return info.select(last_broker);
        }
        for _ in 0..info.queues.len() {
            let queue = info.select(None)?;
            if self.fault.is_available(&queue.broker_name, now) {
                return Some(queue);
            }
        }
        if let Some(not_best) = self.fault.pick_one_at_least(now) {
            let count = info
                .queues
                .iter()
                .filter(|q| q.broker_name == not_best)
                .count() as u64;
            if count > 0 {
                let mut queue = info.select(None)?;
                queue.queue_id = (info.send_which_queue % count) as u32;
                queue.broker_name = not_best;
                return Some(queue);
            }
            self.fault.remove(&not_best);
        }
        info.select(None)
    }

    /// The answer to one attempt. Returns the send's outcome if it ended.
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        op_id: u64,
        broker: &str,
        begun: Time,
        result: Result<Response, RpcError>,
    ) -> Option<SendOutcome> {
        let latency = ctx.now().ms_since(begun);
        let op = self.ops.get_mut(&op_id)?;
        let attempt = op.attempts;
        crate::invariant!(
            attempt >= 1 && !op.waiting_route,
            "producer-response-after-attempt",
            "send {}: an answer from {broker} after {attempt} attempts (waiting for a route: {})",
            op.id,
            op.waiting_route
        );
        let failure = match result {
            Ok(response) => match send_status(response.code) {
                Some(status) => {
                    let ResponseBody::Send(result) = response.body else {
                        unreachable!("a broker always answers a stored message with its result");
                    };
                    if self.config.send_latency_fault_enable {
                        self.fault.update(broker, ctx.now(), latency, false);
                    }
                    if status != SendStatus::SendOk
                        && self.config.retry_another_broker_when_not_store_ok
                        && op.mode.is_sync()
                    {
                        op.unknown = true; // It is stored; a retry will store it again.
                        op.last_error = status.name().to_string();
                        (true, status.name().to_string())
                    } else {
                        let ok = SendOutcome::Ok {
                            status,
                            broker: broker.to_string(),
                            result,
                        };
                        return Some(self.complete(ctx, op_id, ok));
                    }
                }
                None => {
                    let retry = RETRY_RESPONSE_CODES.contains(&response.code) && op.mode.is_sync();
                    (retry, format!("CODE: {} broker: {broker}", response.code))
                }
            },
            Err(error) => {
                if error.outcome_unknown() {
                    op.unknown = true;
                }
                if error == RpcError::Timeout {
                    // clientCloseSocketIfTimeout: the channel is closed after a timeout.
                    if let Some(addr) = core
                        .routes
                        .broker_addrs(broker)
                        .and_then(|a| a.get(&0).copied())
                    {
                        ctx.close_connection(addr);
                    }
                }
                (true, format!("{error} ({broker})"))
            }
        };
        let (retry, error) = failure;
        if self.config.send_latency_fault_enable {
            self.fault.update(broker, ctx.now(), latency, true);
        }
        if self.config.record_operations {
            ctx.emit(Event::SendAttemptFailed {
                id: op.id,
                attempt,
                broker: broker.to_string(),
                error: error.clone(),
            });
        }
        op.last_error = error.clone();
        if !retry {
            return Some(self.finish(ctx, op_id, Err(error)));
        }
        self.attempt(ctx, core, op_id)
    }

    /// Ends a send without success.
    fn finish(
        &mut self,
        ctx: &mut Context<'_>,
        op_id: u64,
        error: Result<(), String>,
    ) -> SendOutcome {
        let op = &self.ops[&op_id];
        let error = error.err().unwrap_or_default();
        let outcome = if op.unknown || op.mode == SendMode::Oneway && op.attempts > 0 {
            SendOutcome::Unknown { error }
        } else {
            SendOutcome::Failed { error }
        };
        self.complete(ctx, op_id, outcome)
    }

    fn complete(&mut self, ctx: &mut Context<'_>, op_id: u64, outcome: SendOutcome) -> SendOutcome {
        let op = self.ops.remove(&op_id).expect("live op");
        crate::invariant!(
            !matches!(outcome, SendOutcome::Ok { .. }) || op.attempts >= 1,
            "send-ok-after-an-attempt",
            "send {} stored without any attempt",
            op.id
        );
        crate::invariant!(
            !matches!(outcome, SendOutcome::Failed { .. }) || !op.unknown,
            "send-failed-only-when-certain",
            "send {} reported failed though an attempt's outcome is unknown",
            op.id
        );
        let event = match &outcome {
            SendOutcome::Ok {
                status,
                broker,
                result,
            } => Event::SendOk {
                id: op.id,
                status: *status,
                broker: broker.clone(),
                queue_id: result.queue_id,
                queue_offset: result.queue_offset,
                commit_log_offset: result.commit_log_offset,
                store_host: result.store_host,
                size: result.size,
                attempts: op.attempts,
            },
            SendOutcome::Failed { error } => Event::SendFail {
                id: op.id,
                error: error.clone(),
                attempts: op.attempts,
            },
            SendOutcome::Unknown { error } => Event::SendInfo {
                id: op.id,
                error: error.clone(),
                attempts: op.attempts,
            },
        };
        if self.config.record_operations {
            ctx.emit(event);
        }
        outcome
    }
}

/// The statuses that mean "stored" (`processSendResponse`); any other code is an error.
fn send_status(code: ResponseCode) -> Option<SendStatus> {
    match code {
        ResponseCode::Success => Some(SendStatus::SendOk),
        ResponseCode::FlushDiskTimeout => Some(SendStatus::FlushDiskTimeout),
        ResponseCode::FlushSlaveTimeout => Some(SendStatus::FlushSlaveTimeout),
        ResponseCode::SlaveNotAvailable => Some(SendStatus::SlaveNotAvailable),
        _ => None,
    }
}

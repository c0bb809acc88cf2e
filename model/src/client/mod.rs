//! The client library (`MQClientInstance` with its producer and consumer).
//!
//! A [`Client`] is not a node: the application that uses it is (the harness's workload). The
//! application forwards the client's responses and timers to it and calls its API; the client
//! emits the history's operation events itself, as an instrumented client library would.

pub mod consumer;
pub mod producer;
pub mod route;

use crate::event::SendMode;
use crate::ids::{MessageId, NodeId, RequestId};
use crate::message::Message;
use crate::node::{Context, Inbound, RpcError};
use crate::protocol::{HeartBeat, Request, Response, ResponseBody, ResponseCode};
use crate::time::Time;
use crate::timer::Timer;
use consumer::{Consumer, ConsumerPending, ConsumerTimer};
use producer::{Producer, SendOutcome};
use route::RouteCache;
use std::collections::{BTreeMap, BTreeSet};

/// `ClientConfig` fields the model uses; defaults as RocketMQ 4.9.x.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `clientIP@instanceName`; unique per client process.
    pub client_id: String,
    pub name_servers: Vec<NodeId>,
    /// `pollNameServerInterval`.
    pub poll_name_server_interval_ms: u64,
    /// `heartbeatBrokerInterval`.
    pub heartbeat_broker_interval_ms: u64,
    /// `persistConsumerOffsetInterval`.
    pub persist_consumer_offset_interval_ms: u64,
    /// `mqClientApiTimeout`.
    pub mq_client_api_timeout_ms: u64,
}

impl ClientConfig {
    pub fn new(client_id: &str, name_servers: Vec<NodeId>) -> ClientConfig {
        ClientConfig {
            client_id: client_id.to_string(),
            name_servers,
            poll_name_server_interval_ms: 30_000,
            heartbeat_broker_interval_ms: 30_000,
            persist_consumer_offset_interval_ms: 5_000,
            mq_client_api_timeout_ms: 3_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// `updateTopicRouteInfoFromNameServer` for every topic in use.
    UpdateRoutes,
    /// A transactional producer's `sendHeartbeatToAllBroker`.
    ProducerHeartbeat,
    Consumer(ConsumerTimer),
}

/// Why a request is in flight, so its answer reaches the right part of the client.
#[derive(Clone, Debug)]
pub enum Pending {
    Route {
        topic: String,
        name_server: NodeId,
        /// Name servers this call tried before, each refusing the connection.
        refused: usize,
    },
    /// An attempt of a send; `internal` for the consumer's own producer.
    Send {
        op: u64,
        broker: String,
        begun: Time,
        internal: bool,
    },
    Consumer(ConsumerPending),
    /// A producer's heartbeat: its answer says nothing the client uses.
    ProducerHeartbeat,
}

/// What the client shares among its parts: configuration, routes, requests in flight.
pub struct ClientCore {
    pub config: ClientConfig,
    pub routes: RouteCache,
    /// Topics whose routes the client keeps fresh.
    topics: BTreeSet<String>,
    pending: BTreeMap<RequestId, Pending>,
}

impl ClientCore {
    /// Asks the chosen name server for a topic's route.
    pub fn query_route(&mut self, ctx: &mut Context<'_>, topic: &str) {
        self.topics.insert(topic.to_string());
        self.ask_name_server(ctx, topic, 0);
    }

    /// One try of a route call, after `refused` name servers refused the connection: a call
    /// tries each name server once before it gives up (`getAndCreateNameserverChannel`).
    /// Returns whether it asked one.
    fn ask_name_server(&mut self, ctx: &mut Context<'_>, topic: &str, refused: usize) -> bool {
        if refused >= self.routes.name_server_count() {
            return false; // RemotingConnectException: the next poll tries again.
        }
        let Some(name_server) = self.routes.name_server(ctx) else {
            return false;
        };
        let request = Request::GetRouteInfoByTopic {
            topic: topic.to_string(),
        };
        let id = ctx.request(name_server, request, self.config.mq_client_api_timeout_ms);
        self.pending.insert(
            id,
            Pending::Route {
                topic: topic.to_string(),
                name_server,
                refused,
            },
        );
        true
    }
}

/// Something the application should hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    SendDone { op: u64, outcome: SendOutcome },
}

pub struct Client {
    pub core: ClientCore,
    pub producer: Option<Producer>,
    pub consumer: Option<Consumer>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        Client {
            core: ClientCore {
                routes: RouteCache::new(config.name_servers.clone()),
                config,
                topics: BTreeSet::new(),
                pending: BTreeMap::new(),
            },
            producer: None,
            consumer: None,
        }
    }

    /// Starts the scheduled tasks (`MQClientInstance.startScheduledTask`) and the consumer.
    pub fn start(&mut self, ctx: &mut Context<'_>) {
        ctx.set_timer(10, Timer::Client(ClientTimer::UpdateRoutes));
        if self
            .producer
            .as_ref()
            .is_some_and(|p| p.config.transactional)
        {
            // `startScheduledTask`: the first heartbeat after 1 s.
            ctx.set_timer(1_000, Timer::Client(ClientTimer::ProducerHeartbeat));
        }
        if let Some(consumer) = &mut self.consumer {
            for topic in consumer.topics() {
                self.core.topics.insert(topic);
            }
            consumer.start(ctx, &mut self.core);
        }
    }

    /// `shutdown`: the consumer commits its offsets and gives its queues back, and the client
    /// leaves every broker (`unregisterClient`), which tells the groups to rebalance at once.
    pub fn shutdown(&mut self, ctx: &mut Context<'_>) {
        let mut group = None;
        if let Some(consumer) = &mut self.consumer {
            consumer.shutdown(ctx, &mut self.core);
            group = Some(consumer.config.group.clone());
        }
        for addr in self.core.routes.all_broker_addrs() {
            let request = Request::UnregisterClient {
                client_id: self.core.config.client_id.clone(),
                consumer_group: group.clone(),
            };
            ctx.oneway(addr, request);
        }
    }

    /// A request from a broker (`ClientRemotingProcessor`). Returns whether it was the client's.
    pub fn on_request(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: &Request,
    ) -> bool {
        let consumer = self.consumer.as_mut();
        match request {
            Request::NotifyConsumerIdsChanged { .. } => {
                if let Some(consumer) = consumer {
                    consumer.on_ids_changed(ctx, &mut self.core);
                }
            }
            Request::ResetConsumerClientOffset {
                topic,
                group,
                offsets,
            } => {
                if let Some(consumer) = consumer {
                    consumer.on_reset_offset(ctx, (topic, group), offsets);
                }
            }
            Request::ConsumeMessageDirectly(call) => match consumer {
                Some(consumer) => consumer.on_consume_directly(ctx, inbound, call),
                None => ctx.respond(inbound, Response::error(ResponseCode::SystemError)),
            },
            _ => return false,
        }
        true
    }

    /// Keeps the route of `topic` fresh from now on, fetching it at once if unknown.
    pub fn use_topic(&mut self, ctx: &mut Context<'_>, topic: &str) {
        if self.core.topics.insert(topic.to_string()) && self.core.routes.route(topic).is_none() {
            self.core.query_route(ctx, topic);
        }
    }

    /// Sends a message with the producer (which must exist).
    pub fn send(
        &mut self,
        ctx: &mut Context<'_>,
        id: MessageId,
        message: Message,
        mode: SendMode,
        selector: Option<producer::Selector>,
    ) -> (u64, Option<SendOutcome>) {
        let producer = self.producer.as_mut().expect("a producer client");
        producer.send(ctx, &mut self.core, id, message, mode, selector)
    }

    pub fn on_timer(&mut self, ctx: &mut Context<'_>, timer: ClientTimer) -> Vec<Notice> {
        match timer {
            ClientTimer::UpdateRoutes => {
                let topics: Vec<String> = self.core.topics.iter().cloned().collect();
                for topic in topics {
                    self.core.query_route(ctx, &topic);
                }
                ctx.set_timer(
                    self.core.config.poll_name_server_interval_ms,
                    Timer::Client(ClientTimer::UpdateRoutes),
                );
            }
            ClientTimer::ProducerHeartbeat => {
                self.producer_heartbeat(ctx);
                let interval = self.core.config.heartbeat_broker_interval_ms;
                ctx.set_timer(interval, Timer::Client(ClientTimer::ProducerHeartbeat));
            }
            ClientTimer::Consumer(timer) => {
                if let Some(consumer) = &mut self.consumer {
                    consumer.on_timer(ctx, &mut self.core, timer);
                }
            }
        }
        Vec::new()
    }

    /// A producer without consumers heartbeats the masters of its routes only.
    fn producer_heartbeat(&mut self, ctx: &mut Context<'_>) {
        let Some(producer) = &self.producer else {
            return;
        };
        let heartbeat = HeartBeat {
            client_id: self.core.config.client_id.clone(),
            producer_groups: vec![producer.config.group.clone()],
            consumers: Vec::new(),
        };
        for addr in self.core.routes.master_addrs() {
            let request = Request::HeartBeat(heartbeat.clone());
            let id = ctx.request(addr, request, self.core.config.mq_client_api_timeout_ms);
            self.core.pending.insert(id, Pending::ProducerHeartbeat);
        }
    }

    /// Takes the answer to a request. Returns `None` if the request was not the client's.
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) -> Option<Vec<Notice>> {
        let pending = self.core.pending.remove(&id)?;
        let mut notices = Vec::new();
        match pending {
            Pending::Route {
                topic,
                name_server,
                refused,
            } => {
                match result {
                    Ok(Response {
                        code: ResponseCode::Success,
                        body: ResponseBody::Route(route),
                    }) => {
                        if self.core.routes.update(ctx, &topic, name_server, route) {
                            if let Some(producer) = &mut self.producer {
                                producer.update_publish_info(ctx, &self.core, &topic);
                            }
                            if let Some(consumer) = &mut self.consumer {
                                consumer.route_changed(ctx, &mut self.core, &topic);
                            }
                        }
                    }
                    Ok(_) => {} // TOPIC_NOT_EXIST: the old route stays.
                    Err(RpcError::Refused) => {
                        crate::probe!(NAME_SERVER_REFUSED);
                        self.core.routes.name_server_failed(ctx, name_server);
                        if self.core.ask_name_server(ctx, &topic, refused + 1) {
                            return Some(notices); // The same call, on the next name server.
                        }
                    }
                    Err(_) => self.core.routes.name_server_failed(ctx, name_server),
                }
                if let Some(producer) = &mut self.producer {
                    for (op, outcome) in producer.route_settled(ctx, &mut self.core, &topic) {
                        notices.push(Notice::SendDone { op, outcome });
                    }
                }
                if let Some(consumer) = &mut self.consumer {
                    for (op, outcome) in consumer.inner.route_settled(ctx, &mut self.core, &topic) {
                        consumer.on_fallback(ctx, &mut self.core, op, outcome);
                    }
                }
            }
            Pending::Send {
                op,
                broker,
                begun,
                internal,
            } => {
                if internal {
                    if let Some(consumer) = &mut self.consumer
                        && let Some(outcome) = consumer.inner.on_response(
                            ctx,
                            &mut self.core,
                            op,
                            &broker,
                            begun,
                            result,
                        )
                    {
                        consumer.on_fallback(ctx, &mut self.core, op, outcome);
                    }
                } else if let Some(producer) = &mut self.producer
                    && let Some(outcome) =
                        producer.on_response(ctx, &mut self.core, op, &broker, begun, result)
                {
                    notices.push(Notice::SendDone { op, outcome });
                }
            }
            Pending::Consumer(pending) => {
                if let Some(consumer) = &mut self.consumer {
                    consumer.on_response(ctx, &mut self.core, pending, result);
                }
            }
            Pending::ProducerHeartbeat => {}
        }
        Some(notices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestIo;

    /// `getAndCreateNameserverChannel`: a call whose connection is refused goes on to the next
    /// name server at once, each tried once; when all refuse, the call ends.
    #[test]
    fn a_refused_route_call_moves_on_to_the_next_name_server() {
        let servers = vec![NodeId(1), NodeId(2), NodeId(3)];
        let mut client = Client::new(ClientConfig::new("c", servers.clone()));
        let mut io = TestIo::new();
        client.core.query_route(&mut io.ctx(), "orders");
        let mut asked = Vec::new();
        for id in 1..=4 {
            let Some((to, _)) = io.requests.pop() else {
                break;
            };
            asked.push(to);
            client.on_response(&mut io.ctx(), RequestId(id), Err(RpcError::Refused));
        }
        asked.sort();
        assert_eq!(asked, servers, "each name server once, in the same call");
    }
}

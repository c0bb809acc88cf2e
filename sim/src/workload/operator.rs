//! The operator: an admin tool on its own machine, making its calls while the cluster runs.
//! Each round starts, as `DefaultMQAdminExtImpl` does, by asking a name server for the topic's
//! route, then calls each broker group's master (else a slave: `BrokerData.selectBrokerAddr`):
//! - `query-keys` (`mqadmin queryMsgByKey`, `MQAdminImpl.queryMessage`): QUERY_MESSAGE for each
//!   key over the whole time range, at most `MAX_QUERY` records. The broker's index matches by
//!   hash, so the tool keeps only the records whose `KEYS` hold the key (`KeysQueried`).
//! - `reset-offset` (`mqadmin resetOffsetByTime`): INVOKE_BROKER_TO_RESET_OFFSET with the
//!   time; each broker's answer holds the offsets it sent the group's consumers
//!   (`OffsetsReset`).
//! - `consume-directly` (the console's resend): QUERY_MESSAGE for the key, then
//!   CONSUME_MESSAGE_DIRECTLY of each record found, through the broker that answered, to the
//!   chosen consumer (`ConsumedDirectly`).
//!
//! A call nobody answers is reported by nothing: the checker judges only answers.

use super::producer::key_name;
use super::roles::{self, GroupReplicas};
use super::{App, app_timer};
use crate::scenario::resolved::OperatorCall;
use model::broker::store::index::MAX_QUERY;
use model::broker::store::record::{self, StoredMessage};
use model::event::Event;
use model::ids::{NodeId, RequestId};
use model::message::property;
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::route::TopicRouteData;
use model::protocol::{ConsumeDirectly, Request, Response, ResponseBody, ResponseCode};
use model::timer::Timer;
use model::{MessageId, Time};
use std::collections::BTreeMap;

const QUERY_TIMEOUT_MS: u64 = 3_000;
/// `consumeMessageDirectly`'s timeout: three times the admin's 5 s.
const DIRECT_TIMEOUT_MS: u64 = 15_000;
/// Queries in flight at once.
const WINDOW: usize = 16;
/// A reset without `timestamp` goes back this far.
const DEFAULT_RESET_BACK_MS: u64 = 60_000;

/// One of the operator's calls, at its time, with the broker groups it goes to.
#[derive(Clone, Debug)]
pub struct Round {
    pub at: Time,
    pub call: OperatorCall,
    pub brokers: Vec<GroupReplicas>,
}

impl Round {
    /// The wall-clock time a reset goes to: its `timestamp`, else a minute before the round.
    fn reset_timestamp_ms(&self) -> u64 {
        let OperatorCall::ResetOffset(reset) = &self.call else {
            return 0;
        };
        let back = self.at.as_ms().saturating_sub(DEFAULT_RESET_BACK_MS);
        Time::from_ms(reset.timestamp_ms.unwrap_or(back)).wall_clock_ms()
    }

    fn topic(&self) -> &str {
        match &self.call {
            OperatorCall::QueryKeys(query) => &query.topic,
            OperatorCall::ResetOffset(reset) => &reset.topic,
            OperatorCall::ConsumeDirectly(direct) => &direct.topic,
        }
    }
}

/// One QUERY_MESSAGE to send: the round, the broker group, its node, the key.
#[derive(Clone, Debug)]
struct Ask {
    round: usize,
    broker: String,
    replica: NodeId,
    key: u32,
}

pub struct Operator {
    name_servers: Vec<NodeId>,
    rounds: Vec<Round>,
    pending: BTreeMap<RequestId, Pending>,
    asks: Vec<Ask>,
    next_ask: usize,
}

/// What a request in flight is.
#[derive(Clone, Debug)]
enum Pending {
    /// A round's route.
    Route(usize),
    /// A query by key: its index in `asks`.
    Ask(usize),
    /// A round's reset, sent to a broker group.
    Reset { round: usize, broker: String },
    /// A round's direct consumption of a message, through a broker group.
    Direct {
        round: usize,
        broker: String,
        id: MessageId,
    },
}

impl Operator {
    pub fn new(name_servers: Vec<NodeId>, rounds: Vec<Round>) -> Operator {
        Operator {
            name_servers,
            rounds,
            pending: BTreeMap::new(),
            asks: Vec::new(),
            next_ask: 0,
        }
    }

    /// A round's time has come: the route first.
    fn begin(&mut self, ctx: &mut Context<'_>, round: usize) {
        let Some(name_server) = self.name_servers.first().copied() else {
            return self.call_each(ctx, round, Vec::new());
        };
        let topic = self.rounds[round].topic().to_string();
        let request = Request::GetRouteInfoByTopic { topic };
        let id = ctx.request(name_server, request, QUERY_TIMEOUT_MS);
        self.pending.insert(id, Pending::Route(round));
    }

    /// The round's call to each group's current master (as the route says).
    fn call_each(&mut self, ctx: &mut Context<'_>, round: usize, routes: Vec<TopicRouteData>) {
        let spec = &self.rounds[round];
        let Ok(masters) = roles::current_masters(&routes, &spec.brokers) else {
            return;
        };
        let groups: Vec<(String, NodeId)> = (spec.brokers.iter().map(|g| g.broker.clone()))
            .zip(masters)
            .collect();
        match &spec.call {
            OperatorCall::QueryKeys(query) => {
                let keys = query.keys;
                self.queue_asks(round, &groups, 0..keys);
            }
            OperatorCall::ConsumeDirectly(direct) => {
                let key = direct.key;
                self.queue_asks(round, &groups, key..key + 1);
            }
            OperatorCall::ResetOffset(reset) => {
                for (broker, replica) in groups {
                    let request = Request::InvokeBrokerToResetOffset {
                        topic: reset.topic.clone(),
                        group: reset.group.clone(),
                        timestamp_ms: Some(spec.reset_timestamp_ms()),
                        force: reset.force,
                    };
                    let id = ctx.request(replica, request, QUERY_TIMEOUT_MS);
                    self.pending.insert(id, Pending::Reset { round, broker });
                }
            }
        }
        self.send_more(ctx);
    }

    fn queue_asks(
        &mut self,
        round: usize,
        groups: &[(String, NodeId)],
        keys: std::ops::Range<u32>,
    ) {
        for (broker, replica) in groups {
            for key in keys.clone() {
                let (broker, replica) = (broker.clone(), *replica);
                let ask = Ask {
                    round,
                    broker,
                    replica,
                    key,
                };
                self.asks.push(ask);
            }
        }
    }

    fn send_more(&mut self, ctx: &mut Context<'_>) {
        let in_flight = |pending: &BTreeMap<RequestId, Pending>| {
            pending
                .values()
                .filter(|p| matches!(p, Pending::Ask(_)))
                .count()
        };
        while in_flight(&self.pending) < WINDOW && self.next_ask < self.asks.len() {
            let ask = &self.asks[self.next_ask];
            let request = Request::QueryMessage {
                topic: self.rounds[ask.round].topic().to_string(),
                key: key_name(ask.key),
                max_num: MAX_QUERY as u32,
                begin_ms: 0,
                end_ms: u64::MAX,
            };
            let id = ctx.request(ask.replica, request, QUERY_TIMEOUT_MS);
            self.pending.insert(id, Pending::Ask(self.next_ask));
            self.next_ask += 1;
        }
    }

    fn on_answer(
        &mut self,
        ctx: &mut Context<'_>,
        index: usize,
        result: Result<Response, RpcError>,
    ) {
        let ask = self.asks[index].clone();
        let key = key_name(ask.key);
        let records = match result {
            Ok(Response {
                body: ResponseBody::Records(records),
                ..
            }) => records,
            Ok(Response {
                code: ResponseCode::QueryNotFound,
                ..
            }) => Vec::new(),
            _ => return self.send_more(ctx),
        };
        let capped = records.len() >= MAX_QUERY;
        let has_key = |m: &StoredMessage| {
            (m.property(property::KEYS)).is_some_and(|keys| keys.split(' ').any(|k| k == key))
        };
        let found: Vec<StoredMessage> = (records.iter())
            .filter_map(|bytes| record::decode(bytes))
            .filter(has_key)
            .collect();
        let round = &self.rounds[ask.round];
        match &round.call {
            OperatorCall::ConsumeDirectly(direct) => {
                let direct = direct.clone();
                for msg in found {
                    self.consume_directly(ctx, (ask.round, &ask), &direct, &msg);
                }
            }
            _ => ctx.emit(Event::KeysQueried {
                asked: round.at,
                broker: ask.broker.clone(),
                replica: ask.replica,
                topic: round.topic().to_string(),
                key,
                found: found.iter().filter_map(StoredMessage::message_id).collect(),
                capped,
            }),
        }
        self.send_more(ctx);
    }

    /// CONSUME_MESSAGE_DIRECTLY of a record found, through the broker that answered.
    fn consume_directly(
        &mut self,
        ctx: &mut Context<'_>,
        (round, ask): (usize, &Ask),
        direct: &crate::fault::redeliver::DirectConsume,
        msg: &StoredMessage,
    ) {
        let Some(id) = msg.message_id() else {
            return;
        };
        let call = ConsumeDirectly {
            group: direct.group.clone(),
            client_id: direct.client.clone(),
            commit_log_offset: msg.commit_log_offset,
            broker_name: None,
            record: None,
        };
        ctx.emit(Event::DirectConsumeAsked {
            group: direct.group.clone(),
            client: direct.client.clone(),
            id,
        });
        let request = Request::ConsumeMessageDirectly(call);
        let request_id = ctx.request(ask.replica, request, DIRECT_TIMEOUT_MS);
        let broker = ask.broker.clone();
        (self.pending).insert(request_id, Pending::Direct { round, broker, id });
    }

    /// A broker's answer to a reset: the offsets it sent the group's consumers.
    fn on_reset(
        &mut self,
        ctx: &mut Context<'_>,
        (round, broker): (usize, String),
        result: Result<Response, RpcError>,
    ) {
        let Ok(Response {
            body: ResponseBody::ResetOffsets(table),
            ..
        }) = result
        else {
            return;
        };
        let spec = &self.rounds[round];
        let OperatorCall::ResetOffset(reset) = &spec.call else {
            return;
        };
        ctx.emit(Event::OffsetsReset {
            asked: spec.at,
            broker,
            group: reset.group.clone(),
            topic: reset.topic.clone(),
            timestamp_ms: Some(spec.reset_timestamp_ms()),
            offsets: table.iter().map(|(q, o)| (q.queue_id, *o)).collect(),
        });
    }

    /// A client's answer to a direct consumption, relayed by its broker.
    fn on_direct(
        &mut self,
        ctx: &mut Context<'_>,
        (round, broker, id): (usize, String, MessageId),
        result: Result<Response, RpcError>,
    ) {
        let spec = &self.rounds[round];
        let OperatorCall::ConsumeDirectly(direct) = &spec.call else {
            return;
        };
        let consumed = match result {
            Ok(Response {
                body: ResponseBody::ConsumedDirectly { consumed },
                ..
            }) => Some(consumed),
            _ => None,
        };
        ctx.emit(Event::ConsumedDirectly {
            asked: spec.at,
            broker,
            group: direct.group.clone(),
            client: direct.client.clone(),
            id,
            consumed,
        });
    }
}

impl Node for Operator {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        // Rounds already past (a restart) are not made again.
        for (round, spec) in self.rounds.iter().enumerate() {
            if spec.at >= ctx.now() {
                let delay = spec.at.ms_since(ctx.now());
                ctx.set_timer(delay, app_timer(App::Query(round as u32)));
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, _request: Request) {
        ctx.not_supported(inbound);
    }

    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        match self.pending.remove(&id) {
            Some(Pending::Route(round)) => {
                let routes = match result {
                    Ok(Response {
                        body: ResponseBody::Route(route),
                        ..
                    }) => vec![route],
                    _ => Vec::new(),
                };
                self.call_each(ctx, round, routes);
            }
            Some(Pending::Ask(index)) => self.on_answer(ctx, index, result),
            Some(Pending::Reset { round, broker }) => self.on_reset(ctx, (round, broker), result),
            Some(Pending::Direct { round, broker, id }) => {
                self.on_direct(ctx, (round, broker, id), result)
            }
            None => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        if let Timer::App(code) = timer
            && let Some(App::Query(round)) = App::decode(code)
        {
            self.begin(ctx, round as usize);
        }
    }

    fn on_flushed(&mut self, _ctx: &mut Context<'_>, _flush: model::disk::FlushId) {}
}

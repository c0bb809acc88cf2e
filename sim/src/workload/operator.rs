//! The operator: an admin tool on its own machine that looks messages up by key while the
//! cluster runs (`query-keys` faults), as `mqadmin queryMsgByKey` does
//! (`MQAdminImpl.queryMessage`): it asks a name server for the topic's route, then sends
//! QUERY_MESSAGE for each key to each broker group's master (else a slave:
//! `BrokerData.selectBrokerAddr`), over the whole time range, at most `MAX_QUERY` records.
//! The broker's index matches by hash, so the tool keeps only the records whose `KEYS` hold
//! the key, and reports each answer (`KeysQueried`). A query nobody answers is reported by
//! nothing: the checker judges only answers.

use super::producer::key_name;
use super::roles::{self, GroupReplicas};
use super::{App, app_timer};
use model::broker::store::index::MAX_QUERY;
use model::broker::store::record;
use model::event::Event;
use model::ids::{NodeId, RequestId};
use model::message::property;
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::{Request, Response, ResponseBody, ResponseCode};
use model::timer::Timer;
use model::{MessageId, Time};
use std::collections::BTreeMap;

const QUERY_TIMEOUT_MS: u64 = 3_000;
/// Queries in flight at once.
const WINDOW: usize = 16;

/// One round of queries the operator makes, at its time.
#[derive(Clone, Debug)]
pub struct KeyQuery {
    pub at: Time,
    pub topic: String,
    /// The keys to look up: the producers' `key-0` to `key-{keys - 1}`.
    pub keys: u32,
    /// The broker groups to ask, with their nodes.
    pub brokers: Vec<GroupReplicas>,
}

/// One QUERY_MESSAGE to send: the query round, the broker group, its node, the key.
#[derive(Clone, Debug)]
struct Ask {
    round: usize,
    broker: String,
    replica: NodeId,
    key: u32,
}

pub struct Operator {
    name_servers: Vec<NodeId>,
    rounds: Vec<KeyQuery>,
    /// Requests in flight: a route (its round), or an ask.
    pending: BTreeMap<RequestId, Pending>,
    asks: Vec<Ask>,
    next_ask: usize,
}

#[derive(Copy, Clone, Debug)]
enum Pending {
    Route(usize),
    Ask(usize),
}

impl Operator {
    pub fn new(name_servers: Vec<NodeId>, rounds: Vec<KeyQuery>) -> Operator {
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
            return self.ask_each(ctx, round, Vec::new());
        };
        let topic = self.rounds[round].topic.clone();
        let request = Request::GetRouteInfoByTopic { topic };
        let id = ctx.request(name_server, request, QUERY_TIMEOUT_MS);
        self.pending.insert(id, Pending::Route(round));
    }

    /// Every key of the round to each group's current master (as the route says).
    fn ask_each(
        &mut self,
        ctx: &mut Context<'_>,
        round: usize,
        routes: Vec<model::protocol::route::TopicRouteData>,
    ) {
        let query = &self.rounds[round];
        let Ok(masters) = roles::current_masters(&routes, &query.brokers) else {
            return;
        };
        for (group, replica) in query.brokers.iter().zip(masters) {
            for key in 0..query.keys {
                self.asks.push(Ask {
                    round,
                    broker: group.broker.clone(),
                    replica,
                    key,
                });
            }
        }
        self.send_more(ctx);
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
                topic: self.rounds[ask.round].topic.clone(),
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
        let ask = &self.asks[index];
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
        let found = records
            .iter()
            .filter_map(|bytes| record::decode(bytes))
            .filter(|m| {
                (m.property(property::KEYS)).is_some_and(|keys| keys.split(' ').any(|k| k == key))
            })
            .filter_map(|m| {
                m.property(property::UNIQ_KEY)
                    .and_then(MessageId::from_uniq_key)
            })
            .collect();
        ctx.emit(Event::KeysQueried {
            asked: self.rounds[ask.round].at,
            broker: ask.broker.clone(),
            replica: ask.replica,
            topic: self.rounds[ask.round].topic.clone(),
            key,
            found,
            capped,
        });
        self.send_more(ctx);
    }
}

impl Node for Operator {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        // Rounds already past (a restart) are not made again.
        for (round, query) in self.rounds.iter().enumerate() {
            if query.at >= ctx.now() {
                let delay = query.at.ms_since(ctx.now());
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
                self.ask_each(ctx, round, routes);
            }
            Some(Pending::Ask(index)) => self.on_answer(ctx, index, result),
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

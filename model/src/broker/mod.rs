//! The broker (`BrokerController`): registers with the name servers and serves its store.
//!
//! Map: [`config`] (settings and deliberate defects), [`store`] (CommitLog, ConsumeQueues,
//! flush, recovery), `send` (SEND_MESSAGE), `pull` (PULL_MESSAGE and offset queries).

pub mod config;
mod pull;
mod send;
pub mod store;

pub use config::{BrokerBugs, BrokerConfig, BrokerRole, FlushDiskType, StoreConfig};

use crate::disk::FlushId;
use crate::ids::{NodeId, RequestId};
use crate::node::{Context, Inbound, Node, RpcError};
use crate::protocol::{RegisterBroker, Request, Response, ResponseBody, ResponseCode};
use crate::timer::Timer;
use send::WaitingSend;
use std::collections::BTreeMap;
use store::{MessageStore, StoreSettings, StoreTimer};

/// The first periodic registration runs this long after start.
const REGISTER_INITIAL_DELAY_MS: u64 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerTimer {
    /// `registerBrokerAll` to every name server.
    RegisterAll,
    Store(StoreTimer),
    /// The sync flush of a waiting send is overdue.
    FlushTimeout(u64),
}

#[derive(Clone, Debug)]
enum Pending {
    Register,
}

pub struct Broker {
    config: BrokerConfig,
    pending: BTreeMap<RequestId, Pending>,
    /// The master's address as the name servers last told this slave.
    master_addr: Option<NodeId>,
    store: Option<MessageStore>,
    waiting_sends: BTreeMap<u64, WaitingSend>,
    next_wait: u64,
}

impl Broker {
    pub fn new(config: BrokerConfig) -> Broker {
        Broker {
            config,
            pending: BTreeMap::new(),
            master_addr: None,
            store: None,
            waiting_sends: BTreeMap::new(),
            next_wait: 0,
        }
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    pub fn store(&self) -> Option<&MessageStore> {
        self.store.as_ref()
    }

    fn register_all(&mut self, ctx: &mut Context<'_>) {
        for name_server in self.config.name_servers.clone() {
            let request = Request::RegisterBroker(RegisterBroker {
                cluster: self.config.cluster.clone(),
                broker_name: self.config.broker_name.clone(),
                broker_id: self.config.broker_id,
                ha_addr: ctx.me(),
                topics: self.config.topics.clone(),
            });
            let id = ctx.request(name_server, request, self.config.register_broker_timeout_ms);
            self.pending.insert(id, Pending::Register);
        }
    }
}

impl Node for Broker {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        let settings = StoreSettings {
            broker_name: self.config.broker_name.clone(),
            store_host: ctx.me(),
            config: self.config.store.clone(),
            flush_disk_type: self.config.flush_disk_type,
            is_slave: !self.config.role.is_master(),
            bugs: self.config.bugs.clone(),
        };
        let store = MessageStore::open(ctx, settings).unwrap_or_else(|err| {
            panic!(
                "{}: the store does not load: {err}",
                self.config.broker_name
            )
        });
        self.store = Some(store);
        self.register_all(ctx);
        ctx.set_timer(
            REGISTER_INITIAL_DELAY_MS,
            Timer::Broker(BrokerTimer::RegisterAll),
        );
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request) {
        match request {
            Request::SendMessage(send) => self.handle_send(ctx, inbound, send),
            Request::PullMessage(pull) => self.handle_pull(ctx, inbound, pull),
            Request::GetMaxOffset { topic, queue_id } => {
                self.handle_offset_query(ctx, inbound, &topic, queue_id, true)
            }
            Request::GetMinOffset { topic, queue_id } => {
                self.handle_offset_query(ctx, inbound, &topic, queue_id, false)
            }
            _ => ctx.respond(
                inbound,
                Response::error(ResponseCode::RequestCodeNotSupported),
            ),
        }
    }

    fn on_response(
        &mut self,
        _ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        let Some(Pending::Register) = self.pending.remove(&id) else {
            return;
        };
        if let Ok(Response {
            body: ResponseBody::Register(result),
            ..
        }) = result
            && result.master_addr.is_some()
        {
            self.master_addr = result.master_addr;
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        let Timer::Broker(timer) = timer else { return };
        match timer {
            BrokerTimer::RegisterAll => {
                self.register_all(ctx);
                ctx.set_timer(
                    self.config.register_name_server_period_ms,
                    Timer::Broker(BrokerTimer::RegisterAll),
                );
            }
            BrokerTimer::Store(timer) => {
                if let Some(store) = &mut self.store {
                    store.on_timer(ctx, timer);
                }
            }
            BrokerTimer::FlushTimeout(id) => self.flush_timed_out(ctx, id),
        }
    }

    fn on_flushed(&mut self, ctx: &mut Context<'_>, flush: FlushId) {
        let Some(store) = &mut self.store else { return };
        if store.on_flushed(ctx, flush) {
            self.release_flushed_sends(ctx);
        }
    }
}

//! The name server (`NamesrvController`): an independent node that shares no state with its
//! peers. Brokers register with every name server every 30 s; a scan every 10 s drops brokers
//! silent for 120 s; a closed broker connection drops that broker at once.

mod route_info;

pub use route_info::{BROKER_CHANNEL_EXPIRED_MS, RemovedBroker, RouteInfo};

use crate::event::Event;
use crate::ids::{NodeId, RequestId};
use crate::node::{Context, Inbound, Node, RpcError};
use crate::protocol::{Request, Response, ResponseBody, ResponseCode};
use crate::timer::Timer;

/// First scan after start (`scheduleAtFixedRate(scanNotActiveBroker, 5, 10, SECONDS)`).
pub const SCAN_INITIAL_DELAY_MS: u64 = 5_000;
pub const SCAN_INTERVAL_MS: u64 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameServerTimer {
    ScanNotActiveBroker,
}

#[derive(Debug, Default)]
pub struct NameServer {
    routes: RouteInfo,
    /// The deliberate defect `never_expire_brokers`: the 10 s scan drops nobody.
    never_expire: bool,
}

impl NameServer {
    pub fn new() -> NameServer {
        NameServer::default()
    }

    /// With the deliberate defect `never_expire_brokers` switched on or off.
    pub fn never_expiring(self, never_expire: bool) -> NameServer {
        NameServer {
            never_expire,
            ..self
        }
    }

    fn emit_removed(ctx: &mut Context<'_>, removed: RemovedBroker) {
        ctx.emit(Event::BrokerRemoved {
            broker: removed.broker_name,
            broker_id: removed.broker_id,
            addr: removed.addr,
            reason: removed.reason,
            last_update: removed.last_update,
        });
    }
}

impl Node for NameServer {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        // The tables live in memory only: a restarted name server starts empty.
        self.routes = RouteInfo::default();
        ctx.set_timer(
            SCAN_INITIAL_DELAY_MS,
            Timer::NameServer(NameServerTimer::ScanNotActiveBroker),
        );
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request) {
        let response = match request {
            Request::RegisterBroker(register) => {
                let (result, first) = self.routes.register(ctx.now(), inbound.from, &register);
                if first {
                    ctx.emit(Event::BrokerRegistered {
                        broker: register.broker_name,
                        broker_id: register.broker_id,
                        addr: inbound.from,
                    });
                }
                Response::success(ResponseBody::Register(result))
            }
            Request::GetRouteInfoByTopic { topic } => match self.routes.route(&topic) {
                Some(route) => Response::success(ResponseBody::Route(route)),
                None => Response::error(ResponseCode::TopicNotExist),
            },
            _ => Response::error(ResponseCode::RequestCodeNotSupported),
        };
        ctx.respond(inbound, response);
    }

    fn on_response(&mut self, _: &mut Context<'_>, _: RequestId, _: Result<Response, RpcError>) {}

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        if timer == Timer::NameServer(NameServerTimer::ScanNotActiveBroker) {
            if !self.never_expire {
                for removed in self.routes.scan_not_active(ctx.now()) {
                    Self::emit_removed(ctx, removed);
                }
            }
            ctx.set_timer(SCAN_INTERVAL_MS, timer);
        }
    }

    fn on_connection_closed(&mut self, ctx: &mut Context<'_>, peer: NodeId) {
        if let Some(removed) = self.routes.on_channel_destroy(peer) {
            Self::emit_removed(ctx, removed);
        }
    }
}

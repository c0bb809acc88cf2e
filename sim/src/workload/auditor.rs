//! The auditor: after the drain, reads every queue of every broker group back from its first
//! offset and records each message it finds. The checker's "stored at the end" is this.

use super::{App, app_timer};
use model::broker::store::record;
use model::disk::FlushId;
use model::event::Event;
use model::ids::{NodeId, RequestId};
use model::message::property;
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::{PullMessage, Request, Response, ResponseBody, ResponseCode};
use model::timer::Timer;
use std::collections::BTreeMap;

const PULL_BATCH: u32 = 32;
const PULL_TIMEOUT_MS: u64 = 3_000;
const RETRY_DELAY_MS: u64 = 1_000;
/// Failed pulls of one queue before the auditor gives up on it.
const MAX_FAILURES: u32 = 20;

/// A queue to read back, on one broker group.
#[derive(Clone, Debug)]
pub struct AuditTarget {
    pub broker: String,
    /// The replicas to read from, best first (the master).
    pub nodes: Vec<NodeId>,
    pub topic: String,
    pub queue_id: u32,
}

#[derive(Debug)]
struct QueueState {
    target: AuditTarget,
    offset: u64,
    failures: u32,
    done: bool,
}

pub struct Auditor {
    queues: Vec<QueueState>,
    pending: BTreeMap<RequestId, usize>,
    finished: bool,
}

impl Auditor {
    pub fn new(targets: Vec<AuditTarget>) -> Auditor {
        Auditor {
            queues: targets
                .into_iter()
                .map(|target| QueueState {
                    target,
                    offset: 0,
                    failures: 0,
                    done: false,
                })
                .collect(),
            pending: BTreeMap::new(),
            finished: false,
        }
    }

    fn pull(&mut self, ctx: &mut Context<'_>, index: usize) {
        let queue = &self.queues[index];
        let node = queue.target.nodes[queue.failures as usize % queue.target.nodes.len()];
        let request = Request::PullMessage(PullMessage {
            group: "auditor".to_string(),
            topic: queue.target.topic.clone(),
            queue_id: queue.target.queue_id,
            queue_offset: queue.offset,
            max_msg_nums: PULL_BATCH,
            commit_offset: None,
            suspend_timeout_ms: 0,
        });
        let id = ctx.request(node, request, PULL_TIMEOUT_MS);
        self.pending.insert(id, index);
    }

    fn fail(&mut self, ctx: &mut Context<'_>, index: usize, error: String) {
        let queue = &mut self.queues[index];
        queue.failures += 1;
        if queue.failures >= MAX_FAILURES {
            queue.done = true;
            ctx.emit(Event::ReadBackFailed {
                broker: queue.target.broker.clone(),
                topic: queue.target.topic.clone(),
                queue_id: queue.target.queue_id,
                error,
            });
            self.check_done(ctx);
        } else {
            ctx.set_timer(RETRY_DELAY_MS, app_timer(App::RetryQueue(index as u32)));
        }
    }

    fn check_done(&mut self, ctx: &mut Context<'_>) {
        if !self.finished && self.queues.iter().all(|q| q.done) {
            self.finished = true;
            ctx.emit(Event::ReadBackDone {
                queues: self.queues.len() as u32,
            });
        }
    }
}

impl Node for Auditor {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        for index in 0..self.queues.len() {
            self.pull(ctx, index);
        }
        self.check_done(ctx);
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, _request: Request) {
        ctx.respond(
            inbound,
            Response::error(ResponseCode::RequestCodeNotSupported),
        );
    }

    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        let Some(index) = self.pending.remove(&id) else {
            return;
        };
        let response = match result {
            Ok(response) => response,
            Err(error) => return self.fail(ctx, index, error.to_string()),
        };
        let ResponseBody::Pull(pull) = response.body else {
            return self.fail(ctx, index, format!("answer {}", response.code));
        };
        let queue = &mut self.queues[index];
        match response.code {
            ResponseCode::Success => {
                for bytes in &pull.messages {
                    let Some(message) = record::decode(bytes) else {
                        continue;
                    };
                    ctx.emit(Event::ReadBack {
                        broker: queue.target.broker.clone(),
                        topic: message.topic.clone(),
                        queue_id: message.queue_id,
                        queue_offset: message.queue_offset,
                        commit_log_offset: message.commit_log_offset,
                        id: message.message_id(),
                        key: message.property(property::KEYS).map(str::to_string),
                        size: bytes.len() as u32,
                        body_crc: crc32fast::hash(&message.body),
                    });
                }
                queue.offset = pull.next_begin_offset;
                queue.failures = 0;
                self.pull(ctx, index);
            }
            ResponseCode::PullRetryImmediately => {
                queue.offset = pull.next_begin_offset.max(queue.offset);
                self.pull(ctx, index);
            }
            ResponseCode::PullOffsetMoved if pull.next_begin_offset > queue.offset => {
                queue.offset = pull.next_begin_offset;
                self.pull(ctx, index);
            }
            ResponseCode::PullNotFound | ResponseCode::PullOffsetMoved => {
                queue.done = true;
                self.check_done(ctx);
            }
            other => self.fail(ctx, index, format!("answer {other}")),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        if let Timer::App(code) = timer
            && let Some(App::RetryQueue(index)) = App::decode(code)
        {
            self.pull(ctx, index as usize);
        }
    }

    fn on_flushed(&mut self, _ctx: &mut Context<'_>, _flush: FlushId) {}
}

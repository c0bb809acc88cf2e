//! The auditor: after the drain, waits until every clustering consumer group has consumed
//! everything (what `mqadmin consumerProgress` shows), then reads every queue of every broker
//! group back from its first offset and records each message it finds. The checker's "stored
//! at the end" is this.

use super::{App, app_timer};
use model::broker::store::record;
use model::disk::FlushId;
use model::event::Event;
use model::ids::{NodeId, RequestId};
use model::message::property;
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::route::retry_topic;
use model::protocol::{PullMessage, Request, Response, ResponseBody, ResponseCode};
use model::timer::Timer;
use std::collections::BTreeMap;

const PULL_BATCH: u32 = 32;
const PULL_TIMEOUT_MS: u64 = 3_000;
const RETRY_DELAY_MS: u64 = 1_000;
/// Failed pulls of one queue before the auditor gives up on it.
const MAX_FAILURES: u32 = 20;
/// How often consumer progress is polled while waiting for the drain.
const WATCH_INTERVAL_MS: u64 = 1_000;
/// Rounds in a row that must find everything consumed.
const CLEAN_ROUNDS: u32 = 2;

/// The consumer groups to wait for, and where to ask.
#[derive(Clone, Debug, Default)]
pub struct Watched {
    pub masters: Vec<NodeId>,
    /// (group, topic) of every clustering group.
    pub groups: Vec<(String, String)>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Pending {
    Pull(usize),
    Progress,
}

/// A queue to read back, on one broker group.
#[derive(Clone, Debug)]
pub struct AuditTarget {
    pub broker: String,
    /// The replica to read (master or slave): every replica is read.
    pub node: NodeId,
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
    pending: BTreeMap<RequestId, Pending>,
    finished: bool,
    watched: Watched,
    /// The current watch round: answers outstanding, and whether all said "caught up".
    outstanding: usize,
    caught_up: bool,
    clean_rounds: u32,
}

impl Auditor {
    pub fn new(targets: Vec<AuditTarget>, watched: Watched) -> Auditor {
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
            watched,
            outstanding: 0,
            caught_up: true,
            clean_rounds: 0,
        }
    }

    /// One round of progress queries to every master.
    fn watch_round(&mut self, ctx: &mut Context<'_>) {
        self.caught_up = true;
        let mut requests = Vec::new();
        for master in &self.watched.masters {
            for (group, topic) in &self.watched.groups {
                for topic in [topic.clone(), retry_topic(group)] {
                    let request = Request::GetConsumeStats {
                        group: group.clone(),
                        topic,
                    };
                    requests.push((*master, request));
                }
            }
            requests.push((*master, Request::GetBrokerRuntimeInfo));
        }
        self.outstanding = requests.len();
        for (to, request) in requests {
            let id = ctx.request(to, request, PULL_TIMEOUT_MS);
            self.pending.insert(id, Pending::Progress);
        }
    }

    fn on_progress(&mut self, ctx: &mut Context<'_>, result: Result<Response, RpcError>) {
        let caught_up = match result {
            Ok(Response {
                body: ResponseBody::ConsumeStats(queues),
                ..
            }) => queues.iter().all(|q| q.consumer_offset >= q.broker_offset),
            Ok(Response {
                body: ResponseBody::RuntimeInfo(info),
                ..
            }) => info.schedule_backlog == 0,
            // A retry topic nobody created yet holds nothing.
            Ok(Response {
                code: ResponseCode::TopicNotExist,
                ..
            }) => true,
            _ => false,
        };
        self.caught_up &= caught_up;
        self.outstanding -= 1;
        if self.outstanding > 0 {
            return;
        }
        self.clean_rounds = if self.caught_up {
            self.clean_rounds + 1
        } else {
            0
        };
        if self.clean_rounds >= CLEAN_ROUNDS {
            ctx.emit(Event::ConsumersCaughtUp);
            self.read_back(ctx);
        } else {
            ctx.set_timer(WATCH_INTERVAL_MS, app_timer(App::Watch));
        }
    }

    fn read_back(&mut self, ctx: &mut Context<'_>) {
        for index in 0..self.queues.len() {
            self.pull(ctx, index);
        }
        self.check_done(ctx);
    }

    fn pull(&mut self, ctx: &mut Context<'_>, index: usize) {
        let queue = &self.queues[index];
        let node = queue.target.node;
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
        self.pending.insert(id, Pending::Pull(index));
    }

    fn fail(&mut self, ctx: &mut Context<'_>, index: usize, error: String) {
        let queue = &mut self.queues[index];
        queue.failures += 1;
        if queue.failures >= MAX_FAILURES {
            queue.done = true;
            ctx.emit(Event::ReadBackFailed {
                broker: queue.target.broker.clone(),
                replica: queue.target.node,
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
        if self.watched.groups.is_empty() {
            self.read_back(ctx);
        } else {
            self.watch_round(ctx);
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
        let index = match self.pending.remove(&id) {
            Some(Pending::Pull(index)) => index,
            Some(Pending::Progress) => return self.on_progress(ctx, result),
            None => return,
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
                        replica: queue.target.node,
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
                // A slave does not correct offsets: below its first entry, start there.
                let next = pull
                    .next_begin_offset
                    .max(queue.offset)
                    .max(pull.min_offset);
                if next == queue.offset {
                    return self.fail(ctx, index, "no progress".to_string());
                }
                queue.offset = next;
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
        if let Timer::App(code) = timer {
            match App::decode(code) {
                Some(App::RetryQueue(index)) => self.pull(ctx, index as usize),
                Some(App::Watch) => self.watch_round(ctx),
                _ => {}
            }
        }
    }

    fn on_flushed(&mut self, _ctx: &mut Context<'_>, _flush: FlushId) {}
}

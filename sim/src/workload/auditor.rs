//! The auditor: after the drain, waits until every clustering consumer group has consumed
//! everything (what `mqadmin consumerProgress` shows), then reads every queue of every broker
//! group back from its first offset and records each message it finds. The checker's "stored
//! at the end" is this.
//!
//! Each look at the progress first asks the name servers who each group's master is now
//! (see `roles`): an operator may have promoted a slave and demoted the declared master.
//!
//! Each record is reported with the ConsumeQueue entry it was found through, so that the
//! checker can compare the entry with the queue and offset the record carries. A pull answers
//! the records of consecutive entries, skipping entries whose record the broker cannot read;
//! when a batch holds fewer records than the entries it covers, the auditor reads that range
//! again one entry per pull, and reports the entries that led to no record.
//!
//! With `query_index`, once every queue is read it looks each record up by its `UNIQ_KEY`
//! (QUERY_MESSAGE) on the replica it was read from, and reports whether the answer held it
//! (`IndexLookup`); the read-back is done when every lookup is answered or failed.

use super::roles::{self, GroupReplicas};
use super::{App, app_timer};
use model::broker::store::record;
use model::disk::FlushId;
use model::event::{Event, QueueEntry};
use model::ids::{NodeId, RequestId};
use model::message::property;
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::route::{TopicRouteData, retry_topic};
use model::protocol::{
    PullMessage, PullResult, QueueProgress, Request, Response, ResponseBody, ResponseCode,
};
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
    /// Asked for the routes of `topics`, to find each group's current master.
    pub name_servers: Vec<NodeId>,
    pub topics: Vec<String>,
    /// Every broker group, with the nodes to ask if no route names it.
    pub brokers: Vec<GroupReplicas>,
    /// (group, topic) of every clustering group.
    pub groups: Vec<(String, String)>,
    /// Transactional producers: wait until every master's check has passed every half
    /// message, even with no group to wait for.
    pub transactions: bool,
    /// Look every record read back up by its key before the read-back is done.
    pub query_index: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Pending {
    Pull(usize),
    /// The route of a topic (its index in `watched.topics`).
    Route(usize),
    /// A group's progress on a topic (its index in `watched.groups`), or the runtime info.
    Progress(Option<usize>),
    /// A record's key looked up (its index in `lookups`).
    Lookup(usize),
}

/// A record read back, to be looked up by its key once every queue is read.
#[derive(Clone, Debug)]
struct Lookup {
    broker: String,
    replica: NodeId,
    topic: String,
    uniq_key: String,
}

/// Lookups in flight at once.
const LOOKUP_WINDOW: usize = 16;

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
    /// Below this offset, pulls ask for one entry each (a batch here skipped some).
    single_until: u64,
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
    /// The routes the current round's name servers answered, and each one's topic (its index
    /// in `watched.topics`).
    routes: Vec<TopicRouteData>,
    route_topics: Vec<usize>,
    /// The progress the current round saw: (group, queue).
    progress: Vec<(String, QueueProgress)>,
    /// The records to look up by key, the next to ask, and the answers outstanding.
    lookups: Vec<Lookup>,
    next_lookup: usize,
    lookups_out: usize,
}

impl Auditor {
    pub fn new(targets: Vec<AuditTarget>, watched: Watched) -> Auditor {
        Auditor {
            queues: targets
                .into_iter()
                .map(|target| QueueState {
                    target,
                    offset: 0,
                    single_until: 0,
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
            routes: Vec::new(),
            route_topics: Vec::new(),
            progress: Vec::new(),
            lookups: Vec::new(),
            next_lookup: 0,
            lookups_out: 0,
        }
    }

    /// One round: the routes of every topic from every name server, then progress queries
    /// to each group's current master.
    fn watch_round(&mut self, ctx: &mut Context<'_>) {
        self.caught_up = true;
        self.routes.clear();
        self.route_topics.clear();
        self.progress.clear();
        if self.watched.name_servers.is_empty() {
            return self.ask_progress(ctx, Ok(Vec::new()));
        }
        let mut requests = Vec::new();
        for name_server in &self.watched.name_servers {
            for (index, topic) in self.watched.topics.iter().enumerate() {
                let request = Request::GetRouteInfoByTopic {
                    topic: topic.clone(),
                };
                requests.push((*name_server, index, request));
            }
        }
        self.outstanding = requests.len();
        for (to, index, request) in requests {
            let id = ctx.request(to, request, PULL_TIMEOUT_MS);
            self.pending.insert(id, Pending::Route(index));
        }
    }

    fn on_route(
        &mut self,
        ctx: &mut Context<'_>,
        topic: usize,
        result: Result<Response, RpcError>,
    ) {
        // No answer (a topic no broker hosts yet, or a name server down): the others may know.
        if let Ok(Response {
            body: ResponseBody::Route(route),
            ..
        }) = result
        {
            self.routes.push(route);
            self.route_topics.push(topic);
        }
        self.outstanding -= 1;
        if self.outstanding == 0 {
            let masters = roles::current_masters(&self.routes, &self.watched.brokers);
            self.ask_progress(ctx, masters);
        }
    }

    fn ask_progress(&mut self, ctx: &mut Context<'_>, masters: Result<Vec<NodeId>, String>) {
        let masters = match masters {
            Ok(masters) if !masters.is_empty() => masters,
            Ok(_) => self
                .watched
                .brokers
                .iter()
                .filter_map(|b| b.nodes.first().copied())
                .collect(),
            Err(_) => return self.end_round(ctx, false),
        };
        let mut requests = Vec::new();
        for master in &masters {
            for (index, (group, topic)) in self.watched.groups.iter().enumerate() {
                for topic in [topic.clone(), retry_topic(group)] {
                    let request = Request::GetConsumeStats {
                        group: group.clone(),
                        topic,
                    };
                    requests.push((*master, request, Some(index)));
                }
            }
            requests.push((*master, Request::GetBrokerRuntimeInfo, None));
        }
        self.outstanding = requests.len();
        for (to, request, group) in requests {
            let id = ctx.request(to, request, PULL_TIMEOUT_MS);
            self.pending.insert(id, Pending::Progress(group));
        }
    }

    fn on_progress(
        &mut self,
        ctx: &mut Context<'_>,
        group: Option<usize>,
        result: Result<Response, RpcError>,
    ) {
        let caught_up = match result {
            Ok(Response {
                body: ResponseBody::ConsumeStats(queues),
                ..
            }) => {
                let all = queues.iter().all(|q| q.consumer_offset >= q.broker_offset);
                if let Some(index) = group {
                    let name = &self.watched.groups[index].0;
                    self.progress
                        .extend(queues.into_iter().map(|q| (name.clone(), q)));
                }
                all
            }
            Ok(Response {
                body: ResponseBody::RuntimeInfo(info),
                ..
            }) => info.schedule_backlog == 0 && info.transaction_backlog == 0,
            // A retry topic nobody created yet holds nothing.
            Ok(Response {
                code: ResponseCode::TopicNotExist,
                ..
            }) => true,
            _ => false,
        };
        self.caught_up &= caught_up;
        self.outstanding -= 1;
        if self.outstanding == 0 {
            let clean = self.caught_up;
            self.end_round(ctx, clean);
        }
    }

    fn end_round(&mut self, ctx: &mut Context<'_>, clean: bool) {
        self.clean_rounds = if clean { self.clean_rounds + 1 } else { 0 };
        if self.clean_rounds >= CLEAN_ROUNDS {
            for (group, progress) in std::mem::take(&mut self.progress) {
                ctx.emit(Event::ConsumerProgress {
                    group,
                    broker: progress.queue.broker_name,
                    topic: progress.queue.topic,
                    queue_id: progress.queue.queue_id,
                    consumer_offset: progress.consumer_offset,
                    broker_offset: progress.broker_offset,
                });
            }
            ctx.emit(Event::ConsumersCaughtUp);
            self.emit_read_queues(ctx);
            self.read_back(ctx);
        } else {
            ctx.set_timer(WATCH_INTERVAL_MS, app_timer(App::Watch));
        }
    }

    /// What the last round's routes let consumers read: each topic's read queues on each
    /// broker group, as the first name server to answer for it gave them.
    fn emit_read_queues(&mut self, ctx: &mut Context<'_>) {
        let mut seen = std::collections::BTreeSet::new();
        for (topic, route) in self.route_topics.iter().zip(&self.routes) {
            let topic = &self.watched.topics[*topic];
            for queues in &route.queue_datas {
                if !seen.insert((topic.clone(), queues.broker_name.clone())) {
                    continue;
                }
                ctx.emit(Event::ReadQueues {
                    topic: topic.clone(),
                    broker: queues.broker_name.clone(),
                    read_queue_nums: queues.read_queue_nums,
                    readable: model::protocol::route::perm::is_readable(queues.perm),
                });
            }
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
            max_msg_nums: if queue.offset < queue.single_until {
                1
            } else {
                PULL_BATCH
            },
            commit_offset: None,
            suspend_timeout_ms: 0,
            // Like an admin tool's pull: everything, whatever the tags.
            subscription: Some(model::filter::SUB_ALL.to_string()),
            sub_version: 0,
            audit: true,
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
        if self.finished || !self.queues.iter().all(|q| q.done) {
            return;
        }
        if self.next_lookup < self.lookups.len() || self.lookups_out > 0 {
            return self.look_up(ctx);
        }
        self.finished = true;
        ctx.emit(Event::ReadBackDone {
            queues: self.queues.len() as u32,
        });
    }

    /// Asks for the next keys, up to the window.
    fn look_up(&mut self, ctx: &mut Context<'_>) {
        while self.lookups_out < LOOKUP_WINDOW && self.next_lookup < self.lookups.len() {
            let lookup = &self.lookups[self.next_lookup];
            let request = Request::QueryMessage {
                topic: lookup.topic.clone(),
                key: lookup.uniq_key.clone(),
                max_num: 32,
                begin_ms: 0,
                end_ms: u64::MAX,
            };
            let id = ctx.request(lookup.replica, request, PULL_TIMEOUT_MS);
            self.pending.insert(id, Pending::Lookup(self.next_lookup));
            self.next_lookup += 1;
            self.lookups_out += 1;
        }
    }

    /// A key's answer: whether it held the record (an unanswered lookup tells nothing).
    fn on_lookup(
        &mut self,
        ctx: &mut Context<'_>,
        index: usize,
        result: Result<Response, RpcError>,
    ) {
        self.lookups_out -= 1;
        let lookup = &self.lookups[index];
        let found = match result {
            Ok(Response {
                body: ResponseBody::Records(records),
                ..
            }) => Some(records.iter().any(|bytes| {
                record::decode(bytes)
                    .is_some_and(|m| m.property(property::UNIQ_KEY) == Some(&lookup.uniq_key))
            })),
            Ok(Response {
                code: ResponseCode::QueryNotFound,
                ..
            }) => Some(false),
            _ => None,
        };
        let id = model::MessageId::from_uniq_key(&lookup.uniq_key);
        if let (Some(found), Some(id)) = (found, id) {
            ctx.emit(Event::IndexLookup {
                broker: lookup.broker.clone(),
                replica: lookup.replica,
                id,
                found,
            });
        }
        self.check_done(ctx);
    }
}

impl Auditor {
    /// A pull found records: each is reported with its entry, unless the batch skipped
    /// entries, which are then read again one at a time.
    fn on_records(&mut self, ctx: &mut Context<'_>, index: usize, pull: PullResult) {
        let queue = &mut self.queues[index];
        let from = queue.offset;
        let found = pull.messages.len() as u64;
        let entries = pull.next_begin_offset.saturating_sub(from);
        if from >= queue.single_until && found != entries {
            queue.single_until = pull.next_begin_offset;
            return self.pull(ctx, index);
        }
        // Exact, or a single record: the entries before it led to none.
        let first = pull.next_begin_offset.saturating_sub(found).max(from);
        if first > from {
            emit_no_record(ctx, &queue.target, from, first);
        }
        for (position, bytes) in (first..).zip(&pull.messages) {
            let entry = QueueEntry {
                topic: queue.target.topic.clone(),
                queue_id: queue.target.queue_id,
                offset: position,
            };
            let Some(message) = record::decode(bytes) else {
                emit_no_record(ctx, &queue.target, position, position + 1);
                continue;
            };
            ctx.emit(read_back(&queue.target, entry, bytes, &message));
            let uniq_key = message.property(property::UNIQ_KEY);
            if let (true, Some(uniq_key)) = (self.watched.query_index, uniq_key) {
                self.lookups.push(Lookup {
                    broker: queue.target.broker.clone(),
                    replica: queue.target.node,
                    topic: message.topic.clone(),
                    uniq_key: uniq_key.to_string(),
                });
            }
        }
        queue.offset = pull.next_begin_offset;
        queue.failures = 0;
        self.pull(ctx, index);
    }
}

/// The fact of one record read back through `entry`.
fn read_back(
    target: &AuditTarget,
    entry: QueueEntry,
    bytes: &[u8],
    message: &record::StoredMessage,
) -> Event {
    Event::ReadBack {
        broker: target.broker.clone(),
        replica: target.node,
        entry,
        topic: message.topic.clone(),
        queue_id: message.queue_id,
        queue_offset: message.queue_offset,
        commit_log_offset: message.commit_log_offset,
        id: message.message_id(),
        key: message.property(property::KEYS).map(str::to_string),
        size: bytes.len() as u32,
        body_crc: crc32fast::hash(&message.body),
    }
}

fn emit_no_record(ctx: &mut Context<'_>, target: &AuditTarget, from: u64, to: u64) {
    ctx.emit(Event::ReadBackNoRecord {
        broker: target.broker.clone(),
        replica: target.node,
        topic: target.topic.clone(),
        queue_id: target.queue_id,
        from,
        to,
    });
}

impl Node for Auditor {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        if self.watched.groups.is_empty() && !self.watched.transactions {
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
            Some(Pending::Route(topic)) => return self.on_route(ctx, topic, result),
            Some(Pending::Progress(group)) => return self.on_progress(ctx, group, result),
            Some(Pending::Lookup(index)) => return self.on_lookup(ctx, index, result),
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
            ResponseCode::Success => self.on_records(ctx, index, pull),
            ResponseCode::PullRetryImmediately => {
                // Entries that all led to no record (MESSAGE_WAS_REMOVING, NO_MATCHED_MESSAGE).
                if pull.next_begin_offset > queue.offset && queue.offset >= pull.min_offset {
                    let (from, to) = (queue.offset, pull.next_begin_offset);
                    emit_no_record(ctx, &queue.target, from, to);
                }
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

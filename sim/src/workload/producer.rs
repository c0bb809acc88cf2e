//! The application behind a producer: sends the scenario's messages at its rate, in its mode,
//! through the model's producer, and (if asked) resends a message whose send failed or ended
//! unknown, as applications commonly do; a resend keeps the message id. A transactional
//! producer runs a local transaction after each half message (`transaction`).

use super::transaction::{HalfStored, LocalTransactions, TransactionSpec};
use super::{App, app_timer};
use crate::scenario::schema::SelectorName;
use model::Time;
use model::client::producer::Selector;
use model::client::producer::{Producer, ProducerConfig, SendOutcome};
use model::client::{Client, ClientConfig, Notice};
use model::disk::FlushId;
use model::event::{Event, SendMode, SendStatus};
use model::ids::{MessageId, RequestId};
use model::message::{Message, property};
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::{Request, Response};
use model::timer::Timer;
use std::collections::BTreeMap;

/// Where the application keeps how far it got, so that a restart does not reuse message ids.
const PROGRESS_PATH: &str = "app/next-seq";

#[derive(Clone, Debug)]
pub struct ProducerWorkload {
    pub topic: String,
    pub mode: SendMode,
    pub messages: u32,
    pub interval_ms: u64,
    pub start_ms: u64,
    pub keys: Option<u32>,
    pub selector: crate::scenario::schema::SelectorName,
    /// With the machine-room selector: the broker groups in the producer's room.
    pub room_brokers: std::sync::Arc<[String]>,
    pub body_bytes: u64,
    /// Application-level resends of a failed or unknown send.
    pub app_retries: u32,
    /// This producer's number in message ids.
    pub client: u32,
    /// `delayTimeLevel` of every message.
    pub delay_level: Option<u32>,
    /// With `mode = Transaction`: how its local transactions turn out.
    pub transaction: Option<TransactionSpec>,
    /// The tags messages cycle through (none: no tag).
    pub tags: Vec<String>,
}

pub struct ProducerApp {
    client: Client,
    workload: ProducerWorkload,
    next_seq: u32,
    /// Sends in flight: op -> (seq, resends so far).
    in_flight: BTreeMap<u64, (u32, u32)>,
    /// A sync producer's next send is due but waits for the previous one.
    due: bool,
    /// While a sync producer waits, its send ticker is stopped (a tick would only find the
    /// send still due): the tick it stopped at, whose grid (every `interval_ms`) it resumes on.
    ticker_stopped_at: Option<Time>,
    finished: bool,
    transactions: Option<LocalTransactions>,
    /// A transactional application sends a message once its number is durable, so that a
    /// power loss cannot make it reuse an id its database may know: flush -> seq.
    numbering: BTreeMap<FlushId, u32>,
}

impl ProducerApp {
    pub fn new(
        client_config: ClientConfig,
        producer: ProducerConfig,
        workload: ProducerWorkload,
    ) -> ProducerApp {
        let mut client = Client::new(client_config);
        client.producer = Some(Producer::new(producer));
        let transactions = (workload.transaction.clone())
            .map(|spec| LocalTransactions::new(spec, workload.client));
        ProducerApp {
            transactions,
            numbering: BTreeMap::new(),
            client,
            workload,
            next_seq: 0,
            in_flight: BTreeMap::new(),
            due: false,
            ticker_stopped_at: None,
            finished: false,
        }
    }

    fn message(&self, seq: u32) -> (MessageId, Message, Option<Selector>) {
        let id = MessageId {
            producer: self.workload.client,
            seq,
        };
        let key = self.workload.keys.map(|keys| key_name(seq % keys));
        let mut body = format!("{id} ").into_bytes();
        body.resize(self.workload.body_bytes as usize, b'.');
        let mut message = Message::new(self.workload.topic.clone(), body);
        if let Some(key) = &key {
            message.set_property(property::KEYS, key.clone());
        }
        if let Some(level) = self.workload.delay_level {
            message.set_property(property::DELAY_TIME_LEVEL, level.to_string());
        }
        let tags = &self.workload.tags;
        if !tags.is_empty() {
            let tag = &tags[seq as usize % tags.len()];
            message.set_property(property::TAGS, tag.clone());
        }
        let selector = match self.workload.selector {
            SelectorName::HashKey => key.map(Selector::Hash),
            SelectorName::Random => Some(Selector::Random),
            SelectorName::MachineRoom => {
                Some(Selector::MachineRoom(self.workload.room_brokers.clone()))
            }
            SelectorName::RoundRobin => None,
        };
        (id, message, selector)
    }

    fn send(&mut self, ctx: &mut Context<'_>, seq: u32, resends: u32) {
        let (id, message, shard) = self.message(seq);
        let (op, done) = self
            .client
            .send(ctx, id, message, self.workload.mode, shard);
        self.in_flight.insert(op, (seq, resends));
        if let Some(outcome) = done {
            self.on_done(ctx, op, outcome);
        }
    }

    fn send_next(&mut self, ctx: &mut Context<'_>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        ctx.disk()
            .write(PROGRESS_PATH, 0, &self.next_seq.to_be_bytes());
        if self.transactions.is_some() {
            let flush = ctx.disk().flush(PROGRESS_PATH);
            self.numbering.insert(flush, seq);
            return;
        }
        self.send(ctx, seq, 0);
    }

    fn on_done(&mut self, ctx: &mut Context<'_>, op: u64, outcome: SendOutcome) {
        let Some((seq, resends)) = self.in_flight.remove(&op) else {
            return;
        };
        let failed = !matches!(outcome, SendOutcome::Ok { .. });
        if failed && resends < self.workload.app_retries {
            self.send(ctx, seq, resends + 1);
            return;
        }
        if let (
            Some(transactions),
            SendOutcome::Ok {
                status,
                broker,
                result,
            },
        ) = (&mut self.transactions, outcome)
        {
            let half = HalfStored { broker, result };
            if status == SendStatus::SendOk {
                let took = transactions.begin(ctx, seq, half);
                ctx.set_timer(took, app_timer(App::LocalTransaction(seq)));
            } else {
                transactions.refuse(ctx, seq, half);
            }
        }
        self.next_if_idle(ctx);
    }

    /// Sends the message that is due, once no send (and no local transaction) is in progress.
    fn next_if_idle(&mut self, ctx: &mut Context<'_>) {
        if self.due && self.idle() {
            self.due = false;
            self.send_next(ctx);
            self.restart_ticker(ctx);
        }
        self.check_finished(ctx);
    }

    /// Restarts a stopped send ticker at its next tick after now, on the grid it stopped on.
    fn restart_ticker(&mut self, ctx: &mut Context<'_>) {
        let Some(stopped_at) = self.ticker_stopped_at.take() else {
            return;
        };
        let interval = self.workload.interval_ms.max(1);
        let ticks = ctx.now().ms_since(stopped_at) / interval + 1;
        let next = stopped_at.plus_ms(ticks * interval);
        ctx.set_timer(next.ms_since(ctx.now()), app_timer(App::SendNext));
    }

    /// No send, numbering or local transaction in progress.
    fn idle(&self) -> bool {
        let busy = self.transactions.as_ref().map_or(0, |t| t.in_progress());
        self.in_flight.is_empty() && self.numbering.is_empty() && busy == 0
    }

    fn check_finished(&mut self, ctx: &mut Context<'_>) {
        if !self.finished && self.next_seq >= self.workload.messages && self.idle() {
            self.finished = true;
            ctx.emit(Event::WorkloadFinished {
                messages: self.workload.messages,
            });
        }
    }

    fn notices(&mut self, ctx: &mut Context<'_>, notices: Vec<Notice>) {
        for notice in notices {
            match notice {
                Notice::SendDone { op, outcome } => self.on_done(ctx, op, outcome),
            }
        }
    }
}

impl Node for ProducerApp {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        let saved = ctx.disk().read(PROGRESS_PATH, 0, 4);
        if let Ok(bytes) = <[u8; 4]>::try_from(&*saved) {
            self.next_seq = u32::from_be_bytes(bytes);
        }
        self.client.start(ctx);
        self.client.use_topic(ctx, &self.workload.topic.clone());
        let delay = self.workload.start_ms.saturating_sub(ctx.now().as_ms());
        ctx.set_timer(delay, app_timer(App::SendNext));
        self.check_finished(ctx);
    }

    fn on_shutdown(&mut self, ctx: &mut Context<'_>) {
        self.client.shutdown(ctx);
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request) {
        let (Request::CheckTransactionState(check), Some(transactions)) =
            (&request, &self.transactions)
        else {
            return ctx.not_supported(inbound);
        };
        let Some(id) = MessageId::from_uniq_key(&check.msg_id) else {
            return;
        };
        let state = transactions.check(ctx, id);
        let producer = self.client.producer.as_ref().expect("a producer client");
        producer.answer_check(ctx, inbound.from, check, state);
    }

    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        if let Some(notices) = self.client.on_response(ctx, id, result) {
            self.notices(ctx, notices);
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        match timer {
            Timer::Client(timer) => {
                let notices = self.client.on_timer(ctx, timer);
                self.notices(ctx, notices);
            }
            Timer::App(code) if App::decode(code) == Some(App::SendNext) => {
                if self.next_seq >= self.workload.messages {
                    return;
                }
                if self.workload.mode.is_sync() && !self.idle() {
                    self.due = true;
                    self.ticker_stopped_at = Some(ctx.now());
                    return;
                }
                self.send_next(ctx);
                ctx.set_timer(self.workload.interval_ms, timer);
            }
            Timer::App(code) => {
                if let (Some(App::LocalTransaction(seq)), Some(transactions)) =
                    (App::decode(code), &mut self.transactions)
                {
                    transactions.finish(ctx, seq);
                }
            }
            _ => {}
        }
    }

    /// A message's number is durable: it is sent. A local decision is durable: END_TRANSACTION
    /// goes out, and the next send may follow.
    fn on_flushed(&mut self, ctx: &mut Context<'_>, flush: FlushId) {
        if let Some(seq) = self.numbering.remove(&flush) {
            return self.send(ctx, seq, 0);
        }
        let Some(transactions) = &mut self.transactions else {
            return;
        };
        let Some((seq, half, state)) = transactions.on_flushed(flush) else {
            return;
        };
        let id = MessageId {
            producer: self.workload.client,
            seq,
        };
        let producer = self.client.producer.as_ref().expect("a producer client");
        let stored = (half.broker.as_str(), &half.result);
        producer.end_transaction(ctx, &self.client.core, id, stored, state);
        self.next_if_idle(ctx);
        self.check_finished(ctx);
    }
}

/// The name of key `index` of a producer's `keys` (`key-0`, `key-1`, ...): what its messages
/// carry in `KEYS`, and what the operator looks up.
pub fn key_name(index: u32) -> String {
    format!("key-{index}")
}

//! The application behind a producer: sends the scenario's messages at its rate, in its mode,
//! through the model's producer, and (if asked) resends a message whose send failed or ended
//! unknown, as applications commonly do; a resend keeps the message id.

use super::{App, app_timer};
use model::client::producer::{Producer, ProducerConfig, SendOutcome};
use model::client::{Client, ClientConfig, Notice};
use model::disk::FlushId;
use model::event::{Event, SendMode};
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
    pub hash_selector: bool,
    pub body_bytes: u64,
    /// Application-level resends of a failed or unknown send.
    pub app_retries: u32,
    /// This producer's number in message ids.
    pub client: u32,
}

pub struct ProducerApp {
    client: Client,
    workload: ProducerWorkload,
    next_seq: u32,
    /// Sends in flight: op -> (seq, resends so far).
    in_flight: BTreeMap<u64, (u32, u32)>,
    /// A sync producer's next send is due but waits for the previous one.
    due: bool,
    finished: bool,
}

impl ProducerApp {
    pub fn new(
        client_config: ClientConfig,
        producer: ProducerConfig,
        workload: ProducerWorkload,
    ) -> ProducerApp {
        let mut client = Client::new(client_config);
        client.producer = Some(Producer::new(producer));
        ProducerApp {
            client,
            workload,
            next_seq: 0,
            in_flight: BTreeMap::new(),
            due: false,
            finished: false,
        }
    }

    fn message(&self, seq: u32) -> (MessageId, Message, Option<String>) {
        let id = MessageId {
            producer: self.workload.client,
            seq,
        };
        let key = self.workload.keys.map(|keys| format!("key-{}", seq % keys));
        let mut body = format!("{id} ").into_bytes();
        body.resize(self.workload.body_bytes as usize, b'.');
        let mut message = Message::new(self.workload.topic.clone(), body);
        if let Some(key) = &key {
            message.set_property(property::KEYS, key.clone());
        }
        let shard = key.filter(|_| self.workload.hash_selector);
        (id, message, shard)
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
        if self.due && self.in_flight.is_empty() {
            self.due = false;
            self.send_next(ctx);
        }
        self.check_finished(ctx);
    }

    fn check_finished(&mut self, ctx: &mut Context<'_>) {
        if !self.finished && self.next_seq >= self.workload.messages && self.in_flight.is_empty() {
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

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, _request: Request) {
        ctx.not_supported(inbound);
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
                if self.workload.mode == SendMode::Sync && !self.in_flight.is_empty() {
                    self.due = true;
                } else {
                    self.send_next(ctx);
                }
                ctx.set_timer(self.workload.interval_ms, timer);
            }
            _ => {}
        }
    }

    fn on_flushed(&mut self, _ctx: &mut Context<'_>, _flush: FlushId) {}
}

//! The application behind a push consumer: its listener succeeds, fails with a probability,
//! takes its time, or crashes the process in the middle of a batch (once per instance; a
//! marker on the instance's disk remembers that it did).

use crate::ratio::Ratio;
use crate::scenario::units::MillisRange;
use model::broker::store::record::StoredMessage;
use model::client::consumer::{Consumer, ConsumerConfig, ListenerAnswer, MessageListener};
use model::client::{Client, ClientConfig};
use model::event::{Event, ListenedMessage};
use model::ids::RequestId;
use model::node::{Context, Inbound, Node, RpcError};
use model::protocol::{Request, Response};
use model::timer::Timer;

/// Written just before the planned crash, so that a restarted instance does not crash again.
const CRASHED_MARKER: &str = "app/crashed";

/// What the listener does.
#[derive(Clone, Debug)]
pub struct ListenerSpec {
    pub fail: Ratio,
    pub consume_time: MillisRange,
    pub crash_after: Option<u32>,
    pub restart_after_ms: u64,
    /// Every `.0` messages, one whose consumption takes `.1` ms.
    pub stuck: Option<(u32, u64)>,
}

struct AppListener {
    spec: ListenerSpec,
    delivered: u32,
}

impl MessageListener for AppListener {
    /// Decides the answer, and tells the history about the call itself: the checker judges
    /// the consumer model by these, not by what the model says it delivered.
    fn consume(&mut self, ctx: &mut Context<'_>, msgs: &[StoredMessage]) -> ListenerAnswer {
        let answer = self.answer(ctx, msgs);
        ctx.emit(Event::ListenerCall {
            messages: msgs.iter().map(listened).collect(),
            duration_ms: answer.duration_ms,
            success: answer.success,
            crashed: answer.crash.is_some(),
        });
        answer
    }
}

fn listened(msg: &StoredMessage) -> ListenedMessage {
    ListenedMessage {
        id: msg.message_id(),
        topic: msg.topic.clone(),
        queue_id: msg.queue_id,
        queue_offset: msg.queue_offset,
        store_host: msg.store_host,
        reconsume_times: msg.reconsume_times,
    }
}

impl AppListener {
    fn answer(&mut self, ctx: &mut Context<'_>, msgs: &[StoredMessage]) -> ListenerAnswer {
        let before = self.delivered;
        self.delivered += msgs.len() as u32;
        let mut duration_ms = self.spec.consume_time.min.0
            + ctx.random_below(self.spec.consume_time.max.0 - self.spec.consume_time.min.0 + 1);
        // A batch that reaches the next multiple of `every` holds the stuck message.
        if let Some((every, stuck_ms)) = self.spec.stuck
            && before / every != self.delivered / every
        {
            duration_ms = stuck_ms;
        }
        if let Some(limit) = self.spec.crash_after
            && self.delivered >= limit
            && ctx.disk().len(CRASHED_MARKER).is_none()
        {
            ctx.disk().write(CRASHED_MARKER, 0, b"1");
            return ListenerAnswer {
                success: false,
                duration_ms,
                crash: Some(self.spec.restart_after_ms),
            };
        }
        let fail = self.spec.fail;
        let failed =
            fail.numerator() > 0 && ctx.random_below(fail.denominator()) < fail.numerator();
        ListenerAnswer {
            success: !failed,
            duration_ms,
            crash: None,
        }
    }
}

pub struct ConsumerApp {
    client: Client,
}

impl ConsumerApp {
    pub fn new(
        client_config: ClientConfig,
        consumer: ConsumerConfig,
        listener: ListenerSpec,
    ) -> ConsumerApp {
        let mut client = Client::new(client_config);
        let listener = AppListener {
            spec: listener,
            delivered: 0,
        };
        client.consumer = Some(Consumer::new(consumer, Box::new(listener)));
        ConsumerApp { client }
    }
}

impl Node for ConsumerApp {
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        self.client.start(ctx);
    }

    fn on_shutdown(&mut self, ctx: &mut Context<'_>) {
        self.client.shutdown(ctx);
    }

    fn on_request(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: Request) {
        if !self.client.on_request(ctx, inbound, &request) {
            ctx.not_supported(inbound);
        }
    }

    fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        self.client.on_response(ctx, id, result);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: Timer) {
        if let Timer::Client(timer) = timer {
            self.client.on_timer(ctx, timer);
        }
    }
}

//! `SEND_MESSAGE` (`SendMessageProcessor`): store the message, then answer at once or once the
//! flush (SYNC_FLUSH) has covered it, whichever the configuration promises.

use super::store::record::StoreRequest;
use super::store::{AppendError, Appended};
use super::{Broker, BrokerTimer, FlushDiskType};
use crate::message::property;
use crate::node::{Context, Inbound};
use crate::protocol::route::perm;
use crate::protocol::{Response, ResponseBody, ResponseCode, SendMessage, SendResult};
use crate::timer::Timer;

/// A stored message whose answer waits for the flush.
#[derive(Clone, Debug)]
pub(super) struct WaitingSend {
    inbound: Inbound,
    appended: Appended,
    queue_id: u32,
}

impl WaitingSend {
    fn response(&self, code: ResponseCode) -> Response {
        Response::new(
            code,
            ResponseBody::Send(send_result(self.queue_id, &self.appended)),
        )
    }
}

fn send_result(queue_id: u32, appended: &Appended) -> SendResult {
    SendResult {
        queue_id,
        queue_offset: appended.queue_offset,
        commit_log_offset: appended.physical_offset,
    }
}

impl Broker {
    pub(super) fn handle_send(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        mut send: SendMessage,
    ) {
        self.redirect_exhausted_retry(ctx, &mut send);
        if let Err(code) = self.check_send(&send) {
            ctx.respond(inbound, Response::error(code));
            return;
        }
        let Some(store) = self.store.as_mut() else {
            ctx.respond(inbound, Response::error(ResponseCode::ServiceNotAvailable));
            return;
        };
        let message = &send.message;
        let mut request = StoreRequest {
            topic: message.topic.clone(),
            queue_id: send.queue_id,
            flag: message.flag,
            sys_flag: 0,
            body: message.body.clone(),
            properties: message.encode_properties(),
            born_timestamp_ms: send.born_timestamp_ms,
            born_host: inbound.from,
            reconsume_times: send.reconsume_times,
        };
        super::schedule::rewrite_for_delay(&mut request);
        let appended = match store.put(ctx, &request) {
            Ok(appended) => appended,
            Err(AppendError::MessageSizeExceeded) => {
                ctx.respond(inbound, Response::error(ResponseCode::MessageIllegal));
                return;
            }
        };
        let waits_for_flush = self.config.flush_disk_type == FlushDiskType::SyncFlush
            && message.property(property::WAIT_STORE_MSG_OK) != Some("false")
            && !self.config.bugs.ack_before_sync_flush
            && store.flushed_where() < appended.next_offset();
        let waiting = WaitingSend {
            inbound,
            appended,
            queue_id: send.queue_id,
        };
        if !waits_for_flush {
            ctx.respond(inbound, waiting.response(ResponseCode::Success));
            return;
        }
        self.next_wait += 1;
        let id = self.next_wait;
        self.waiting_sends.insert(id, waiting);
        ctx.set_timer(
            self.config.store.sync_flush_timeout_ms,
            Timer::Broker(BrokerTimer::FlushTimeout(id)),
        );
    }

    /// `handleRetryAndDLQ`: a retry that has used up `maxReconsumeTimes` goes to the group's
    /// dead-letter topic instead.
    fn redirect_exhausted_retry(&mut self, ctx: &mut Context<'_>, send: &mut SendMessage) {
        let Some(group) = send
            .message
            .topic
            .strip_prefix("%RETRY%")
            .map(str::to_string)
        else {
            return;
        };
        let max = send
            .message
            .property(property::MAX_RECONSUME_TIMES)
            .and_then(|m| m.parse().ok())
            .unwrap_or(16u32);
        if send.reconsume_times < max {
            return;
        }
        let dlq = crate::protocol::route::dlq_topic(&group);
        send.message.topic = dlq.clone();
        send.message.properties.remove(property::DELAY_TIME_LEVEL);
        send.queue_id = 0;
        if self.topics.create_if_missing(&dlq, 1) {
            self.register_all(ctx);
        }
    }

    /// `msgCheck` and the store's writability check.
    fn check_send(&self, send: &SendMessage) -> Result<(), ResponseCode> {
        if !self.config.role.is_master() {
            return Err(ResponseCode::ServiceNotAvailable);
        }
        let topic = self
            .topics
            .get(&send.message.topic)
            .ok_or(ResponseCode::TopicNotExist)?;
        if !perm::is_writeable(topic.perm) {
            return Err(ResponseCode::NoPermission);
        }
        if send.queue_id >= topic.write_queue_nums.max(topic.read_queue_nums) {
            return Err(ResponseCode::SystemError);
        }
        Ok(())
    }

    /// The commitlog is flushed further: answer every send it now covers.
    pub(super) fn release_flushed_sends(&mut self, ctx: &mut Context<'_>) {
        let Some(store) = &self.store else { return };
        let flushed = store.flushed_where();
        let done: Vec<u64> = self
            .waiting_sends
            .iter()
            .filter(|(_, wait)| wait.appended.next_offset() <= flushed)
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            let wait = self.waiting_sends.remove(&id).expect("listed");
            ctx.respond(wait.inbound, wait.response(ResponseCode::Success));
        }
    }

    /// `syncFlushTimeout` passed for one waiting send: the message stays stored, the answer
    /// says its flush was not confirmed.
    pub(super) fn flush_timed_out(&mut self, ctx: &mut Context<'_>, id: u64) {
        if let Some(wait) = self.waiting_sends.remove(&id) {
            ctx.respond(wait.inbound, wait.response(ResponseCode::FlushDiskTimeout));
        }
    }
}

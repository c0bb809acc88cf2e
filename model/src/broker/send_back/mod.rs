//! `CONSUMER_SEND_MSG_BACK` (`consumerSendMsgBack`): a consumer failed a message; store a copy
//! in the group's retry topic, due after its delay level, or in its dead-letter topic once it
//! has been retried `maxReconsumeTimes` times.
//!
//! The answer is the put's status, as 4.9.8's `asyncConsumerSendMsgBack` gives it: SUCCESS on
//! PUT_OK, SYSTEM_ERROR on anything else, after which the client sends the retry copy itself.
//! The copy never waits for a flush or a slave: 4.9.8 calls `msgExt.setWaitStoreMsgOK(false)`
//! before copying the properties, so `submitFlushRequest` (SYNC_FLUSH) only wakes the group
//! commit and `submitReplicaRequest` (SYNC_MASTER) answers PUT_OK at once; FLUSH_DISK_TIMEOUT,
//! FLUSH_SLAVE_TIMEOUT and SLAVE_NOT_AVAILABLE cannot come back. What can fail is the store
//! itself: `checkStoreStatus` refuses a put on a slave (SERVICE_NOT_AVAILABLE, e.g. a broker an
//! operator demoted that a consumer's route still lists as master), and an oversized record is
//! MESSAGE_ILLEGAL.

use super::Running;
use super::schedule;
use super::store::record::StoreRequest;
use super::topics::Topics;
use crate::event::Event;
use crate::message::{encode_properties, property};
use crate::node::{Context, Inbound};
use crate::protocol::route::{SCHEDULE_TOPIC, dlq_topic, retry_topic};
use crate::protocol::{Response, ResponseBody, ResponseCode, SendMsgBack};

/// The copy goes to the group's retry topic by way of a delay level, or to its dead-letter
/// topic directly; either topic exists from now on.
fn check_copy(topics: &Topics, group: &str, group_topic: &str, request: &StoreRequest) {
    let retry = *group_topic == retry_topic(group);
    crate::invariant!(
        match retry {
            true => request.topic == SCHEDULE_TOPIC && request.queue_id < 18,
            false => *group_topic == dlq_topic(group) && request.topic == group_topic,
        },
        "send-back-lands-in-schedule-or-dlq",
        "{group}'s copy meant for {group_topic} is stored in {}:{}",
        request.topic,
        request.queue_id
    );
    crate::invariant!(
        topics.get(group_topic).is_some(),
        "send-back-topic-exists",
        "{group}'s copy goes to {group_topic}, which the broker does not have"
    );
}

impl Running {
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub(super) fn handle_send_back(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        back: SendMsgBack,
    ) {
        let store = &mut self.store;
        let Some(original) = store.look_message_by_offset(ctx.disk(), back.commit_log_offset)
        else {
            ctx.respond(inbound, Response::error(ResponseCode::SystemError));
            return;
        };
        let id = original.message_id();
        let mut properties = original.properties.clone();
        properties
            .entry(property::RETRY_TOPIC.to_string())
            .or_insert_with(|| original.topic.clone());
        properties
            .entry(property::ORIGIN_MESSAGE_ID.to_string())
            .or_insert_with(|| format!("{:016X}", original.commit_log_offset));
        properties.insert(property::WAIT_STORE_MSG_OK.to_string(), "false".to_string());
        let (topic, created) =
            if original.reconsume_times >= back.max_reconsume_times || back.delay_level < 0 {
                properties.remove(property::DELAY_TIME_LEVEL);
                crate::probe!(SEND_BACK_DLQ);
                let topic = dlq_topic(&back.group);
                let created = self.topics.create_if_missing(ctx.disk(), &topic, 1);
                (topic, created)
            } else {
                let level = if back.delay_level == 0 {
                    3 + original.reconsume_times
                } else {
                    back.delay_level as u32
                };
                properties.insert(property::DELAY_TIME_LEVEL.to_string(), level.to_string());
                let topic = retry_topic(&back.group);
                let created = self.topics.create_if_missing(ctx.disk(), &topic, 1);
                (topic, created)
            };
        let mut request = StoreRequest {
            topic,
            queue_id: 0,
            flag: original.flag,
            sys_flag: 0,
            body: original.body,
            properties: encode_properties(&properties),
            born_timestamp_ms: original.born_timestamp_ms,
            born_host: original.born_host,
            reconsume_times: original.reconsume_times + 1,
        };
        let group_topic = request.topic.clone();
        schedule::rewrite_for_delay(&mut request);
        check_copy(&self.topics, &back.group, &group_topic, &request);
        // `checkStoreStatus`, then the append; the topic was created either way, as in 4.9.8.
        let put = match self.config.role.is_master() {
            true => store.put(ctx, &request).ok(),
            false => None,
        };
        let put_ok = put.is_some();
        if let Some(appended) = put {
            ctx.emit(Event::SentBack {
                broker: self.config.broker_name.clone(),
                group: back.group.clone(),
                id,
                put: appended.physical_offset,
                size: appended.bytes as u32,
            });
        }
        if created {
            self.register_all(ctx);
        }
        let code = if put_ok {
            crate::probe!(SEND_BACK_STORED);
            ResponseCode::Success
        } else {
            ResponseCode::SystemError
        };
        ctx.respond(inbound, Response::new(code, ResponseBody::Empty));
    }
}

#[cfg(test)]
mod tests;

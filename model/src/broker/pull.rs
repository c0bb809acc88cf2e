//! `PULL_MESSAGE` and the offset queries (`PullMessageProcessor`, `AdminBrokerProcessor`).

use super::Broker;
use super::store::GetStatus;
use crate::node::{Context, Inbound};
use crate::protocol::{PullMessage, PullResult, Response, ResponseBody, ResponseCode};

impl Broker {
    pub(super) fn handle_pull(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        pull: PullMessage,
    ) {
        let Some(store) = &self.store else {
            ctx.respond(inbound, Response::error(ResponseCode::ServiceNotAvailable));
            return;
        };
        let result = store.get_message(
            ctx.disk(),
            &pull.topic,
            pull.queue_id,
            pull.queue_offset,
            pull.max_msg_nums,
        );
        let code = match result.status {
            GetStatus::Found => ResponseCode::Success,
            GetStatus::MessageWasRemoving | GetStatus::NoMatchedMessage => {
                ResponseCode::PullRetryImmediately
            }
            GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue => {
                if pull.queue_offset != 0 {
                    ResponseCode::PullOffsetMoved
                } else {
                    ResponseCode::PullNotFound
                }
            }
            GetStatus::OffsetFoundNull | GetStatus::OffsetOverflowOne => ResponseCode::PullNotFound,
            GetStatus::OffsetOverflowBadly | GetStatus::OffsetTooSmall => {
                ResponseCode::PullOffsetMoved
            }
        };
        let body = PullResult {
            next_begin_offset: result.next_begin_offset,
            min_offset: result.min_offset,
            max_offset: result.max_offset,
            suggest_which_broker_id: 0,
            messages: result.messages,
        };
        ctx.respond(inbound, Response::new(code, ResponseBody::Pull(body)));
    }

    pub(super) fn handle_offset_query(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        topic: &str,
        queue_id: u32,
        max: bool,
    ) {
        let Some(store) = &self.store else {
            ctx.respond(inbound, Response::error(ResponseCode::ServiceNotAvailable));
            return;
        };
        let offset = if max {
            store.max_offset_in_queue(topic, queue_id)
        } else {
            store.min_offset_in_queue(topic, queue_id)
        };
        ctx.respond(inbound, Response::success(ResponseBody::Offset(offset)));
    }
}

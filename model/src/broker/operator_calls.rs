//! What an operator asks of a group's consumers through a broker (`Broker2Client`,
//! `AdminBrokerProcessor.callConsumer`). INVOKE_BROKER_TO_RESET_OFFSET works out, for each
//! write queue of the topic, the offset stored nearest the asked time, and sends the table to
//! every consumer of the group (oneway RESET_CONSUMER_CLIENT_OFFSET): the broker's own offset
//! table is not touched, the consumers commit the new offsets themselves. CONSUME_MESSAGE_DIRECTLY
//! reads a record by its CommitLog offset and hands it to one client, whose answer it relays.

use super::{Pending, Running};
use crate::node::{Context, Inbound, RpcError};
use crate::protocol::{
    ConsumeDirectly, MessageQueue, Request, Response, ResponseBody, ResponseCode,
};

/// `Broker2Client.callClient`'s timeout.
const CALL_CLIENT_TIMEOUT_MS: u64 = 10_000;

impl Running {
    /// INVOKE_BROKER_TO_RESET_OFFSET or CONSUME_MESSAGE_DIRECTLY.
    pub(super) fn handle_operator_call(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: Request,
    ) {
        match request {
            Request::InvokeBrokerToResetOffset {
                topic,
                group,
                timestamp_ms,
                force,
            } => self.handle_reset_offset(ctx, inbound, (&topic, &group), timestamp_ms, force),
            Request::ConsumeMessageDirectly(call) => {
                self.handle_consume_directly(ctx, inbound, call)
            }
            _ => ctx.not_supported(inbound),
        }
    }

    /// `Broker2Client.resetOffset`: each write queue to the offset stored at the time (with
    /// `force`, or when that is below the group's committed offset; else the committed one).
    fn handle_reset_offset(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        (topic, group): (&str, &str),
        timestamp_ms: Option<u64>,
        force: bool,
    ) {
        let Some(config) = self.topics.get(topic) else {
            // "[reset-offset] reset offset failed, no topic in this broker."
            return ctx.respond(inbound, Response::error(ResponseCode::SystemError));
        };
        let mut table = Vec::new();
        for queue_id in 0..config.write_queue_nums {
            let Some(committed) = self.offsets.query(group, topic, queue_id) else {
                // "THe consumer group <%s> not exist"
                return ctx.respond(inbound, Response::error(ResponseCode::SystemError));
            };
            let at_time = match timestamp_ms {
                None => self.store.max_offset_in_queue(topic, queue_id),
                Some(timestamp_ms) => {
                    let queue = (topic, queue_id);
                    (self.store).offset_in_queue_by_time(ctx.disk(), queue, timestamp_ms)
                }
            };
            let offset = if force || at_time < committed {
                at_time
            } else {
                committed
            };
            let queue = MessageQueue {
                topic: topic.to_string(),
                broker_name: self.config.broker_name.clone(),
                queue_id,
            };
            table.push((queue, offset));
        }
        let channels = self.consumers.channels(group);
        if channels.is_empty() {
            // "Consumer not online, so can not reset offset"
            return ctx.respond(inbound, Response::error(ResponseCode::ConsumerNotOnline));
        }
        crate::probe!(OFFSETS_RESET);
        for channel in channels {
            let request = Request::ResetConsumerClientOffset {
                topic: topic.to_string(),
                group: group.to_string(),
                offsets: table.clone(),
            };
            ctx.oneway(channel, request);
        }
        ctx.respond(
            inbound,
            Response::success(ResponseBody::ResetOffsets(table)),
        );
    }

    /// `consumeMessageDirectly`: the record at the offset, with this broker's name, to the
    /// client; its answer goes back to the operator when it comes.
    fn handle_consume_directly(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        mut call: ConsumeDirectly,
    ) {
        let Some(channel) = self.consumers.channel_of(&call.group, &call.client_id) else {
            // "The Consumer <%s> <%s> not online"
            return ctx.respond(inbound, Response::error(ResponseCode::SystemError));
        };
        let Some(record) = self.store.record_at(ctx.disk(), call.commit_log_offset) else {
            return ctx.respond(inbound, Response::error(ResponseCode::SystemError));
        };
        call.broker_name = Some(self.config.broker_name.clone());
        call.record = Some(record);
        let request = Request::ConsumeMessageDirectly(call);
        let id = ctx.request(channel, request, CALL_CLIENT_TIMEOUT_MS);
        self.pending.insert(id, Pending::CallClient(inbound));
    }

    /// The client's answer to CONSUME_MESSAGE_DIRECTLY, relayed: CONSUME_MSG_TIMEOUT when it
    /// never came.
    pub(super) fn relay_client_answer(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        result: Result<Response, RpcError>,
    ) {
        let response = match result {
            Ok(response) => response,
            Err(RpcError::Timeout) => Response::error(ResponseCode::ConsumeMsgTimeout),
            Err(_) => Response::error(ResponseCode::SystemError),
        };
        ctx.respond(inbound, response);
    }
}

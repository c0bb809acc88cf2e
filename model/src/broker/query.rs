//! Looking messages up (`QueryMessageProcessor`, `AdminBrokerProcessor.viewMessageById`):
//! QUERY_MESSAGE by `topic#key` through the IndexFile, VIEW_MESSAGE_BY_ID by CommitLog offset.

use super::Running;
use crate::node::{Context, Inbound};
use crate::protocol::{Request, Response, ResponseBody, ResponseCode};

impl Running {
    /// QUERY_MESSAGE or VIEW_MESSAGE_BY_ID.
    pub(super) fn handle_lookup(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: Request,
    ) {
        match request {
            Request::QueryMessage {
                topic,
                key,
                max_num,
                begin_ms,
                end_ms,
            } => {
                let span = (begin_ms, end_ms);
                self.handle_query_message(ctx, inbound, (&topic, &key), max_num, span);
            }
            Request::ViewMessageById { offset } => self.handle_view_message(ctx, inbound, offset),
            _ => ctx.not_supported(inbound),
        }
    }

    /// QUERY_MESSAGE: the records the index finds, or QUERY_NOT_FOUND.
    fn handle_query_message(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        key: (&str, &str),
        max_num: u32,
        span: (u64, u64),
    ) {
        let records = self.store.query_message(ctx.disk(), key, max_num, span);
        let response = if records.is_empty() {
            Response::error(ResponseCode::QueryNotFound)
        } else {
            crate::probe!(INDEX_QUERIED);
            Response::success(ResponseBody::Records(records))
        };
        ctx.respond(inbound, response);
    }

    /// VIEW_MESSAGE_BY_ID: the record at the offset, or SYSTEM_ERROR ("can not find message by
    /// the offset").
    fn handle_view_message(&mut self, ctx: &mut Context<'_>, inbound: Inbound, offset: u64) {
        let response = match self.store.record_at(ctx.disk(), offset) {
            Some(record) => Response::success(ResponseBody::Records(vec![record])),
            None => Response::error(ResponseCode::SystemError),
        };
        ctx.respond(inbound, response);
    }
}

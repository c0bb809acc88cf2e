//! `PULL_MESSAGE` and the offset queries (`PullMessageProcessor`, `AdminBrokerProcessor`).
//!
//! A pull that finds nothing new is held (long polling) if the client allows it; a pull also
//! carries the consumer's committed offset, which a master stores. Slaves serve pulls too
//! (`slaveReadEnable` only decides where the answer suggests pulling next). The broker filters
//! by the subscription the pull carries (a lite pull consumer's) or, as push consumers leave
//! it, by the one the group's heartbeats brought: a broker that has had no heartbeat from the
//! group since it started answers SUBSCRIPTION_NOT_EXIST.

use super::Running;
use super::store::{GetResult, GetStatus};
use crate::filter::SubscriptionData;
use crate::node::{Context, Inbound};
use crate::protocol::route::perm;
use crate::protocol::{PullMessage, PullResult, Request, Response, ResponseBody, ResponseCode};
use std::borrow::Cow;

/// What the store handed over: at most the batch asked for; a find holds messages and moves
/// the next offset past the one asked for.
fn check_read(pull: &PullMessage, result: &GetResult) {
    crate::invariant!(
        result.messages.len() <= pull.max_msg_nums as usize,
        "pull-batch-within-max",
        "{} messages for a pull of at most {}",
        result.messages.len(),
        pull.max_msg_nums
    );
    crate::invariant!(
        result.status != GetStatus::Found
            || (!result.messages.is_empty() && result.next_begin_offset > pull.queue_offset),
        "pull-found-carries-messages",
        "FOUND with {} messages at {}, next {}",
        result.messages.len(),
        pull.queue_offset,
        result.next_begin_offset
    );
}

impl Running {
    /// `processRequest(channel, request, brokerAllowSuspend)`: the first time a pull is
    /// processed it may be held; when a held pull wakes, it is answered whatever it finds.
    pub(super) fn handle_pull(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        pull: PullMessage,
        allow_suspend: bool,
    ) {
        if let Err(code) = self.check_pull(&pull) {
            return ctx.respond(inbound, Response::error(code));
        }
        let store = &self.store;
        let ignore_tags = self.config.bugs.broker_ignores_tag_hash;
        let subscription = match self.pull_subscription(&pull) {
            Ok(subscription) => subscription,
            Err(code) => return ctx.respond(inbound, Response::error(code)),
        };
        crate::invariant!(
            subscription.topic == pull.topic,
            "pull-filter-for-pulled-topic",
            "a pull of {} filtered by the subscription to {}",
            pull.topic,
            subscription.topic
        );
        let result = store.get_message(
            ctx.disk(),
            &pull.topic,
            pull.queue_id,
            pull.queue_offset,
            pull.max_msg_nums,
            (!ignore_tags).then_some(&*subscription),
        );
        check_read(&pull, &result);
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
        // A slave does not correct offsets (`offsetCheckInSlave` off): "try again".
        let code = if code == ResponseCode::PullOffsetMoved && !self.config.role.is_master() {
            ResponseCode::PullRetryImmediately
        } else {
            code
        };
        // With `slaveReadEnable`, a consumer reading from disk is sent to a slave
        // (`whichBrokerWhenConsumeSlowly` = 1), and back to the master once it keeps up.
        let suggest_which_broker_id =
            u64::from(self.config.slave_read_enable && result.suggest_pulling_from_slave);
        let body = PullResult {
            next_begin_offset: result.next_begin_offset,
            min_offset: result.min_offset,
            max_offset: result.max_offset,
            suggest_which_broker_id,
            messages: result.messages,
        };
        // The piggy-backed commit (`FLAG_COMMIT_OFFSET`), stored by a master only.
        if allow_suspend
            && self.config.role.is_master()
            && let Some(offset) = pull.commit_offset
        {
            self.offsets
                .commit(&pull.group, &pull.topic, pull.queue_id, offset);
        }
        if code == ResponseCode::PullNotFound && allow_suspend && pull.suspend_timeout_ms > 0 {
            self.holds.hold(ctx.now(), inbound, pull);
            return;
        }
        ctx.respond(inbound, Response::new(code, ResponseBody::Pull(body)));
    }

    /// `PullMessageProcessor`'s checks of the topic: it exists (TOPIC_NOT_EXIST), may be read
    /// (NO_PERMISSION: "the topic[..] pulling message is forbidden"), and has the queue among
    /// its read queues (SYSTEM_ERROR: "queueId[..] is illegal"). The harness's read-back
    /// passes them: it reads what the store holds.
    fn check_pull(&self, pull: &PullMessage) -> Result<(), ResponseCode> {
        if pull.audit {
            return Ok(());
        }
        let topic = self.topics.get(&pull.topic);
        let topic = topic.ok_or(ResponseCode::TopicNotExist)?;
        if !perm::is_readable(topic.perm) {
            crate::probe!(PULL_FORBIDDEN);
            return Err(ResponseCode::NoPermission);
        }
        if pull.queue_id >= topic.read_queue_nums {
            crate::probe!(PULL_QUEUE_ILLEGAL);
            return Err(ResponseCode::SystemError);
        }
        Ok(())
    }

    /// The subscription a pull is filtered by: its own (`FLAG_SUBSCRIPTION`), or the group's.
    fn pull_subscription(
        &self,
        pull: &PullMessage,
    ) -> Result<Cow<'_, SubscriptionData>, ResponseCode> {
        if let Some(expression) = &pull.subscription {
            let built = SubscriptionData::build(&pull.topic, expression, pull.sub_version);
            return Ok(Cow::Owned(built));
        }
        let known = self.consumers.subscription(&pull.group, &pull.topic);
        let Some(subscription) = known.flatten() else {
            crate::probe!(SUBSCRIPTION_MISSING);
            return Err(ResponseCode::SubscriptionNotExist);
        };
        if subscription.sub_version < pull.sub_version {
            return Err(ResponseCode::SubscriptionNotLatest);
        }
        if self.config.bugs.filter_first_tag_only {
            let first = subscription
                .sub_string
                .split("||")
                .next()
                .unwrap_or_default();
            let built = SubscriptionData::build(&pull.topic, first.trim(), pull.sub_version);
            return Ok(Cow::Owned(built));
        }
        Ok(Cow::Borrowed(subscription))
    }

    /// GET_MAX_OFFSET, GET_MIN_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP: a queue offset.
    pub(super) fn handle_offset_query(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: Request,
    ) {
        let store = &self.store;
        let offset = match request {
            Request::GetMaxOffset { topic, queue_id } => {
                store.max_offset_in_queue(&topic, queue_id)
            }
            Request::GetMinOffset { topic, queue_id } => {
                store.min_offset_in_queue(&topic, queue_id)
            }
            Request::SearchOffsetByTimestamp {
                topic,
                queue_id,
                timestamp_ms,
            } => store.offset_in_queue_by_time(ctx.disk(), (&topic, queue_id), timestamp_ms),
            _ => return ctx.not_supported(inbound),
        };
        ctx.respond(inbound, Response::success(ResponseBody::Offset(offset)));
    }
}

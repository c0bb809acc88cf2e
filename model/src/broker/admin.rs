//! Requests about consumers (`ClientManageProcessor`, `ConsumerManageProcessor`,
//! `AdminBrokerProcessor`): heartbeats, the consumer list, committed offsets, queue locks, and
//! progress figures.

use super::Running;
use crate::node::{Context, Inbound};
use crate::protocol::route::{SCHEDULE_TOPIC, retry_topic};
use crate::protocol::{
    HeartBeat, MessageQueue, QueueOffset, QueueProgress, Request, Response, ResponseBody,
    ResponseCode, RuntimeInfo,
};

impl Running {
    /// `HEART_BEAT`: learn the client's groups; create each clustering group's retry topic;
    /// tell the group when its membership changed.
    pub(super) fn handle_heartbeat(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        heartbeat: HeartBeat,
    ) {
        let mut created = false;
        for consumer in heartbeat.consumers.iter().filter(|c| !c.broadcasting) {
            let retry = retry_topic(&consumer.group);
            created |= self.topics.create_if_missing(ctx.disk(), &retry, 1);
            crate::invariant!(
                self.topics.get(&retry).is_some(),
                "admin-heartbeat-retry-topic-exists",
                "{} heartbeats, and {retry} is missing",
                consumer.group
            );
        }
        if created {
            self.register_all(ctx);
        }
        let now = ctx.now();
        (self.producers).heartbeat(now, inbound.from, &heartbeat.producer_groups);
        let changed = self.consumers.heartbeat(now, inbound.from, &heartbeat);
        for consumer in &heartbeat.consumers {
            crate::invariant!(
                self.consumers.has_channel(&consumer.group, inbound.from),
                "admin-heartbeat-registers-the-channel",
                "{:?} heartbeated for {} and is not among its connections",
                inbound.from,
                consumer.group
            );
        }
        self.notify_changed(ctx, &changed);
        ctx.respond(inbound, Response::success(ResponseBody::Empty));
    }

    /// `NOTIFY_CONSUMER_IDS_CHANGED` to every consumer of each group.
    pub(super) fn notify_changed(&mut self, ctx: &mut Context<'_>, groups: &[String]) {
        for group in groups {
            for channel in self.consumers.channels(group) {
                ctx.oneway(
                    channel,
                    Request::NotifyConsumerIdsChanged {
                        group: group.clone(),
                    },
                );
            }
        }
    }

    pub(super) fn handle_consumer_list(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        group: &str,
    ) {
        let ids = self.consumers.client_ids(group);
        let response = if ids.is_empty() {
            Response::error(ResponseCode::SystemError)
        } else {
            Response::success(ResponseBody::ConsumerIds(ids))
        };
        ctx.respond(inbound, response);
    }

    pub(super) fn handle_update_offset(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        update: QueueOffset,
    ) {
        self.offsets
            .commit(&update.group, &update.topic, update.queue_id, update.offset);
        ctx.respond(inbound, Response::success(ResponseBody::Empty));
    }

    /// `QUERY_CONSUMER_OFFSET` (`ConsumerManageProcessor.queryConsumerOffset`): the committed
    /// offset; with none, 0 while the queue still starts at 0 and its first message is not yet
    /// "in disk" (`checkInDiskByConsumeOffset`: the CommitLog has grown less than
    /// `accessMessageInMemoryMaxRatio` of the machine's memory past it), so a new group reads
    /// the queue from its beginning whatever its `ConsumeFromWhere`; else QUERY_NOT_FOUND.
    pub(super) fn handle_query_offset(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        group: &str,
        topic: &str,
        queue_id: u32,
    ) {
        let response = match self.offsets.query(group, topic, queue_id) {
            Some(offset) => Response::success(ResponseBody::Offset(offset)),
            None => {
                let min = self.store.min_offset_in_queue(topic, queue_id);
                let in_disk =
                    (self.store).check_in_disk_by_consume_offset(ctx.disk(), (topic, queue_id), 0);
                if min == 0 && (!in_disk || self.config.bugs.zero_for_new_groups) {
                    Response::success(ResponseBody::Offset(0))
                } else {
                    Response::error(ResponseCode::QueryNotFound)
                }
            }
        };
        ctx.respond(inbound, response);
    }

    pub(super) fn handle_lock(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        group: &str,
        client: &str,
        queues: &[MessageQueue],
    ) {
        let locked = self.locks.try_lock(ctx.now(), group, client, queues);
        ctx.respond(
            inbound,
            Response::success(ResponseBody::LockedQueues(locked)),
        );
    }

    pub(super) fn handle_unlock(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        group: &str,
        client: &str,
        queues: &[MessageQueue],
    ) {
        self.locks.unlock(group, client, queues);
        ctx.respond(inbound, Response::success(ResponseBody::Empty));
    }

    /// `GET_CONSUME_STATS`: the broker's and the group's offset of every queue of a topic.
    pub(super) fn handle_consume_stats(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        group: &str,
        topic: &str,
    ) {
        let Some(config) = self.topics.get(topic) else {
            ctx.respond(inbound, Response::error(ResponseCode::TopicNotExist));
            return;
        };
        let store = &self.store;
        let progress = (0..config.read_queue_nums)
            .map(|queue_id| QueueProgress {
                queue: MessageQueue {
                    topic: topic.to_string(),
                    broker_name: self.config.broker_name.clone(),
                    queue_id,
                },
                broker_offset: store.max_offset_in_queue(topic, queue_id),
                consumer_offset: self.offsets.query(group, topic, queue_id).unwrap_or(0),
            })
            .collect();
        ctx.respond(
            inbound,
            Response::success(ResponseBody::ConsumeStats(progress)),
        );
    }

    /// `GET_BROKER_RUNTIME_INFO`: here, the delayed messages not yet delivered.
    pub(super) fn handle_runtime_info(&mut self, ctx: &mut Context<'_>, inbound: Inbound) {
        let backlog = (0..18u32)
            .map(|queue| {
                (self.store)
                    .max_offset_in_queue(SCHEDULE_TOPIC, queue)
                    .saturating_sub(self.delays.offsets.next[queue as usize])
            })
            .sum();
        let info = RuntimeInfo {
            schedule_backlog: backlog,
            transaction_backlog: self.transaction_backlog(),
        };
        ctx.respond(inbound, Response::success(ResponseBody::RuntimeInfo(info)));
    }
}

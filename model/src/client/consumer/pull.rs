//! Pulling (`DefaultMQPushConsumerImpl.pullMessage`, `PullAPIWrapper`, `PullCallback`, and the
//! lite pull consumer's `PullTaskImpl`): one pull in flight per owned queue, held by the broker
//! up to 15 s (20 s for a lite pull consumer) when there is nothing new; answers feed the
//! process queue and the consume service.

use super::{ConsumeMode, Consumer, ConsumerPending, ConsumerTimer, consumer_timer, find_broker};
use crate::broker::store::record;
use crate::client::{ClientCore, Pending};
use crate::event::Event;
use crate::node::{Context, RpcError};
use crate::protocol::route::MASTER_ID;
use crate::protocol::{MessageQueue, PullMessage, Request, Response, ResponseBody, ResponseCode};

/// `PULL_TIME_DELAY_MILLS_WHEN_EXCEPTION`.
const PULL_DELAY_WHEN_EXCEPTION_MS: u64 = 3_000;
/// `PULL_TIME_DELAY_MILLS_WHEN_SUSPEND`: a paused consumer (`suspend`) pulls again this late.
const PULL_DELAY_WHEN_SUSPEND_MS: u64 = 1_000;
/// `PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL`.
const PULL_DELAY_WHEN_FLOW_CONTROL_MS: u64 = 50;
/// `BROKER_SUSPEND_MAX_TIME_MILLIS`: how long the broker may hold a pull.
const BROKER_SUSPEND_MAX_TIME_MS: u64 = 15_000;
/// `DefaultLitePullConsumer.brokerSuspendMaxTimeMillis`.
const LITE_BROKER_SUSPEND_MAX_TIME_MS: u64 = 20_000;
/// `DefaultLitePullConsumer.pullThresholdForAll`: messages waiting to be polled, in all.
const LITE_PULL_THRESHOLD_FOR_ALL: usize = 10_000;
/// `CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND`.
const CONSUMER_TIMEOUT_WHEN_SUSPEND_MS: u64 = 30_000;
/// After PULL_OFFSET_MOVED, the fix waits this long (`executeTaskLater(..., 10000)`).
const FIX_OFFSET_DELAY_MS: u64 = 10_000;

impl Consumer {
    fn pull_later(&self, ctx: &mut Context<'_>, queue: &MessageQueue, pq: u64, delay_ms: u64) {
        ctx.set_timer(
            delay_ms,
            consumer_timer(ConsumerTimer::Pull {
                queue: queue.clone(),
                pq,
            }),
        );
    }

    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub(super) fn pull(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
        pq_id: u64,
    ) {
        let now = ctx.now();
        let orderly_clustering = self.config.locks_queues();
        let lite = self.config.mode == ConsumeMode::LitePull;
        let polls_waiting = self.consume.waiting() * self.config.pull_batch_size as usize;
        let Some(pq) = self.queues.get_mut(queue).filter(|pq| pq.id == pq_id) else {
            return;
        };
        if pq.dropped {
            return;
        }
        if self.paused > 0 {
            return self.pull_later(ctx, queue, pq_id, PULL_DELAY_WHEN_SUSPEND_MS);
        }
        pq.last_pull = now;
        if (lite && polls_waiting > LITE_PULL_THRESHOLD_FOR_ALL)
            || pq.count() > self.config.pull_threshold_for_queue
            || (!self.config.orderly() && pq.max_span() > self.config.consume_concurrently_max_span)
        {
            return self.pull_later(ctx, queue, pq_id, PULL_DELAY_WHEN_FLOW_CONTROL_MS);
        }
        if orderly_clustering && !pq.locked {
            // "pull message later because not locked in broker"
            return self.pull_later(ctx, queue, pq_id, PULL_DELAY_WHEN_EXCEPTION_MS);
        }
        let next_offset = pq.next_offset;
        let Some(subscription) = self.subscriptions.get(&queue.topic) else {
            return; // not subscribed (any more)
        };
        let broker_id = self.suggested.get(queue).copied().unwrap_or(MASTER_ID);
        let Some((addr, slave)) = find_broker(core, &queue.broker_name, broker_id) else {
            return self.pull_later(ctx, queue, pq_id, PULL_DELAY_WHEN_EXCEPTION_MS);
        };
        let Some(pq) = self.queues.get_mut(queue).filter(|pq| pq.id == pq_id) else {
            return;
        };
        if slave {
            crate::probe!(PULL_FROM_SLAVE);
        }
        if pq.from_slave != Some(slave) && (slave || pq.from_slave.is_some()) {
            ctx.emit(Event::PullReplica {
                group: self.config.group.clone(),
                consumer: self.client_id.clone(),
                broker: queue.broker_name.clone(),
                topic: queue.topic.clone(),
                queue_id: queue.queue_id,
                slave,
            });
        }
        pq.from_slave = Some(slave);
        // The committed offset rides along (`FLAG_COMMIT_OFFSET`), but not to a slave, and not
        // from a lite pull consumer.
        let commit_offset = if self.config.broadcasting || slave || lite {
            None
        } else {
            self.offsets.read(queue).filter(|offset| *offset > 0)
        };
        let request = Request::PullMessage(PullMessage {
            group: self.config.group.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            queue_offset: next_offset,
            max_msg_nums: self.config.pull_batch_size,
            commit_offset,
            suspend_timeout_ms: if lite {
                LITE_BROKER_SUSPEND_MAX_TIME_MS
            } else {
                BROKER_SUSPEND_MAX_TIME_MS
            },
            // A lite pull consumer sends its expression along (`FLAG_SUBSCRIPTION`).
            subscription: lite.then(|| subscription.sub_string.clone()),
            sub_version: subscription.sub_version,
            audit: false,
        });
        let id = ctx.request(addr, request, CONSUMER_TIMEOUT_WHEN_SUSPEND_MS);
        let pending = ConsumerPending::Pull {
            queue: queue.clone(),
            pq: pq_id,
        };
        core.pending.insert(id, Pending::Consumer(pending));
    }

    /// `PullCallback`.
    #[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
    pub(super) fn on_pull(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: MessageQueue,
        pq_id: u64,
        result: Result<Response, RpcError>,
    ) {
        let Some(pq) = self.queues.get_mut(&queue).filter(|pq| pq.id == pq_id) else {
            return;
        };
        let (code, pull) = match result {
            Ok(Response {
                code,
                body: ResponseBody::Pull(pull),
            }) => (code, pull),
            _ => return self.pull_later(ctx, &queue, pq_id, PULL_DELAY_WHEN_EXCEPTION_MS),
        };
        self.suggested
            .insert(queue.clone(), pull.suggest_which_broker_id);
        pq.broker_max_offset = pull.max_offset;
        check_pull_answer(&queue, code, pq.next_offset, &pull);
        match code {
            ResponseCode::Success => {
                pq.next_offset = pull.next_begin_offset;
                // `processPullResult`: the broker matched hash codes; compare the tags.
                let subscription = self.subscriptions.get(&queue.topic);
                let msgs: Vec<record::StoredMessage> = pull
                    .messages
                    .iter()
                    .filter_map(|bytes| record::decode(bytes))
                    .filter(|m| {
                        let wanted = subscription.is_none_or(|s| s.matches_tags(m.tags()));
                        if !wanted {
                            crate::probe!(TAG_FILTERED_BY_CLIENT);
                            ctx.emit(Event::ClientDroppedTag {
                                group: self.config.group.clone(),
                                consumer: self.client_id.clone(),
                                broker: queue.broker_name.clone(),
                                topic: queue.topic.clone(),
                                queue_id: queue.queue_id,
                                queue_offset: m.queue_offset,
                                tag: m.tags().map(str::to_string),
                            });
                        }
                        self.config.bugs.skip_client_tag_filter || wanted
                    })
                    .collect();
                if !msgs.is_empty() && !pq.dropped {
                    let dispatch = pq.put(&msgs);
                    self.submit_consume(ctx, core, &queue, pq_id, msgs, dispatch);
                }
                self.pull(ctx, core, &queue, pq_id);
            }
            ResponseCode::PullNotFound | ResponseCode::PullRetryImmediately => {
                pq.next_offset = pull.next_begin_offset;
                // `correctTagsOffset`: nothing pending, so the offset can move up to here.
                if pq.count() == 0 && self.config.mode != ConsumeMode::LitePull {
                    let offset = pq.next_offset;
                    self.offsets.update(&queue, offset, true);
                }
                self.pull(ctx, core, &queue, pq_id);
            }
            ResponseCode::PullOffsetMoved => {
                crate::probe!(OFFSET_MOVED);
                // OFFSET_ILLEGAL: the queue is dropped; its offset is fixed 10 s later.
                let from = pq.next_offset;
                let to = if self.config.bugs.reset_offset_to_zero {
                    0
                } else {
                    pull.next_begin_offset
                };
                pq.next_offset = to;
                let lite = self.config.mode == ConsumeMode::LitePull;
                // A lite pull consumer just pulls on from the corrected offset.
                pq.dropped = !lite;
                ctx.emit(Event::OffsetMoved {
                    group: self.config.group.clone(),
                    consumer: self.client_id.clone(),
                    broker: queue.broker_name.clone(),
                    topic: queue.topic.clone(),
                    queue_id: queue.queue_id,
                    from,
                    to,
                });
                if lite {
                    self.pull(ctx, core, &queue, pq_id);
                    return self.report_lag(ctx);
                }
                let fixed = if self.config.bugs.keep_offset_after_moved {
                    from
                } else {
                    to
                };
                let fix = ConsumerTimer::FixOffset {
                    queue,
                    pq: pq_id,
                    offset: fixed,
                };
                ctx.set_timer(FIX_OFFSET_DELAY_MS, consumer_timer(fix));
            }
            _ => self.pull_later(ctx, &queue, pq_id, PULL_DELAY_WHEN_EXCEPTION_MS),
        }
        self.report_lag(ctx);
    }

    /// The OFFSET_ILLEGAL fix: take the corrected offset, commit it, forget the queue; the next
    /// rebalance takes it again from there.
    pub(super) fn fix_offset(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
        pq_id: u64,
        offset: u64,
    ) {
        self.offsets.update(queue, offset, false);
        if !self.config.broadcasting {
            self.send_offset(ctx, core, queue, offset);
        }
        if self.queues.get(queue).is_some_and(|pq| pq.id == pq_id) {
            self.forget_queue(queue);
            ctx.emit(Event::QueueDropped {
                group: self.config.group.clone(),
                consumer: self.client_id.clone(),
                broker: queue.broker_name.clone(),
                topic: queue.topic.clone(),
                queue_id: queue.queue_id,
                reason: "offset illegal (PULL_OFFSET_MOVED)".to_string(),
            });
        }
    }
}

/// What a pull answer must say about where the next pull starts: only PULL_OFFSET_MOVED may
/// send it back; messages found move it past them.
fn check_pull_answer(
    queue: &MessageQueue,
    code: ResponseCode,
    requested: u64,
    pull: &crate::protocol::PullResult,
) {
    let next = pull.next_begin_offset;
    let keeps_position = matches!(
        code,
        ResponseCode::Success | ResponseCode::PullNotFound | ResponseCode::PullRetryImmediately
    );
    crate::invariant!(
        !keeps_position || next >= requested,
        "pull-next-offset-never-rewinds",
        "{queue}: a pull from {requested} answered {code} with the next offset {next}"
    );
    crate::invariant!(
        code != ResponseCode::Success
            || (!pull.messages.is_empty() && next >= requested + pull.messages.len() as u64),
        "pull-found-moves-past-its-messages",
        "{queue}: a pull from {requested} found {} messages, next offset {next}",
        pull.messages.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PullResult;

    fn answer(next_begin_offset: u64) -> PullResult {
        PullResult {
            next_begin_offset,
            min_offset: 0,
            max_offset: 100,
            suggest_which_broker_id: 0,
            messages: Vec::new(),
        }
    }

    #[test]
    fn only_an_offset_moved_answer_may_send_a_pull_back() {
        let queue = MessageQueue {
            topic: "t".into(),
            broker_name: "b".into(),
            queue_id: 0,
        };
        check_pull_answer(&queue, ResponseCode::PullOffsetMoved, 40, &answer(0));
        check_pull_answer(&queue, ResponseCode::PullNotFound, 40, &answer(40));
        let (name, detail) = crate::invariant::fired(|| {
            check_pull_answer(&queue, ResponseCode::PullRetryImmediately, 40, &answer(0));
        });
        assert_eq!(name, "pull-next-offset-never-rewinds");
        assert!(detail.starts_with("t/b/0: a pull from 40"), "{detail}");
    }
}

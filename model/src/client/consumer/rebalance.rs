//! Queue ownership (`RebalanceImpl`, `RebalancePushImpl`): which queues this consumer pulls.
//!
//! Clustering asks one random broker of the topic for the group's consumer ids and runs the
//! allocation strategy; broadcasting takes every queue. A queue moved away is dropped (its
//! offset sent to the broker first); a new one starts at the committed offset the broker
//! reports. Orderly consumers must lock a queue on its master before taking it.

use super::allocate::allocate;
use super::process_queue::ProcessQueue;
use super::{Consumer, ConsumerPending, find_broker};
use crate::client::{ClientCore, Pending};
use crate::event::Event;
use crate::node::{Context, RpcError};
use crate::protocol::route::{MASTER_ID, retry_topic};
use crate::protocol::{MessageQueue, Request, Response, ResponseBody, ResponseCode};
use std::collections::{BTreeMap, BTreeSet};

/// `lockBatchMQ`'s timeout.
const LOCK_TIMEOUT_MS: u64 = 1_000;
/// How long a removal waits for an orderly listener's consume lock.
const CONSUME_LOCK_WAIT_MS: u64 = 1_000;

impl Consumer {
    /// `doRebalance`, for every subscribed topic.
    pub(super) fn do_rebalance(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        for topic in self.topics() {
            let Some(all) = self.subscribe_info.get(&topic) else {
                continue;
            };
            if self.config.broadcasting {
                let all = all.iter().cloned().collect();
                self.update_queues(ctx, core, &topic, all);
                continue;
            }
            // `findConsumerIdList`: ask one random broker of the topic.
            let Some(route) = core.routes.route(&topic) else {
                continue;
            };
            if route.broker_datas.is_empty() {
                continue;
            }
            let broker =
                &route.broker_datas[ctx.random_below(route.broker_datas.len() as u64) as usize];
            let addr = match broker.master() {
                Some(master) => master,
                None => {
                    let slaves: Vec<_> = broker.broker_addrs.values().copied().collect();
                    slaves[ctx.random_below(slaves.len() as u64) as usize]
                }
            };
            let request = Request::GetConsumerListByGroup {
                group: self.config.group.clone(),
            };
            let id = ctx.request(addr, request, core.config.mq_client_api_timeout_ms);
            core.pending.insert(
                id,
                Pending::Consumer(ConsumerPending::ConsumerIds { topic }),
            );
        }
    }

    pub(super) fn on_consumer_ids(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        topic: &str,
        result: Result<Response, RpcError>,
    ) {
        let Ok(Response {
            code: ResponseCode::Success,
            body: ResponseBody::ConsumerIds(mut ids),
        }) = result
        else {
            return; // Without a list nothing changes until the next rebalance.
        };
        let Some(all) = self.subscribe_info.get(topic) else {
            return;
        };
        ids.sort();
        let mine = allocate(self.config.strategy, &core.config.client_id, all, &ids);
        ctx.emit(Event::Allocated {
            group: self.config.group.clone(),
            consumer: self.client_id.clone(),
            topic: topic.to_string(),
            mine: mine
                .iter()
                .map(|q| (q.broker_name.clone(), q.queue_id))
                .collect(),
            consumers: ids.len() as u32,
            queues: all.len() as u32,
        });
        self.update_queues(ctx, core, topic, mine.into_iter().collect());
    }

    /// `updateProcessQueueTableInRebalance`.
    fn update_queues(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        topic: &str,
        mine: BTreeSet<MessageQueue>,
    ) {
        let now = ctx.now();
        self.allocation.insert(topic.to_string(), mine.clone());
        let owned: Vec<MessageQueue> = self
            .queues
            .keys()
            .filter(|q| q.topic == topic)
            .cloned()
            .collect();
        for queue in owned {
            let pq = self.queues.get_mut(&queue).expect("owned");
            let reason = if !mine.contains(&queue) && !self.config.bugs.keep_unallocated_queues {
                "rebalanced to another consumer"
            } else if pq.pull_expired(now) {
                "not pulled for 120 s"
            } else {
                continue;
            };
            pq.dropped = true;
            pq.dropped_at = Some(now);
            if self.remove_unnecessary(ctx, core, &queue) {
                self.forget_queue(&queue);
                self.emit_queue_event(ctx, &queue, reason);
            }
        }
        crate::invariant!(
            self.config.bugs.keep_unallocated_queues
                || self
                    .queues
                    .iter()
                    .all(|(q, pq)| q.topic != topic || pq.dropped || mine.contains(q)),
            "rebalance-keeps-only-allocated-queues",
            "{topic}: a queue outside the new allocation of {} is still consumed",
            mine.len()
        );
        for queue in mine {
            if self.queues.contains_key(&queue) || self.assigning.contains(&queue) {
                continue;
            }
            self.assigning.insert(queue.clone());
            if self.config.locks_queues() {
                self.lock(ctx, core, vec![queue], true);
            } else {
                self.compute_pull_from_where(ctx, core, queue);
            }
        }
        self.check_assigning();
        self.report_lag(ctx);
    }

    /// A queue is being taken (offset query or lock in flight) or owned, never both.
    fn check_assigning(&self) {
        crate::invariant!(
            self.assigning.iter().all(|q| !self.queues.contains_key(q)),
            "rebalance-assigning-disjoint-from-owned",
            "a queue being taken is already owned ({} being taken, {} owned)",
            self.assigning.len(),
            self.queues.len()
        );
    }

    /// Removes a process queue that a rebalance (or an illegal offset) dropped.
    pub(super) fn forget_queue(&mut self, queue: &MessageQueue) {
        let removed = self.queues.remove(queue);
        crate::invariant!(
            removed.as_ref().is_none_or(|pq| pq.dropped),
            "rebalance-removes-only-dropped-queues",
            "{queue}: process queue {:?} removed while still live",
            removed.map(|pq| pq.id)
        );
    }

    pub(super) fn emit_queue_event(
        &self,
        ctx: &mut Context<'_>,
        queue: &MessageQueue,
        reason: &str,
    ) {
        ctx.emit(Event::QueueDropped {
            group: self.config.group.clone(),
            consumer: self.client_id.clone(),
            broker: queue.broker_name.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            reason: reason.to_string(),
        });
    }

    /// Orderly: the listener let go of a dropped queue's consume lock. A removal waiting for
    /// it (for at most 1 s) goes ahead now.
    pub(super) fn removal_waited(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
        pq_id: u64,
    ) {
        let now = ctx.now();
        let Some(pq) = self.queues.get_mut(queue).filter(|pq| pq.id == pq_id) else {
            return;
        };
        pq.release_taken();
        let waited = pq
            .dropped_at
            .is_some_and(|at| now.ms_since(at) <= CONSUME_LOCK_WAIT_MS);
        if waited && self.remove_unnecessary(ctx, core, queue) {
            self.forget_queue(queue);
            self.emit_queue_event(ctx, queue, "rebalanced to another consumer");
        }
    }

    /// `removeUnnecessaryMessageQueue`: commit the queue's offset and forget it; an orderly
    /// consumer also gives its lock back, unless it is consuming the queue right now.
    pub(super) fn remove_unnecessary(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
    ) -> bool {
        if !self.config.broadcasting {
            if let Some(offset) = self.offsets.read(queue) {
                self.send_offset(ctx, core, queue, offset);
            }
            self.offsets.remove(queue);
        }
        self.consume.forget(queue);
        if self.config.locks_queues() {
            if self.queues.get(queue).is_some_and(|pq| pq.has_taken()) {
                // The listener holds the consume lock: the removal waits for it up to 1 s
                // (`tryLock(1000)`), see `removal_waited`, or else the next rebalance retries.
                return false;
            }
            if let Some((addr, _)) = find_broker(core, &queue.broker_name, MASTER_ID) {
                let request = Request::UnlockBatchMq {
                    group: self.config.group.clone(),
                    client_id: core.config.client_id.clone(),
                    queues: vec![queue.clone()],
                };
                ctx.oneway(addr, request);
            }
        }
        true
    }

    /// `computePullFromWhereWithException`.
    fn compute_pull_from_where(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: MessageQueue,
    ) {
        if self.config.broadcasting {
            match self.offsets.read(&queue) {
                Some(offset) => self.assign(ctx, core, &queue, offset),
                None if self.config.consume_from_first_offset => self.assign(ctx, core, &queue, 0),
                None => self.query_start_offset(ctx, core, queue),
            }
            return;
        }
        // `RemoteBrokerOffsetStore.fetchConsumeOffsetFromBroker`: the master; without one in
        // the route, `findBrokerAddressInSubscribe(.., onlyThisBroker = false)`: the first
        // listed address, a slave, which knows the offsets it synchronised from its master.
        let Some((addr, _)) = find_broker(core, &queue.broker_name, MASTER_ID) else {
            self.assigning.remove(&queue);
            return;
        };
        self.offsets.remove(&queue);
        let request = Request::QueryConsumerOffset {
            group: self.config.group.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
        };
        let id = ctx.request(addr, request, core.config.mq_client_api_timeout_ms);
        core.pending.insert(
            id,
            Pending::Consumer(ConsumerPending::QueryOffset { queue }),
        );
    }

    /// The offset a group with none starts at: the queue's end (`maxOffset`), or under
    /// CONSUME_FROM_TIMESTAMP the offset stored at `consumeTimestamp` (`searchOffset`; a
    /// retry topic's end).
    fn query_start_offset(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: MessageQueue,
    ) {
        let Some((addr, _)) = find_broker(core, &queue.broker_name, MASTER_ID) else {
            self.assigning.remove(&queue);
            return;
        };
        let (topic, queue_id) = (queue.topic.clone(), queue.queue_id);
        let timestamp =
            (self.config.consume_timestamp_ms).filter(|_| topic != retry_topic(&self.config.group));
        let request = match timestamp {
            Some(timestamp_ms) => Request::SearchOffsetByTimestamp {
                topic,
                queue_id,
                timestamp_ms,
            },
            None => Request::GetMaxOffset { topic, queue_id },
        };
        let id = ctx.request(addr, request, core.config.mq_client_api_timeout_ms);
        core.pending
            .insert(id, Pending::Consumer(ConsumerPending::MaxOffset { queue }));
    }

    pub(super) fn on_query_offset(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: MessageQueue,
        result: Result<Response, RpcError>,
    ) {
        match result {
            Ok(Response {
                code: ResponseCode::Success,
                body: ResponseBody::Offset(offset),
            }) => {
                self.offsets.update(&queue, offset, false);
                self.assign(ctx, core, &queue, offset);
            }
            Ok(Response {
                code: ResponseCode::QueryNotFound,
                ..
            }) => {
                // No committed offset: where a new group starts. A retry topic from 0, but
                // at its end under CONSUME_FROM_TIMESTAMP.
                let retry = queue.topic == retry_topic(&self.config.group);
                let timestamp = self.config.consume_timestamp_ms.is_some();
                if self.config.consume_from_first_offset || (retry && !timestamp) {
                    self.assign(ctx, core, &queue, 0);
                } else {
                    self.query_start_offset(ctx, core, queue);
                }
            }
            _ => {
                self.assigning.remove(&queue);
            }
        }
    }

    pub(super) fn on_max_offset(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: MessageQueue,
        result: Result<Response, RpcError>,
    ) {
        match result {
            Ok(Response {
                body: ResponseBody::Offset(offset),
                ..
            }) => self.assign(ctx, core, &queue, offset),
            _ => {
                self.assigning.remove(&queue);
            }
        }
    }

    /// Takes a queue: a new process queue from `offset`, and its first pull.
    fn assign(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queue: &MessageQueue,
        offset: u64,
    ) {
        self.assigning.remove(queue);
        let still_mine = self
            .allocation
            .get(&queue.topic)
            .is_some_and(|set| set.contains(queue));
        if !still_mine || self.queues.contains_key(queue) {
            return;
        }
        self.next_pq += 1;
        let mut pq = ProcessQueue::new(self.next_pq, offset, ctx.now());
        pq.locked = true;
        self.queues.insert(queue.clone(), pq);
        self.check_assigning();
        ctx.emit(Event::QueueAssigned {
            group: self.config.group.clone(),
            consumer: self.client_id.clone(),
            broker: queue.broker_name.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            offset,
        });
        let pq = self.next_pq;
        self.pull(ctx, core, queue, pq);
    }

    /// `LOCK_BATCH_MQ` to each queue's master.
    fn lock(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queues: Vec<MessageQueue>,
        assign: bool,
    ) {
        let Some(first) = queues.first() else { return };
        let Some(addr) = core
            .routes
            .broker_addrs(&first.broker_name)
            .and_then(|a| a.get(&MASTER_ID).copied())
        else {
            for queue in &queues {
                if assign {
                    self.assigning.remove(queue);
                }
            }
            return;
        };
        let request = Request::LockBatchMq {
            group: self.config.group.clone(),
            client_id: core.config.client_id.clone(),
            queues: queues.clone(),
        };
        let id = ctx.request(addr, request, LOCK_TIMEOUT_MS);
        core.pending.insert(
            id,
            Pending::Consumer(ConsumerPending::Lock { queues, assign }),
        );
    }

    /// The owned queues, per broker (`buildProcessQueueTableByBrokerName`).
    fn queues_by_broker(&self) -> BTreeMap<String, Vec<MessageQueue>> {
        let mut by_broker: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
        for queue in self.queues.keys() {
            by_broker
                .entry(queue.broker_name.clone())
                .or_default()
                .push(queue.clone());
        }
        by_broker
    }

    /// `lockAll`: renew the locks of every owned queue, per broker.
    pub(super) fn lock_all(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        let by_broker = self.queues_by_broker();
        for (_, queues) in by_broker {
            self.lock(ctx, core, queues, false);
        }
    }

    /// `unlockAll`: give every owned queue's lock back, per broker (oneway).
    pub(super) fn unlock_all(&mut self, ctx: &mut Context<'_>, core: &mut ClientCore) {
        let by_broker = self.queues_by_broker();
        for (broker, queues) in by_broker {
            if let Some((addr, _)) = find_broker(core, &broker, MASTER_ID) {
                let request = Request::UnlockBatchMq {
                    group: self.config.group.clone(),
                    client_id: core.config.client_id.clone(),
                    queues,
                };
                ctx.oneway(addr, request);
            }
        }
    }

    pub(super) fn on_lock(
        &mut self,
        ctx: &mut Context<'_>,
        core: &mut ClientCore,
        queues: Vec<MessageQueue>,
        assign: bool,
        result: Result<Response, RpcError>,
    ) {
        let locked: BTreeSet<MessageQueue> = match result {
            Ok(Response {
                body: ResponseBody::LockedQueues(locked),
                ..
            }) => locked.into_iter().collect(),
            _ => BTreeSet::new(),
        };
        crate::invariant!(
            queues.iter().filter(|q| locked.contains(*q)).count() == locked.len(),
            "lock-answer-subset-of-request",
            "{} queues locked, not all of them among the {} asked for",
            locked.len(),
            queues.len()
        );
        let now = ctx.now();
        for queue in queues {
            let ok = locked.contains(&queue);
            if let Some(pq) = self.queues.get_mut(&queue) {
                pq.locked = ok;
                if ok {
                    pq.last_lock = now;
                }
            }
            if assign {
                if ok {
                    self.compute_pull_from_where(ctx, core, queue);
                } else {
                    self.assigning.remove(&queue);
                }
            }
        }
    }
}

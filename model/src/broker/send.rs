//! `SEND_MESSAGE` (`SendMessageProcessor`): store the message, then answer at once, or once the
//! flush (SYNC_FLUSH) and a slave (SYNC_MASTER) have covered it, whichever the configuration
//! promises. The two waits run side by side; a slave's timeout outranks a flush's in the
//! answer (`thenCombine`), and the message stays stored whatever the answer says.

use super::store::record::StoreRequest;
use super::store::{AppendError, Appended, MessageStore};
use super::{BrokerRole, BrokerTimer, FlushDiskType, Running};
use crate::ids::NodeId;
use crate::message::property;
use crate::node::{Context, Inbound};
use crate::protocol::route::perm;
use crate::protocol::{Response, ResponseBody, ResponseCode, SendMessage, SendResult};
use crate::timer::Timer;

/// A stored message whose answer waits for the flush, the slave, or both.
#[derive(Clone, Debug)]
pub(super) struct WaitingSend {
    inbound: Inbound,
    appended: Appended,
    queue_id: u32,
    store_host: NodeId,
    /// The flush's outcome; `None` while it is awaited.
    flush: Option<ResponseCode>,
    /// The replication's outcome; `None` while it is awaited.
    replica: Option<ResponseCode>,
}

impl WaitingSend {
    fn response(&self, code: ResponseCode) -> Response {
        Response::new(
            code,
            ResponseBody::Send(send_result(self.queue_id, &self.appended, self.store_host)),
        )
    }

    /// Both outcomes, combined as `thenCombine` does; `None` while one is awaited.
    fn outcome(&self) -> Option<ResponseCode> {
        let (flush, replica) = (self.flush?, self.replica?);
        Some(if replica != ResponseCode::Success {
            replica
        } else {
            flush
        })
    }
}

fn send_result(queue_id: u32, appended: &Appended, store_host: NodeId) -> SendResult {
    SendResult {
        store_host,
        size: appended.bytes as u32,
        queue_id,
        queue_offset: appended.queue_offset,
        commit_log_offset: appended.physical_offset,
    }
}

/// The log and the queue's next offset just before a put (`topicQueueTable`).
struct PutView {
    wrote: u64,
    queue_offset: Option<u64>,
}

impl PutView {
    fn of(store: &MessageStore, request: &StoreRequest) -> PutView {
        let key = (request.topic.clone(), request.queue_id);
        let table = &store.commit_log.topic_queue_table;
        PutView {
            wrote: store.max_wrote_offset(),
            queue_offset: table.get(&key).copied(),
        }
    }

    /// The put appended at the log's end and took the queue's next offset, which moved on by
    /// one: the offsets the answer names are the record's.
    fn check_put(&self, store: &MessageStore, request: &StoreRequest, appended: &Appended) {
        let end = store.max_wrote_offset();
        crate::invariant!(
            appended.physical_offset >= self.wrote && end == appended.next_offset(),
            "send-appended-at-log-end",
            "a record at {} ending {}: the log went from {} to {end}",
            appended.physical_offset,
            appended.next_offset(),
            self.wrote
        );
        if !super::transaction::sys_flag::dispatched(request.sys_flag) {
            return;
        }
        let key = (request.topic.clone(), request.queue_id);
        let next = store.commit_log.topic_queue_table.get(&key).copied();
        crate::invariant!(
            appended.queue_offset == self.queue_offset.unwrap_or(0)
                && next == Some(appended.queue_offset + 1),
            "send-queue-offset-assigned-in-order",
            "{}:{} was at {:?}, the record took {} and the queue is now at {next:?}",
            request.topic,
            request.queue_id,
            self.queue_offset,
            appended.queue_offset
        );
    }
}

impl Running {
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
        if !self.config.bugs.ignore_delay_level {
            super::schedule::rewrite_for_delay(&mut request);
        }
        let half_in_real_topic = self.config.bugs.half_in_real_topic;
        if super::transaction::is_half(&message.properties) && !half_in_real_topic {
            if self.config.transaction.reject_transaction_message {
                ctx.respond(inbound, Response::error(ResponseCode::NoPermission));
                return;
            }
            super::transaction::rewrite_half(&mut request);
            let topic = super::transaction::HALF_TOPIC;
            if self.topics.create_if_missing(ctx.disk(), topic, 1) {
                self.register_all(ctx);
            }
        }
        let store = &mut self.store;
        let before = PutView::of(store, &request);
        let appended = match store.put(ctx, &request) {
            Ok(appended) => appended,
            Err(AppendError::MessageSizeExceeded) => {
                ctx.respond(inbound, Response::error(ResponseCode::MessageIllegal));
                return;
            }
            // OS_PAGECACHE_BUSY: "[PC_SYNCHRONIZED]broker busy".
            Err(AppendError::NotAppended(_)) => {
                ctx.respond(inbound, Response::error(ResponseCode::SystemError));
                return;
            }
            // "service not available now. It may be caused by one of the following reasons:
            // the broker's disk is full".
            Err(AppendError::DiskFull) => {
                ctx.respond(inbound, Response::error(ResponseCode::ServiceNotAvailable));
                return;
            }
        };
        before.check_put(store, &request, &appended);
        let wait_store_msg_ok = message.property(property::WAIT_STORE_MSG_OK) != Some("false");
        let waiting = self.waiting_send(ctx, inbound, appended, send.queue_id, wait_store_msg_ok);
        self.wait_or_answer(ctx, waiting);
    }

    /// What the answer of a stored message waits for: nothing, the flush (SYNC_FLUSH), a slave
    /// (SYNC_MASTER), both, or, with a DLedger CommitLog, only the member's quorum.
    fn waiting_send(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        appended: Appended,
        queue_id: u32,
        wait_store_msg_ok: bool,
    ) -> WaitingSend {
        let store = &self.store;
        if appended.entry.is_some() {
            let early = self.config.bugs.ack_before_quorum;
            return WaitingSend {
                inbound,
                appended,
                queue_id,
                store_host: ctx.me(),
                flush: Some(ResponseCode::Success),
                replica: early.then_some(ResponseCode::Success),
            };
        }
        let waits_for_flush = self.config.flush_disk_type == FlushDiskType::SyncFlush
            && wait_store_msg_ok
            && !self.config.bugs.ack_before_sync_flush
            && store.flushed_where() < appended.next_offset();
        // `submitReplicaRequest`.
        let replica = if self.config.role != BrokerRole::SyncMaster || !wait_store_msg_ok {
            Some(ResponseCode::Success)
        } else if !self.ha_master.is_slave_ok(
            appended.next_offset(),
            self.config.store.ha_slave_fallbehind_max,
        ) {
            crate::probe!(SLAVE_NOT_AVAILABLE);
            Some(ResponseCode::SlaveNotAvailable)
        } else if self.ha_master.push_to_slave_max >= appended.next_offset() {
            Some(ResponseCode::Success)
        } else {
            None
        };
        WaitingSend {
            inbound,
            appended,
            queue_id,
            store_host: ctx.me(),
            flush: (!waits_for_flush).then_some(ResponseCode::Success),
            replica,
        }
    }

    /// Answers a send whose outcome is known, or registers its wait with its timeouts.
    fn wait_or_answer(&mut self, ctx: &mut Context<'_>, waiting: WaitingSend) {
        if let Some(code) = waiting.outcome() {
            ctx.respond(waiting.inbound, waiting.response(code));
            return;
        }
        self.next_wait += 1;
        let id = self.next_wait;
        if waiting.flush.is_none() {
            let timeout = self.config.store.sync_flush_timeout_ms;
            ctx.set_timer(timeout, Timer::Broker(BrokerTimer::FlushTimeout(id)));
        }
        let awaits_replica = waiting.replica.is_none() && waiting.appended.entry.is_none();
        let awaits_member = waiting.appended.entry.is_some();
        self.check_wait_order(&waiting.appended);
        let earlier = self.waiting_sends.insert(id, waiting);
        crate::invariant!(
            earlier.is_none(),
            "send-answered-once",
            "waiting send {id} was registered twice"
        );
        if awaits_replica {
            let timeout = self.config.store.slave_timeout_ms;
            ctx.set_timer(timeout, Timer::Broker(BrokerTimer::ReplicaTimeout(id)));
            // `wakeupAll`: the transfer loops push the new data at once.
            self.ha_data_appended(ctx, true);
        }
        if awaits_member {
            let progress = self.store.dledger().map(|m| m.take_progress());
            self.on_dledger_progress(ctx, progress.unwrap_or_default());
        }
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
        if self.topics.create_if_missing(ctx.disk(), &dlq, 1) {
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

    /// `GroupTransferService`'s list (and the flush's): sends wait in the order their
    /// records were appended, each past the one before, so a single offset settles a prefix.
    fn check_wait_order(&self, appended: &Appended) {
        let last = self.waiting_sends.last_key_value();
        crate::invariant!(
            last.is_none_or(|(_, w)| w.appended.next_offset() <= appended.physical_offset),
            "send-wait-list-in-log-order",
            "a send at {} waits after one ending at {:?}",
            appended.physical_offset,
            last.map(|(_, w)| w.appended.next_offset())
        );
    }

    /// The commitlog is flushed further: settle the flush of every send it now covers.
    pub(super) fn release_flushed_sends(&mut self, ctx: &mut Context<'_>) {
        let store = &self.store;
        let flushed = store.flushed_where();
        let wrote = store.max_wrote_offset();
        crate::invariant!(
            flushed <= wrote,
            "send-flushed-within-log",
            "the log is flushed to {flushed} but written only to {wrote}"
        );
        for wait in self.waiting_sends.values_mut() {
            if wait.flush.is_none() && wait.appended.next_offset() <= flushed {
                wait.flush = Some(ResponseCode::Success);
            }
        }
        self.answer_settled_sends(ctx);
    }

    /// The DLedger member answered the append of entry `index`: a quorum holds it
    /// (`Success`), or none did in time (WAIT_QUORUM_ACK_TIMEOUT, answered as
    /// OS_PAGECACHE_BUSY's SYSTEM_ERROR; the entry may still commit).
    pub(super) fn settle_member_append(
        &mut self,
        ctx: &mut Context<'_>,
        index: u64,
        code: ResponseCode,
    ) {
        let found = self
            .waiting_sends
            .values_mut()
            .find(|w| w.appended.entry == Some(index));
        if let Some(wait) = found
            && wait.replica.is_none()
        {
            wait.replica = Some(code);
            self.answer_settled_sends(ctx);
        }
    }

    /// A slave reported further: settle the replication of every send it now covers.
    pub(crate) fn release_replicated_sends(&mut self, ctx: &mut Context<'_>) {
        let replicated = self.ha_master.push_to_slave_max;
        for wait in self.waiting_sends.values_mut() {
            let by_slave = wait.appended.entry.is_none();
            if by_slave && wait.replica.is_none() && wait.appended.next_offset() <= replicated {
                wait.replica = Some(ResponseCode::Success);
            }
        }
        self.answer_settled_sends(ctx);
    }

    fn answer_settled_sends(&mut self, ctx: &mut Context<'_>) {
        let done: Vec<(u64, ResponseCode)> = self
            .waiting_sends
            .iter()
            .filter_map(|(id, wait)| Some((*id, wait.outcome()?)))
            .collect();
        for (id, code) in done {
            let wait = self.waiting_sends.remove(&id).expect("listed");
            ctx.respond(wait.inbound, wait.response(code));
        }
    }

    /// `syncFlushTimeout` passed for one waiting send: the message stays stored, the answer
    /// says its flush was not confirmed.
    pub(super) fn flush_timed_out(&mut self, ctx: &mut Context<'_>, id: u64) {
        if let Some(wait) = self.waiting_sends.get_mut(&id)
            && wait.flush.is_none()
        {
            crate::probe!(FLUSH_DISK_TIMEOUT);
            wait.flush = Some(ResponseCode::FlushDiskTimeout);
            self.answer_settled_sends(ctx);
        }
    }

    /// `slaveTimeout` passed for one waiting send: stored on the master, not confirmed on a
    /// slave.
    pub(super) fn replica_timed_out(&mut self, ctx: &mut Context<'_>, id: u64) {
        if let Some(wait) = self.waiting_sends.get_mut(&id)
            && wait.replica.is_none()
        {
            crate::probe!(FLUSH_SLAVE_TIMEOUT);
            wait.replica = Some(ResponseCode::FlushSlaveTimeout);
            self.answer_settled_sends(ctx);
        }
    }
}

//! The store's flush services: when the commitlog, the ConsumeQueues and the checkpoint are
//! forced to the media.

use super::{InFlight, MessageStore, StoreTimer, store_timer};
use crate::broker::config::FlushDiskType;
use crate::disk::FlushId;
use crate::event::Event;
use crate::node::Context;

impl MessageStore {
    pub(super) fn start_services(&mut self, ctx: &mut Context<'_>) {
        let config = &self.settings.config;
        // A DLedger CommitLog is flushed by its member (`DLedgerCommitLog.start`).
        let classic = self.dledger.is_none();
        if classic && self.settings.flush_disk_type == FlushDiskType::AsyncFlush {
            ctx.set_timer(
                config.flush_interval_commit_log_ms,
                store_timer(StoreTimer::FlushCommitLog),
            );
        }
        if classic && self.transient() {
            ctx.set_timer(
                config.commit_interval_commit_log_ms,
                store_timer(StoreTimer::CommitCommitLog),
            );
        }
        ctx.set_timer(
            config.flush_interval_consume_queue_ms,
            store_timer(StoreTimer::FlushConsumeQueue),
        );
        let clean = super::clean::CLEAN_INITIAL_DELAY_MS;
        ctx.set_timer(clean, store_timer(StoreTimer::CleanFiles));
        let check = super::clean::DISK_CHECK_INITIAL_DELAY_MS;
        ctx.set_timer(check, store_timer(StoreTimer::DiskCheck));
    }

    fn transient(&self) -> bool {
        self.settings.config.transient_store_pool_enable && !self.settings.is_slave
    }

    /// `FlushRealTimeService`: flush once at least `flushCommitLogLeastPages` are dirty, and
    /// everything every `flushCommitLogThoroughInterval`.
    pub(super) fn flush_commit_log_tick(&mut self, ctx: &mut Context<'_>) {
        let config = &self.settings.config;
        let mut least_pages = config.flush_commit_log_least_pages;
        let now = ctx.wall_clock_ms();
        if now >= self.last_thorough_flush_ms + config.flush_commit_log_thorough_interval_ms {
            self.last_thorough_flush_ms = now;
            least_pages = 0;
        }
        let interval = config.flush_interval_commit_log_ms;
        if !self.start_commit_log_flush(ctx, least_pages) {
            // Nothing worth flushing: sleep another interval.
            ctx.set_timer(interval, store_timer(StoreTimer::FlushCommitLog));
        }
    }

    /// `GroupCommitService`: keep flushing while some send waits beyond the flushed offset.
    pub(super) fn group_commit(&mut self, ctx: &mut Context<'_>) {
        if self.commit_log_flush.is_none() && self.flushed_where() < self.group_commit_target {
            self.start_commit_log_flush(ctx, 0);
        }
    }

    fn start_commit_log_flush(&mut self, ctx: &mut Context<'_>, least_pages: u64) -> bool {
        if self.commit_log_flush.is_some() {
            return true;
        }
        let transient = self.transient();
        let Some((file, position)) = self
            .commit_log
            .files
            .flush_candidate(least_pages, transient)
        else {
            return false;
        };
        let Some(path) = self.commit_log.files.file_at(file).map(|f| f.path.clone()) else {
            return false;
        };
        let store_timestamp_ms = self
            .commit_log
            .files
            .files
            .last()
            .map_or(0, |f| f.store_timestamp_ms);
        let id = ctx.disk().flush(&path);
        self.commit_log_flush = Some(InFlight {
            id,
            file,
            position,
            store_timestamp_ms,
        });
        true
    }

    /// `FlushConsumeQueueService`: each queue at 2 dirty pages, all of them (and then the
    /// checkpoint) every `flushConsumeQueueThoroughInterval`.
    pub(super) fn flush_consume_queue_tick(&mut self, ctx: &mut Context<'_>) {
        let config = &self.settings.config;
        let interval = config.flush_interval_consume_queue_ms;
        let mut least_pages = config.flush_consume_queue_least_pages;
        let now = ctx.wall_clock_ms();
        let thorough =
            now >= self.last_cq_thorough_flush_ms + config.flush_consume_queue_thorough_interval_ms;
        if thorough {
            self.last_cq_thorough_flush_ms = now;
            least_pages = 0;
        }
        let keys: Vec<(String, u32)> = self.consume_queues.keys().cloned().collect();
        for key in keys {
            let busy = self.consume_queue_flushes.values().any(|(k, _)| *k == key);
            let cq = &self.consume_queues[&key];
            if busy {
                continue;
            }
            let Some((file, position)) = cq.files.flush_candidate(least_pages, false) else {
                continue;
            };
            let Some(path) = cq.files.file_at(file).map(|f| f.path.clone()) else {
                continue;
            };
            let id = ctx.disk().flush(&path);
            let flight = InFlight {
                id,
                file,
                position,
                store_timestamp_ms: 0,
            };
            self.consume_queue_flushes.insert(id, (key, flight));
        }
        if thorough {
            self.checkpoint_after_round = true;
            self.flush_checkpoint_if_round_done(ctx);
        }
        ctx.set_timer(interval, store_timer(StoreTimer::FlushConsumeQueue));
    }

    fn flush_checkpoint_if_round_done(&mut self, ctx: &mut Context<'_>) {
        if self.checkpoint_after_round && self.consume_queue_flushes.is_empty() {
            self.checkpoint_after_round = false;
            self.checkpoint.flush(ctx.disk());
        }
    }

    /// A flush completed. Returns whether the commitlog's flushed offset moved.
    pub fn on_flushed(&mut self, ctx: &mut Context<'_>, id: FlushId) -> bool {
        if let Some(durable) = self.dledger.as_mut().and_then(|m| m.on_flushed(id)) {
            ctx.emit(Event::Flushed {
                broker: self.settings.broker_name.clone(),
                offset: durable,
            });
            return false;
        }
        if let Some(at) = self
            .index
            .flushing
            .iter()
            .position(|(flush, _)| *flush == id)
        {
            // `IndexService.flush`: a full file is durable; the checkpoint may say so.
            let (_, end_ms) = self.index.flushing.remove(at);
            let checkpoint = &mut self.checkpoint;
            checkpoint.index_msg_timestamp_ms = checkpoint.index_msg_timestamp_ms.max(end_ms);
            checkpoint.flush(ctx.disk());
            return false;
        }
        if let Some((key, flight)) = self.consume_queue_flushes.remove(&id) {
            if let Some(cq) = self.consume_queues.get_mut(&key) {
                cq.files.flushed(flight.file, flight.position);
            }
            self.flush_checkpoint_if_round_done(ctx);
            return false;
        }
        let Some(flight) = self.commit_log_flush.take_if(|flight| flight.id == id) else {
            return false; // the checkpoint's own flush
        };
        let before = self.flushed_where();
        self.commit_log.files.flushed(flight.file, flight.position);
        // FlushRealTimeService takes the timestamp before it flushes: records appended while
        // the flush ran are not claimed. GroupCommitService takes it after its flush.
        let store_timestamp_ms = match self.settings.flush_disk_type {
            FlushDiskType::AsyncFlush => flight.store_timestamp_ms,
            FlushDiskType::SyncFlush => {
                (self.commit_log.files.file_at(flight.file)).map_or(0, |f| f.store_timestamp_ms)
            }
        };
        if store_timestamp_ms > 0 {
            self.checkpoint.physic_msg_timestamp_ms = store_timestamp_ms;
        }
        crate::invariant!(
            self.flushed_where() >= before,
            "commitlog-flushed-never-backwards",
            "the flushed offset moved from {before} back to {}",
            self.flushed_where()
        );
        let moved = self.flushed_where() > before;
        if moved {
            ctx.emit(Event::Flushed {
                broker: self.settings.broker_name.clone(),
                offset: self.flushed_where(),
            });
        }
        match self.settings.flush_disk_type {
            FlushDiskType::AsyncFlush => {
                let interval = self.settings.config.flush_interval_commit_log_ms;
                ctx.set_timer(interval, store_timer(StoreTimer::FlushCommitLog));
            }
            FlushDiskType::SyncFlush => self.group_commit(ctx),
        }
        moved
    }
}

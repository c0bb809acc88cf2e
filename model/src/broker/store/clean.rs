//! Retention (`DefaultMessageStore.cleanFilesPeriodically`): `CleanCommitLogService` deletes
//! the oldest CommitLog files once they are `fileReservedTime` old by their mtime, in the
//! `deleteWhen` hours or when the disk is fuller than `diskMaxUsedSpaceRatio`, and above 85 %
//! whatever their age (`cleanFileForciblyEnable`); `CleanConsumeQueueService` then deletes the
//! ConsumeQueue files wholly below the CommitLog's new minimum and moves each queue's minimum
//! offset up to it. Above 90 % the store stops taking writes (`DISK_FULL`), as the 10 s
//! `isSpaceFull` check also decides.
//!
//! Not modelled: the 100 ms pauses between deleted files (`deleteCommitLogFilesInterval`) and
//! between queues (a pass deletes its batch at once), a file still referenced by a reader
//! (`destroyMapedFileIntervalForcibly`: nothing holds a file across a step here), manual
//! deletion by the admin tool, and the retention of a DLedger member's own files.

use super::MessageStore;
use crate::disk::{Disk, DiskUsage};
use crate::node::Context;

/// `rocketmq.broker.diskSpaceWarningLevelRatio`: above it the disk is full to writers.
pub const DISK_SPACE_WARNING_LEVEL_PERCENT: u64 = 90;
/// `rocketmq.broker.diskSpaceCleanForciblyRatio`: above it files go whatever their age.
pub const DISK_SPACE_CLEAN_FORCIBLY_PERCENT: u64 = 85;
/// `addScheduleTask`: the first pass a minute after the store starts.
pub const CLEAN_INITIAL_DELAY_MS: u64 = 60_000;
/// `diskCheckScheduledExecutorService`: `isSpaceFull` every 10 s, from 1 s after the start.
pub const DISK_CHECK_INITIAL_DELAY_MS: u64 = 1_000;
pub const DISK_CHECK_INTERVAL_MS: u64 = 10_000;

/// The retention services' state.
#[derive(Clone, Debug, Default)]
pub struct Retention {
    /// `RunningFlags.DISK_FULL_BIT`: the store refuses writes (SERVICE_NOT_AVAILABLE).
    pub disk_full: bool,
    /// `CleanConsumeQueueService.lastPhysicalMinOffset`.
    last_physical_min_offset: u64,
}

/// What one pass of `CleanCommitLogService.isSpaceToDelete` found.
struct Space {
    /// Fuller than `diskMaxUsedSpaceRatio`: expired files may go outside `deleteWhen`.
    full: bool,
    /// Fuller than 85 %: files go whatever their age (`cleanImmediately`).
    clean_immediately: bool,
}

/// `UtilAll.isItTimeToDo`: whether the hour of `wall_ms` (UTC, the machines' zone) is one of
/// `when`'s, a `;`-separated list of hours. An entry that is not a number ends the check (the
/// exception `run` swallows).
pub fn is_it_time_to_do(when: &str, wall_ms: u64) -> bool {
    let hour = (wall_ms / 3_600_000) % 24;
    for entry in when.split(';') {
        match entry.trim().parse::<u64>() {
            Ok(h) if h == hour => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// `getDiskMaxUsedSpaceRatio`: clamped to 10..=95.
pub fn max_used_space_percent(configured: u64) -> u64 {
    configured.clamp(10, 95)
}

impl MessageStore {
    /// `isSpaceFull`, every 10 s: the disk is full to writers above 90 %.
    pub(super) fn disk_check(&mut self, ctx: &mut Context<'_>) {
        let usage = ctx.disk().usage();
        self.set_disk_full(usage.above_percent(DISK_SPACE_WARNING_LEVEL_PERCENT));
        ctx.set_timer(
            DISK_CHECK_INTERVAL_MS,
            super::store_timer(super::StoreTimer::DiskCheck),
        );
    }

    fn set_disk_full(&mut self, full: bool) {
        if full && !self.retention.disk_full {
            crate::probe!(DISK_FULL);
        }
        self.retention.disk_full = full;
    }

    /// `cleanFilesPeriodically`: the CommitLog's pass, then the ConsumeQueues'.
    pub(super) fn clean_files(&mut self, ctx: &mut Context<'_>) {
        let wall_ms = ctx.wall_clock_ms();
        let space = self.space_to_delete(ctx.disk().usage());
        let config = &self.settings.config;
        let time_up = is_it_time_to_do(&config.delete_when, wall_ms);
        if (time_up || space.full) && self.dledger.is_none() {
            let at_once = config.clean_file_forcibly_enable && space.clean_immediately
                || self.settings.bugs.ignore_file_reserved_time;
            let reserved_ms = config.file_reserved_time_ms;
            let files = &mut self.commit_log.files;
            let deleted = files.delete_expired_by_time(ctx.disk(), reserved_ms, wall_ms, at_once);
            if deleted > 0 {
                crate::probe!(RETENTION_DELETED);
            }
        }
        self.clean_consume_queues(ctx.disk());
        ctx.set_timer(
            self.settings.config.clean_resource_interval_ms,
            super::store_timer(super::StoreTimer::CleanFiles),
        );
    }

    /// `isSpaceToDelete`: the CommitLog and the ConsumeQueues share the one disk here.
    fn space_to_delete(&mut self, usage: DiskUsage) -> Space {
        let ratio = max_used_space_percent(self.settings.config.disk_max_used_space_percent);
        let mut clean_immediately = false;
        if usage.above_percent(DISK_SPACE_WARNING_LEVEL_PERCENT) {
            self.set_disk_full(true);
            clean_immediately = true;
        } else if usage.above_percent(DISK_SPACE_CLEAN_FORCIBLY_PERCENT) {
            clean_immediately = true;
        } else {
            self.set_disk_full(false);
        }
        Space {
            full: usage.above_percent(ratio),
            clean_immediately,
        }
    }

    /// `CleanConsumeQueueService.deleteExpiredFiles`: when the CommitLog's minimum moved,
    /// every queue drops its files wholly below it and corrects its minimum offset.
    fn clean_consume_queues(&mut self, disk: &mut dyn Disk) {
        let min_offset = self.min_physical_offset();
        if min_offset <= self.retention.last_physical_min_offset {
            return;
        }
        self.retention.last_physical_min_offset = min_offset;
        for cq in self.consume_queues.values_mut() {
            cq.delete_expired_files(disk, min_offset);
        }
        self.index.delete_expired(disk, min_offset);
    }
}

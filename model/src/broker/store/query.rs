//! Messages by key and by offset: the IndexFile built at dispatch
//! (`CommitLogDispatcherBuildIndex`), QUERY_MESSAGE (`DefaultMessageStore.queryMessage`) and
//! VIEW_MESSAGE_BY_ID (`selectOneMessageByOffset`).

use super::MessageStore;
use super::index::{Key, MAX_QUERY};
use super::record::DispatchRequest;
use crate::disk::Disk;

impl MessageStore {
    /// `IndexService.buildIndex`: the record's `UNIQ_KEY` and each of its `KEYS`, unless the
    /// index already reaches past it or it is a rollback's record.
    pub(super) fn build_index(&mut self, disk: &mut dyn Disk, request: &DispatchRequest) {
        if !self.settings.config.message_index_enable
            || crate::broker::transaction::sys_flag::rolled_back(request.sys_flag)
            || request.commit_log_offset < self.index.end_phy()
        {
            return;
        }
        let keys = (request.keys.as_deref().unwrap_or_default())
            .split(' ')
            .filter(|k| !k.is_empty());
        for key in request.uniq_key.as_deref().into_iter().chain(keys) {
            let key = Key {
                topic: &request.topic,
                key,
                offset: request.commit_log_offset,
                store_timestamp_ms: request.store_timestamp_ms,
            };
            let skew = u32::from(self.settings.bugs.index_wrong_slot);
            self.index.put_key(disk, key, self.wall_ms, skew);
        }
    }

    /// QUERY_MESSAGE: the records the index finds for `topic#key` stored in the span, oldest
    /// first (a hash match may be another key's: the caller compares).
    pub fn query_message(
        &self,
        disk: &dyn Disk,
        (topic, key): (&str, &str),
        max: u32,
        span: (u64, u64),
    ) -> Vec<Vec<u8>> {
        let max = (max as usize).min(MAX_QUERY);
        let mut offsets = self.index.query(disk, (topic, key), max, span);
        offsets.sort_unstable();
        offsets.dedup();
        let records = offsets.into_iter().filter_map(|o| self.record_at(disk, o));
        records.collect()
    }

    /// VIEW_MESSAGE_BY_ID: the whole record at a CommitLog offset, if one is there.
    pub fn record_at(&self, disk: &dyn Disk, offset: u64) -> Option<Vec<u8>> {
        let size = self.read_log(disk, offset, 4)?;
        let size = u32::from_be_bytes(size.try_into().ok()?);
        let record = self.read_log(disk, offset, u64::from(size))?;
        super::record::decode(&record).map(|_| record)
    }
}

//! The CommitLog as a DLedger member's log (`DLedgerCommitLog`). A put encodes the record as
//! the classic CommitLog does and appends it as the body of a DLedger entry; the append hook
//! writes the record's PHYSICALOFFSET as the entry's position + 48, so a record is read where
//! it lies in the entry data files. The queue offset is taken before the quorum (under the put
//! lock), and the send's answer waits for the member's quorum, not for a flush or a slave.
//! Dispatch reads entries up to the committed position (`getMaxOffset` is `getCommittedPos`),
//! on the leader and on the followers alike, so ConsumeQueues hold committed records only.
//! Recovery is the member's own; the ConsumeQueues are cut back to what its log holds.

use super::commit_log::{AppendError, Appended};
use super::record::{self, Scan, StoreRequest};
use super::{Arrival, MessageStore};
use crate::disk::Disk;
use crate::dledger::entry::BODY_OFFSET;
use crate::dledger::server::DLedgerServer;
use crate::event::Event;
use crate::node::Context;

impl MessageStore {
    pub(super) fn member(&self) -> &DLedgerServer {
        self.dledger
            .as_ref()
            .expect("a DLedger store has its member")
    }

    /// The member this store's log belongs to, if the CommitLog is DLedger's.
    pub fn dledger(&mut self) -> Option<&mut DLedgerServer> {
        self.dledger.as_mut()
    }

    /// `DLedgerCommitLog.asyncPutMessage`: the record, its queue offset taken now, appended
    /// as a DLedger entry at the leader. Refused when this member does not lead or too many
    /// appends wait for their quorum.
    pub(super) fn put_dledger(
        &mut self,
        ctx: &mut Context<'_>,
        request: &StoreRequest,
        now: u64,
    ) -> Result<Appended, AppendError> {
        let (queue_offset, length) = self.commit_log.reserve(request)?;
        let host = self.settings.store_host;
        let body = record::encode(request, queue_offset, 0, now, host);
        let mut physical_offset = 0;
        let member = self
            .dledger
            .as_mut()
            .expect("a DLedger store has its member");
        let appended = member
            .append_hooked(ctx, body, &mut |pos, body| {
                physical_offset = pos + BODY_OFFSET;
                let field = record::field::PHYSICAL_OFFSET;
                body[field..field + 8].copy_from_slice(&physical_offset.to_be_bytes());
                record::check_header(body, physical_offset);
            })
            .map_err(AppendError::NotAppended)?;
        crate::invariant!(
            physical_offset == appended.pos + BODY_OFFSET,
            "dledger-record-at-entry-body",
            "entry {} at {} holds a record claiming offset {physical_offset}",
            appended.index,
            appended.pos
        );
        self.commit_log.took(request, queue_offset);
        Ok(Appended {
            physical_offset,
            bytes: length,
            queue_offset,
            store_timestamp_ms: now,
            entry: Some(appended.index),
        })
    }

    /// `doReput` over DLedger entries: every committed record past `reput_from` (an entry's
    /// position), the blank at a data file's tail passed to the next file.
    pub(super) fn reput_dledger(&mut self, disk: &mut dyn Disk) -> Vec<Arrival> {
        let entries_per_file = self.settings.config.consume_queue_entries_per_file;
        let mut arrivals = Vec::new();
        let (begin, committed) = {
            let member = self.member();
            let log = member.store();
            let end = match self.settings.bugs.dispatch_past_committed {
                true => log.data_end(),
                false => member.committed_pos(),
            };
            (log.data_begin(), end)
        };
        self.reput_from = self.reput_from.max(begin);
        let from = self.reput_from;
        while self.reput_from < committed {
            let Some(entry) = self.member().entry_at(disk, self.reput_from) else {
                // A blank fills the file's tail: go on in the next file.
                let next = self.roll_next_file(self.reput_from);
                if next >= committed {
                    break;
                }
                self.reput_from = next;
                continue;
            };
            let Scan::Record(request) = record::scan(&entry.body, false) else {
                break;
            };
            crate::invariant!(
                request.commit_log_offset == entry.pos + BODY_OFFSET,
                "dledger-dispatch-record-at-entry-body",
                "the entry at {} holds a record claiming offset {}",
                entry.pos,
                request.commit_log_offset
            );
            self.dispatch_and_note(disk, &request, entries_per_file, &mut arrivals);
            self.reput_from = entry.pos + entry.size();
        }
        if self.reput_from > from {
            let member = self.member();
            self.dispatch_reports.push(Event::DLedgerDispatched {
                group: member.group().to_string(),
                member: member.self_id().to_string(),
                from,
                to: self.reput_from,
            });
        }
        arrivals
    }

    /// Recovery of a DLedger store (`DLedgerCommitLog.recover`): the member recovered its
    /// own log; ConsumeQueues reaching past its end are cut back to it.
    pub(super) fn recover_dledger(&mut self, disk: &mut dyn Disk, max_physic_in_queues: i64) {
        let end = self.member().store().data_end();
        if max_physic_in_queues >= end as i64
            && !self.settings.bugs.keep_consume_queue_on_truncation
        {
            for cq in self.consume_queues.values_mut() {
                cq.truncate_dirty(disk, end);
            }
        }
    }
}

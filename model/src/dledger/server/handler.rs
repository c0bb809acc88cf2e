//! The follower's push handler (`DLedgerEntryPusher.EntryHandler`) as 0.3.1.2 runs it. An
//! APPEND waits in `writeRequestMap` by its index (a second one for that index is answered
//! REPEATED_PUSH) and is applied once the log reaches the index before it, so appends that
//! arrive out of order, or after a lost one, wait for the gap to fill instead of failing. A
//! COMPARE or TRUNCATE empties the map first (its waiting appends are never answered: their
//! leader's requests time out). While nothing applies, `checkAbnormalFuture` looks at the map
//! at most once a second: an append the log already holds is answered SUCCESS when it is the
//! same entry and INCONSISTENT_STATE when not; if the next index is not waiting, the lowest
//! append that waited longer than its 1 s future is answered INCONSISTENT_STATE (it stays in
//! the map), which sends the leader back to COMPARE.
//!
//! The handler thread's loop is the member's calls: every push, and the 10 ms flush timer
//! (`on_idle`), run it; a push to a member that is no follower is not handled here (see
//! `on_push`).

use super::DLedgerServer;
use crate::dledger::follower::Push;
use crate::node::{Context, Inbound};
use crate::protocol::dledger::{DLedgerResponseCode, PushRequest};
use crate::time::Time;
use std::collections::BTreeMap;

/// `TimeoutFuture<>(1000)`: how long an append waits before the abnormal check may answer it.
const FUTURE_TIMEOUT_MS: u64 = 1_000;
/// `checkAbnormalFuture` runs at most this often.
const CHECK_EVERY_MS: u64 = 1_000;

/// An APPEND waiting for the log to reach it.
pub(super) struct Waiting {
    request: PushRequest,
    inbound: Inbound,
    arrived: Time,
    /// Answered already (by the abnormal check): a later answer is not sent again.
    answered: bool,
}

/// `writeRequestMap` and when it was last checked.
#[derive(Default)]
pub(super) struct WriteRequests {
    waiting: BTreeMap<u64, Waiting>,
    last_check: Option<Time>,
}

impl DLedgerServer {
    /// `handlePush` of an APPEND: it waits for its turn (REPEATED_PUSH if its index waits
    /// already).
    pub(super) fn hold_append(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: PushRequest,
    ) {
        let Push::Append(entry) = &request.push else {
            return;
        };
        let index = entry.index;
        if self.writes.waiting.contains_key(&index) {
            self.answer_code(ctx, inbound, &request, DLedgerResponseCode::RepeatedPush);
            return;
        }
        let waiting = Waiting {
            request,
            inbound,
            arrived: ctx.now(),
            answered: false,
        };
        self.writes.waiting.insert(index, waiting);
    }

    /// A COMPARE or TRUNCATE empties the map: the appends waiting there are never answered.
    pub(super) fn drop_waiting_appends(&mut self) {
        self.writes.waiting.clear();
    }

    /// `doWork`'s APPEND branch: applies the waiting appends that follow the log, in order;
    /// when the next one is not there, the abnormal check.
    pub(super) fn apply_waiting_appends(&mut self, ctx: &mut Context<'_>) {
        loop {
            let next = self
                .store
                .end()
                .map_or(self.store.begin_index(), |(end, _)| end + 1);
            let Some(waiting) = self.writes.waiting.remove(&next) else {
                break;
            };
            // One the abnormal check answered already is applied, not answered again.
            let inbound = (!waiting.answered).then_some(waiting.inbound);
            self.answer_push(ctx, inbound, &waiting.request);
        }
        self.check_abnormal(ctx);
    }

    /// `checkAbnormalFuture`, at most once a second.
    fn check_abnormal(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        if self.writes.waiting.is_empty()
            || self
                .writes
                .last_check
                .is_some_and(|at| now.ms_since(at) < CHECK_EVERY_MS)
        {
            return;
        }
        self.writes.last_check = Some(now);
        let end = self.store.end().map(|(end, _)| end);
        let behind: Vec<u64> = (self.writes.waiting.keys())
            .take_while(|index| end.is_some_and(|end| **index <= end))
            .copied()
            .collect();
        for index in behind {
            let waiting = self.writes.waiting.remove(&index).expect("listed");
            let Push::Append(entry) = &waiting.request.push else {
                continue;
            };
            let same = self.store.get(ctx.disk(), index).as_ref() == Some(entry);
            let code = match same {
                true => DLedgerResponseCode::Success,
                false => DLedgerResponseCode::InconsistentState,
            };
            if !waiting.answered {
                self.answer_code(ctx, waiting.inbound, &waiting.request, code);
            }
        }
        let next = end.map_or(self.store.begin_index(), |end| end + 1);
        if self.writes.waiting.contains_key(&next) {
            return;
        }
        let timed_out = (self.writes.waiting.iter_mut())
            .find(|(_, w)| now.ms_since(w.arrived) > FUTURE_TIMEOUT_MS);
        let Some((_, waiting)) = timed_out else {
            return;
        };
        if !std::mem::replace(&mut waiting.answered, true) {
            let (inbound, request) = (waiting.inbound, waiting.request.clone());
            self.answer_code(
                ctx,
                inbound,
                &request,
                DLedgerResponseCode::InconsistentState,
            );
        }
    }

    /// Answers `request` with `code` and the log's span.
    fn answer_code(
        &self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: &PushRequest,
        code: DLedgerResponseCode,
    ) {
        super::answer_with(ctx, inbound, request, code, self.span());
    }
}

//! A broker whose CommitLog is a DLedger member's log (`enableDLegerCommitLog`): the broker
//! routes the member's requests, the answers to its pushes and its timers to it, and acts on
//! what the member reports: a committed index that moved makes dispatch run (ConsumeQueues
//! follow the committed position), an append a quorum acknowledged or that timed out answers
//! the send waiting for it. The member's leader is the master (static for now: the
//! configuration names it).

use super::Running;
use crate::dledger::server::{DLedgerTimer, Progress};
use crate::ids::RequestId;
use crate::node::{Context, Inbound, RpcError};
use crate::protocol::{Request, Response, ResponseCode};

impl Running {
    /// Whether this broker's CommitLog is a DLedger member's.
    pub(super) fn is_dledger(&self) -> bool {
        self.config.dledger.is_some()
    }

    /// A DLedger request (push, vote, heartbeat) from another member of the group.
    pub(super) fn on_dledger_request(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: Request,
    ) {
        let Some(member) = self.store.dledger() else {
            ctx.not_supported(inbound);
            return;
        };
        let progress = member.on_request(ctx, inbound, request);
        self.on_dledger_progress(ctx, progress);
    }

    /// The answer to one of the member's pushes.
    pub(super) fn on_dledger_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        if let Some(member) = self.store.dledger() {
            let progress = member.on_response(ctx, id, result);
            self.on_dledger_progress(ctx, progress);
        }
    }

    pub(super) fn on_dledger_timer(&mut self, ctx: &mut Context<'_>, fired: DLedgerTimer) {
        if let Some(member) = self.store.dledger() {
            let progress = member.on_timer(ctx, fired);
            self.on_dledger_progress(ctx, progress);
        }
    }

    /// What the member made: dispatch follows the committed position; acknowledged and
    /// timed-out appends answer their sends.
    pub(super) fn on_dledger_progress(&mut self, ctx: &mut Context<'_>, progress: Vec<Progress>) {
        for step in progress {
            match step {
                Progress::Committed { .. } => self.store.schedule_reput(ctx),
                Progress::Acked { index, .. } => {
                    self.settle_member_append(ctx, index, ResponseCode::Success);
                }
                Progress::TimedOut { index, .. } => {
                    self.settle_member_append(ctx, index, ResponseCode::SystemError);
                }
                Progress::RoleChanged { .. } => {}
            }
        }
    }
}

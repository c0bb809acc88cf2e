//! A DLedger member as a service a broker hosts (`DLedgerServer`): its store, its term file,
//! its election state, and when it leads, one dispatcher per follower and the quorum
//! accounting (`leader`). The host hands it the DLedger requests, the answers to its pushes
//! and its timers, and appends through it when it leads; every handler returns the
//! [`Progress`] made (the committed index moved, an append was acknowledged or timed out),
//! which the host turns into answers to waiting sends and into dispatch up to
//! [`DLedgerServer::committed_pos`].
//!
//! A configuration that names a leader runs it static: every member starts in its term (term
//! 1 on a fresh disk), the leader or that leader's follower, and nothing is ever elected. One
//! that names none runs 0.3.1.2's `DLedgerLeaderElector` (`elector`): every member starts as
//! a candidate in the term its term file holds, votes, and the leader heartbeats. A follower
//! applies pushes as `EntryHandler` does, with the checks of the store (same term and leader
//! for APPEND and TRUNCATE, or INCONSISTENT_STATE) and answers each as it arrives; a member
//! that is not a follower leaves pushes unanswered, as 0.3.1.2's handler thread does. Votes
//! and heartbeats are answered by `vote`'s rules.

mod elector;
mod handler;
mod leader;
#[cfg(test)]
mod tests;

pub use leader::{Appended, Refused};

use super::config::DLedgerConfig;
use super::follower::{self, Push, PushAnswer};
use super::store::{DLedgerStore, LogChange};
use super::term::TermFile;
use super::vote::{HeartbeatAnswer, Member, Role, VoteResult};
use crate::disk::{Disk, FlushId};
use crate::event::Event;
use crate::ids::RequestId;
use crate::node::{Context, Inbound};
use crate::protocol::dledger::{
    DLedgerResponseCode, HeartbeatCall, HeartbeatReply, PushRequest, PushResponse, VoteCall,
    VoteReply,
};
use crate::protocol::{Request, Response, ResponseBody};
use crate::timer::Timer;
use std::collections::BTreeMap;

/// The term every member of a group with a static leader starts in on a fresh disk.
const STATIC_TERM: u64 = 1;

/// A member's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DLedgerTimer {
    /// `FlushDataService`: the data and index files forced, every `flushFileInterval`.
    Flush,
    /// The checkpoint of the end and committed index, every `checkPointInterval`.
    Checkpoint,
    /// The leader's dispatchers and quorum check look at the time (`push_tick_ms`).
    PushTick,
    /// The elector's state maintainer (`StateMaintainer`) looks at the time: armed only for
    /// when something can be due, not every 10 ms (see `elector`).
    Maintain,
}

fn timer(timer: DLedgerTimer) -> Timer {
    Timer::DLedger(timer)
}

/// What the host learns from its member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The committed index moved to `index`; committed entries end at data position `pos`
    /// (`getCommittedPos`, what DLedgerCommitLog's `getConfirmOffset` returns).
    Committed { index: u64, pos: u64 },
    /// A quorum holds this leader's append at `index` (its future completes with SUCCESS).
    Acked { index: u64, pos: u64 },
    /// No quorum within `maxWaitAckTimeMs` (WAIT_QUORUM_ACK_TIMEOUT); the entry stays in
    /// the log and may still commit.
    TimedOut { index: u64, pos: u64 },
    /// An append of an earlier leadership of this member, answered TERM_CHANGED once it
    /// leads again: the entry may or may not have committed.
    TermChanged { index: u64 },
    /// The member's role changed (`RoleChangeHandler.handle(term, role)`): the broker follows
    /// it (`DLedgerRoleChangeHandler`).
    RoleChanged { role: Role, term: u64 },
}

pub struct DLedgerServer {
    config: DLedgerConfig,
    member: Member,
    store: DLedgerStore,
    /// `committedPos`: where the committed entries end in the data files.
    committed_pos: u64,
    /// The committed index last reported as progress.
    reported_committed: Option<u64>,
    /// The committed index last reported in the history (`DLedgerCommitted`).
    published_committed: Option<u64>,
    /// Set while this member leads.
    leader: Option<leader::Leadership>,
    /// Whether a push tick is armed (a member that leads again must not start a second chain).
    push_tick_armed: bool,
    /// The elector, unless the configuration names a static leader.
    elector: Option<elector::Elector>,
    /// The pushes awaiting their answer.
    in_flight: BTreeMap<RequestId, leader::InFlight>,
    /// Whether anything was written since the last flush (`MmapFileList.flush` forces only
    /// what was written).
    dirty: bool,
    /// Flushes in flight, in the order they were issued, each with the data end it covers.
    flushing: Vec<(Vec<FlushId>, u64)>,
    /// The `follower_ack_before_write` bug: APPENDs answered SUCCESS and not written yet, in
    /// index order; written at the next flush tick, gone if the process dies first.
    unwritten: Vec<super::entry::Entry>,
    /// The appends waiting for their turn (`writeRequestMap`).
    writes: handler::WriteRequests,
    /// The appends an earlier leadership left waiting for their quorum.
    abandoned: Vec<u64>,
    progress: Vec<Progress>,
}

impl DLedgerServer {
    /// Opens the member on its disk: recovers the store, loads the term file and arms its
    /// timers. With a static leader, a fresh disk starts in the static term and the member
    /// takes its role from the configuration; without one, it starts as a candidate in the
    /// term its file holds (0 on a fresh disk), reports that role at once
    /// ([`Progress::RoleChanged`], from [`DLedgerServer::take_progress`]) and its elector
    /// looks at the time within 10 ms.
    pub fn open(ctx: &mut Context<'_>, config: DLedgerConfig) -> Result<DLedgerServer, String> {
        let dir = config.store_dir.clone();
        let store = DLedgerStore::open(
            ctx.disk(),
            &dir,
            config.data_file_size,
            config.index_file_units,
        )?;
        let member = member_at_start(ctx.disk(), &config);
        let committed_pos = entry_end(&store, ctx.disk(), store.committed_index());
        let mut server = DLedgerServer {
            member,
            store,
            committed_pos,
            reported_committed: None,
            published_committed: None,
            leader: None,
            push_tick_armed: false,
            elector: None,
            in_flight: BTreeMap::new(),
            dirty: false,
            flushing: Vec::new(),
            unwritten: Vec::new(),
            writes: handler::WriteRequests::default(),
            abandoned: Vec::new(),
            progress: Vec::new(),
            config,
        };
        server.reported_committed = server.store.committed_index();
        server.sync_ledger_end();
        ctx.set_timer(server.config.flush_interval_ms, timer(DLedgerTimer::Flush));
        let checkpoint = server.config.checkpoint_interval_ms;
        ctx.set_timer(checkpoint, timer(DLedgerTimer::Checkpoint));
        if server.member.role == Role::Leader {
            server.become_leader(ctx);
        }
        if server.config.leader_id.is_none() {
            server.start_elector(ctx);
        }
        let from = server
            .store
            .end()
            .map_or(server.store.begin_index(), |(end, _)| end + 1);
        ctx.emit(Event::DLedgerCut {
            group: server.config.group.clone(),
            member: server.config.self_id.clone(),
            from,
            recovery: true,
        });
        server.publish(ctx);
        Ok(server)
    }

    pub fn group(&self) -> &str {
        &self.config.group
    }

    pub fn self_id(&self) -> &str {
        &self.config.self_id
    }

    pub fn role(&self) -> Role {
        self.member.role
    }

    pub fn is_leader(&self) -> bool {
        self.leader.is_some()
    }

    pub fn term(&self) -> u64 {
        self.member.term
    }

    /// The last index and its term (`ledgerEndIndex`, `ledgerEndTerm`).
    pub fn end(&self) -> Option<(u64, u64)> {
        self.store.end()
    }

    pub fn committed_index(&self) -> Option<u64> {
        self.store.committed_index()
    }

    /// Where the committed entries end in the data files (`getCommittedPos`): a broker's
    /// CommitLog reads and dispatches up to here.
    pub fn committed_pos(&self) -> u64 {
        self.committed_pos
    }

    /// The member's log (reads only: the member alone writes it).
    pub fn store(&self) -> &DLedgerStore {
        &self.store
    }

    /// The entry at `index`, read through the index.
    pub fn entry(&self, disk: &dyn Disk, index: u64) -> Option<super::entry::Entry> {
        self.store.get(disk, index)
    }

    /// The entry that starts at data position `pos` (a CommitLog record's PHYSICALOFFSET is
    /// `pos + 48`).
    pub fn entry_at(&self, disk: &dyn Disk, pos: u64) -> Option<super::entry::Entry> {
        self.store.entry_at(disk, pos)
    }

    /// The body (a CommitLog record) whose PHYSICALOFFSET is `physical_offset`.
    pub fn record_at(&self, disk: &dyn Disk, physical_offset: u64) -> Option<Vec<u8>> {
        let pos = physical_offset.checked_sub(super::entry::BODY_OFFSET)?;
        self.entry_at(disk, pos).map(|entry| entry.body)
    }

    /// The progress made since the last call (an append in a group of one is acknowledged
    /// at once and waits here).
    pub fn take_progress(&mut self) -> Vec<Progress> {
        std::mem::take(&mut self.progress)
    }

    /// A DLedger request from another member; any other request is not this service's.
    pub fn on_request(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: Request,
    ) -> Vec<Progress> {
        match request {
            Request::DLedgerPush(push) => self.on_push(ctx, inbound, push),
            Request::DLedgerVote(vote) => self.on_vote(ctx, inbound, vote),
            Request::DLedgerHeartBeat(beat) => self.on_heartbeat(ctx, inbound, beat),
            _ => ctx.not_supported(inbound),
        }
        self.publish(ctx);
        self.take_progress()
    }

    /// `DLedgerMmapFileStore.shutdown`: the data and index files are forced and the
    /// checkpoint written.
    pub fn shutdown(&mut self, disk: &mut dyn Disk) {
        self.store.flush(disk);
        self.store.checkpoint(disk);
    }

    /// A flush of the disk completed: the data position the member's log is now durable up
    /// to, once every flush issued before it completed too; `None` if that did not move.
    pub fn on_flushed(&mut self, id: FlushId) -> Option<u64> {
        let batch = self
            .flushing
            .iter_mut()
            .find(|(ids, _)| ids.contains(&id))?;
        batch.0.retain(|flush| *flush != id);
        let done = self
            .flushing
            .iter()
            .take_while(|(ids, _)| ids.is_empty())
            .count();
        self.flushing.drain(..done).map(|(_, end)| end).next_back()
    }

    /// One of this member's timers is due.
    pub fn on_timer(&mut self, ctx: &mut Context<'_>, fired: DLedgerTimer) -> Vec<Progress> {
        match fired {
            DLedgerTimer::Flush => {
                if self.member.role == Role::Follower {
                    self.apply_waiting_appends(ctx);
                }
                self.write_unwritten(ctx.disk());
                // `FlushDataService` forces the files and then waits 10 ms: a flush still in
                // flight (a slow disk) holds the next one back.
                if self.flushing.is_empty() && std::mem::take(&mut self.dirty) {
                    // Nothing waits for these flushes; the host learns what they made durable.
                    let end = self.store.data_end();
                    let ids = self.store.flush(ctx.disk());
                    if !ids.is_empty() {
                        self.flushing.push((ids, end));
                    }
                }
                ctx.set_timer(self.config.flush_interval_ms, timer(fired));
            }
            DLedgerTimer::Checkpoint => {
                self.store.checkpoint(ctx.disk());
                ctx.set_timer(self.config.checkpoint_interval_ms, timer(fired));
            }
            DLedgerTimer::PushTick => {
                self.push_tick_armed = false;
                if self.leader.is_some() {
                    self.tick(ctx);
                    self.arm_push_tick(ctx);
                }
            }
            DLedgerTimer::Maintain => self.maintain(ctx),
        }
        self.publish(ctx);
        self.take_progress()
    }

    /// `DLedgerServer.handlePush`, then `EntryHandler`: the member and group checked, then
    /// the push handled if this member follows (`handler`: an APPEND waits for its turn, a
    /// COMPARE or TRUNCATE empties the appends waiting first).
    fn on_push(&mut self, ctx: &mut Context<'_>, inbound: Inbound, request: PushRequest) {
        if let Some(code) = self.refusal(&request.remote, &request.group) {
            answer_with(ctx, inbound, &request, code, self.span());
            return;
        }
        if self.member.role != Role::Follower {
            // The handler thread serves only a follower: the push waits unanswered.
            return;
        }
        match &request.push {
            Push::Append(_) => self.hold_append(ctx, inbound, request),
            Push::Compare(_) | Push::Truncate(_) => {
                self.drop_waiting_appends();
                self.answer_push(ctx, Some(inbound), &request);
            }
            Push::Commit => self.answer_push(ctx, Some(inbound), &request),
        }
        self.apply_waiting_appends(ctx);
    }

    /// Applies a push and answers it (unless `inbound` is `None`) with the log's span after it.
    fn answer_push(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Option<Inbound>,
        request: &PushRequest,
    ) {
        let answer = self.apply_push(ctx, request);
        // The span the answer gives: the log's after the push (the `follower_ack_before_write`
        // bug's counts the entries it answered before writing them).
        let (code, span) = match answer {
            PushAnswer::Success { begin, end } => (DLedgerResponseCode::Success, (begin, end)),
            PushAnswer::Repeated => (DLedgerResponseCode::RepeatedPush, self.span()),
            PushAnswer::InconsistentState { begin, end } => {
                (DLedgerResponseCode::InconsistentState, (begin, end))
            }
        };
        if let Some(inbound) = inbound {
            answer_with(ctx, inbound, request, code, span);
        }
        self.sync_ledger_end();
        self.note_committed(ctx.disk());
    }

    /// The store's checks, then the push: APPEND and TRUNCATE need this member's term and
    /// leader (`appendAsFollower`, `truncate` throw, and the handler answers
    /// INCONSISTENT_STATE); a COMMIT of an older term moves no committed index
    /// (`updateCommittedIndex`); a COMPARE is answered whatever its term.
    fn apply_push(&mut self, ctx: &mut Context<'_>, request: &PushRequest) -> PushAnswer {
        let from_leader = request.term == self.member.term
            && self.member.leader.as_deref() == Some(request.leader.as_str());
        let (begin, end) = self.span();
        match &request.push {
            Push::Append(_) | Push::Truncate(_) if !from_leader => {
                PushAnswer::InconsistentState { begin, end }
            }
            Push::Commit if request.term < self.member.term => PushAnswer::Success { begin, end },
            Push::Append(entry) if self.config.follower_ack_before_write => self
                .acknowledge_unwritten(entry, request.commit_index)
                .unwrap_or_else(|| self.handle_push(ctx.disk(), request)),
            _ => self.handle_push(ctx.disk(), request),
        }
    }

    /// `follower::handle`: the push applied to the store, after any entry the
    /// `follower_ack_before_write` bug left unwritten (a COMPARE or TRUNCATE reads the log).
    fn handle_push(&mut self, disk: &mut dyn Disk, request: &PushRequest) -> PushAnswer {
        let push = &request.push;
        if !matches!(push, Push::Commit) {
            self.write_unwritten(disk);
        }
        if matches!(push, Push::Append(_) | Push::Truncate(_)) {
            self.dirty = true;
        }
        let skip_truncation = self.config.skip_follower_truncation;
        follower::handle(
            &mut self.store,
            disk,
            push,
            request.commit_index,
            skip_truncation,
        )
    }

    /// The `follower_ack_before_write` bug: an APPEND that follows the log and the entries
    /// already answered is answered SUCCESS, the log said to end at it, and kept to be written
    /// later; the committed index moves as far as the written log reaches. `None`: any other
    /// APPEND, handled as usual.
    fn acknowledge_unwritten(
        &mut self,
        entry: &super::entry::Entry,
        leader_commit: Option<u64>,
    ) -> Option<PushAnswer> {
        let (begin, end) = self.span();
        let next = match self.unwritten.last() {
            Some(last) => last.index + 1,
            None => end.map_or(begin, |end| end + 1),
        };
        if entry.index != next {
            return None;
        }
        self.unwritten.push(entry.clone());
        if let (Some(commit), Some(end)) = (leader_commit, end) {
            self.store.update_committed(commit.min(end));
        }
        Some(PushAnswer::Success {
            begin,
            end: Some(entry.index),
        })
    }

    /// Writes the APPENDs the `follower_ack_before_write` bug answered before writing, in
    /// order; one the log no longer follows on to is dropped with those after it.
    fn write_unwritten(&mut self, disk: &mut dyn Disk) {
        if self.unwritten.is_empty() {
            return;
        }
        for entry in std::mem::take(&mut self.unwritten) {
            if self.store.append_replica(disk, &entry).is_err() {
                break;
            }
            self.dirty = true;
        }
        self.sync_ledger_end();
    }

    /// `handleVote` behind the member and group checks; a changed term or vote is written to
    /// the term file (no fsync).
    fn on_vote(&mut self, ctx: &mut Context<'_>, inbound: Inbound, call: VoteCall) {
        let term = self.member.term;
        if let Some(code) = self.refusal(&call.remote, &call.group) {
            let reply = VoteReply {
                code,
                result: None,
                term,
            };
            respond(ctx, inbound, ResponseBody::DLedgerVote(reply));
            return;
        }
        self.sync_ledger_end();
        let (result, term) = self.member.handle_vote(&call.request, false);
        self.persist_term(ctx.disk());
        if result == VoteResult::Accept {
            self.record_grant(ctx, &call.request.candidate);
        }
        let reply = VoteReply {
            code: DLedgerResponseCode::Success,
            result: Some(result),
            term,
        };
        respond(ctx, inbound, ResponseBody::DLedgerVote(reply));
        self.settle_role();
        if result == VoteResult::RejectTermNotReady {
            self.stepped_down_by(ctx, call.request.term);
        }
    }

    /// `handleHeartBeat` behind the member and group checks.
    fn on_heartbeat(&mut self, ctx: &mut Context<'_>, inbound: Inbound, call: HeartbeatCall) {
        let refused = self.refusal(&call.remote, &call.group);
        let led_before = self.member.leader.is_some();
        let answer = match refused {
            Some(_) => None,
            None => Some(self.member.handle_heartbeat(&call.leader, call.term)),
        };
        let reply = HeartbeatReply {
            answer,
            refused,
            term: self.member.term,
        };
        respond(ctx, inbound, ResponseBody::DLedgerHeartBeat(reply));
        self.settle_role();
        match answer {
            Some(HeartbeatAnswer::Success) => self.heard_leader(ctx, !led_before),
            Some(HeartbeatAnswer::TermNotReady) => self.stepped_down_by(ctx, call.term),
            _ => {}
        }
    }

    /// UNKNOWN_MEMBER for a request meant for another member, UNKNOWN_GROUP for another group.
    fn refusal(&self, remote: &str, group: &str) -> Option<DLedgerResponseCode> {
        if remote != self.config.self_id {
            return Some(DLedgerResponseCode::UnknownMember);
        }
        (group != self.config.group).then_some(DLedgerResponseCode::UnknownGroup)
    }

    /// A member that no longer leads drops its leadership: its pending appends stay
    /// unanswered until it leads again, when 0.3.1.2's quorum checker answers them
    /// TERM_CHANGED (`pendingAppendResponsesByTerm` of an older term).
    fn settle_role(&mut self) {
        if self.member.role != Role::Leader
            && let Some(leadership) = self.leader.take()
        {
            self.abandoned.extend(leadership.pending_indexes());
        }
    }

    /// Arms the push tick unless one is armed.
    fn arm_push_tick(&mut self, ctx: &mut Context<'_>) {
        if !std::mem::replace(&mut self.push_tick_armed, true) {
            ctx.set_timer(self.config.push_tick_ms, timer(DLedgerTimer::PushTick));
        }
    }

    /// Reports a granted vote, already written to the term file, for the history: the
    /// checker judges elections from these, each voter's own record.
    fn record_grant(&self, ctx: &mut Context<'_>, candidate: &str) {
        ctx.emit(Event::DLedgerVoteGranted {
            group: self.config.group.clone(),
            voter: self.config.self_id.clone(),
            term: self.member.term,
            candidate: candidate.to_string(),
        });
    }

    /// Reports the log's changes and a committed index that moved, for the history: the
    /// checker judges log matching and dispatch from these, each member's own record.
    fn publish(&mut self, ctx: &mut Context<'_>) {
        let (group, member) = (&self.config.group, &self.config.self_id);
        for change in self.store.take_changes() {
            let event = match change {
                LogChange::Stored {
                    index,
                    term,
                    pos,
                    size,
                    crc,
                } => Event::DLedgerStored {
                    group: group.clone(),
                    member: member.clone(),
                    index,
                    term,
                    pos,
                    size,
                    crc,
                },
                LogChange::Cut { from } => Event::DLedgerCut {
                    group: group.clone(),
                    member: member.clone(),
                    from,
                    recovery: false,
                },
            };
            ctx.emit(event);
        }
        if self.published_committed != self.reported_committed {
            self.published_committed = self.reported_committed;
            if let Some(index) = self.reported_committed {
                ctx.emit(Event::DLedgerCommitted {
                    group: group.clone(),
                    member: member.clone(),
                    index,
                    pos: self.committed_pos,
                });
            }
        }
    }

    fn persist_term(&self, disk: &mut dyn Disk) {
        let saved = TermFile::load(disk, &self.config.store_dir);
        let now = TermFile {
            term: self.member.term,
            voted_for: self.member.voted_for.clone(),
        };
        if saved != now {
            now.store(disk, &self.config.store_dir);
        }
    }

    /// The log's span, as a push answer carries it.
    fn span(&self) -> (u64, Option<u64>) {
        (
            self.store.begin_index(),
            self.store.end().map(|(end, _)| end),
        )
    }

    /// The member's view of its log end, which its votes are judged by.
    fn sync_ledger_end(&mut self) {
        let (index, term) = self
            .store
            .end()
            .map_or((-1, -1), |(i, t)| (i as i64, t as i64));
        self.member.ledger_end_index = index;
        self.member.ledger_end_term = term;
    }

    /// Reports a committed index that moved, with where its entry ends. After a truncation
    /// the committed index can stand past the log's end (dledger #316): the position stays
    /// where it was, as `committedPos` does.
    fn note_committed(&mut self, disk: &dyn Disk) {
        let committed = self.store.committed_index();
        if committed == self.reported_committed {
            return;
        }
        let Some(index) = committed else {
            return;
        };
        let pos = entry_end(&self.store, disk, committed).max(self.committed_pos);
        crate::invariant!(
            self.reported_committed.is_none_or(|before| before < index),
            "dledger-committed-index-only-forward",
            "committed index {index} reported after {:?}",
            self.reported_committed
        );
        self.committed_pos = pos;
        self.reported_committed = committed;
        self.progress.push(Progress::Committed { index, pos });
    }
}

/// The member's election state at its start, from its term file and the configuration: a
/// static leader's group starts in the static term (written to a fresh disk), each member
/// leader or follower; otherwise every member is a candidate in the term its file holds.
fn member_at_start(disk: &mut dyn Disk, config: &DLedgerConfig) -> Member {
    let dir = &config.store_dir;
    let mut saved = TermFile::load(disk, dir);
    if config.leader_id.is_some() && saved.term < STATIC_TERM {
        saved.term = STATIC_TERM;
        saved.store(disk, dir);
    }
    let ids: Vec<&str> = config.peers.iter().map(|p| p.id.as_str()).collect();
    let mut member = Member::new(&config.self_id, &ids, saved.term, saved.voted_for);
    member.grant_two_votes = config.grant_two_votes_per_term;
    if let Some(leader) = &config.leader_id {
        member.leader = Some(leader.clone());
        member.role = match *leader == config.self_id {
            true => Role::Leader,
            false => Role::Follower,
        };
    }
    member
}

/// Where the entry at `index` ends in the data files (0: no such entry).
fn entry_end(store: &DLedgerStore, disk: &dyn Disk, index: Option<u64>) -> u64 {
    index
        .and_then(|index| store.get(disk, index))
        .map_or(0, |entry| entry.pos + entry.size())
}

fn pushed_index(push: &Push) -> Option<u64> {
    match push {
        Push::Append(entry) | Push::Compare(entry) | Push::Truncate(entry) => Some(entry.index),
        Push::Commit => None,
    }
}

/// Answers a push with `code` and the log's span `begin..=end` (`buildResponse`).
fn answer_with(
    ctx: &mut Context<'_>,
    inbound: Inbound,
    request: &PushRequest,
    code: DLedgerResponseCode,
    (begin, end): (u64, Option<u64>),
) {
    let response = PushResponse {
        code,
        term: request.term,
        index: pushed_index(&request.push),
        begin,
        end,
    };
    respond(ctx, inbound, ResponseBody::DLedgerPush(response));
}

fn respond(ctx: &mut Context<'_>, inbound: Inbound, body: ResponseBody) {
    ctx.respond(inbound, Response::success(body));
}

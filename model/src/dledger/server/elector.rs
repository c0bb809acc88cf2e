//! The member's elector (`DLedgerLeaderElector`, 0.3.1.2), for a group without a static
//! leader. Its state maintainer is one thread that loops every 10 ms and may block on a round
//! (a latch): a candidate's vote round, a leader's heartbeat round. Here that thread is the
//! `Maintain` timer, armed only for when something can be due, and a round in progress:
//!
//! - Candidate: at its next vote time (at once at the start, or when a handler set
//!   `needIncreaseTermImmediately`), the term is bumped first if the last round said
//!   WAIT_TO_VOTE_NEXT or the flag is set (the flag's round bumps only and asks for no
//!   votes); then it asks every member, itself included (answered in place). The round ends
//!   when a peer knows a leader, a quorum granted, grants and not-ready members make a
//!   quorum, or all answered; at the latest after `vote_wait_ms` plus a draw below
//!   `max_vote_interval_ms`. `tally` reads it and sets the next vote time.
//! - Leader: a heartbeat round when more than `heartbeat_interval_ms` passed since the last
//!   one was sent; it ends on a quorum of successes, of successes and not-ready members, or
//!   all answers, at the latest after `heartbeat_interval_ms`. Without a quorum of successes
//!   the leader becomes a candidate on a larger term in an answer, an INCONSISTENT_LEADER, or
//!   more than `max_heartbeat_leak` intervals since its last round with a quorum; a larger
//!   term alone is ignored while a quorum answers (dledger #247, fixed in 0.3.2 only).
//! - Follower: a candidate when more than `max_heartbeat_leak` intervals passed since its
//!   leader's last heartbeat; it votes at once, in its old term.
//!
//! Where the timing differs from a 10 ms loop, it is by at most one loop (10 ms): the loop's
//! sleep after a round is kept (a new leader's first heartbeats, a vote again at once come
//! 10 ms after the round), a handler's `wakeup()` comes at the next loop instead of at once,
//! and a threshold (`elapsed > interval`) is looked at 1 ms after it passes instead of at the
//! first loop after it (0 to 10 ms later in DLedger).
//!
//! A handler's role change (`handleVote`, `handleHeartBeat` with a larger term; a heartbeat
//! that makes a follower) and each of the elector's own are reported as
//! [`Progress::RoleChanged`] whenever 0.3.1.2 calls its role change handlers, which includes
//! a candidate made a candidate again with a larger term.

use super::{DLedgerServer, DLedgerTimer, Progress, timer};
use crate::dledger::tally::{Outcome, Wait, tally};
use crate::dledger::vote::{HeartbeatAnswer, Role, VoteRequest, VoteResult};
use crate::event::Event;
use crate::ids::RequestId;
use crate::node::{Context, RpcError};
use crate::protocol::dledger::{HeartbeatCall, HeartbeatReply, VoteCall};
use crate::protocol::{Request, Response, ResponseBody};
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};

/// The state maintainer's sleep between two loops (`StateMaintainer`).
const LOOP_MS: u64 = 10;

/// What the elector keeps between loops.
pub(super) struct Elector {
    /// `nextTimeToRequestVote` (`Time::ZERO` stands for -1: at once).
    next_vote_at: Time,
    /// `lastParseResult == WAIT_TO_VOTE_NEXT`: the next round bumps the term first.
    vote_next_term: bool,
    /// `lastLeaderHeartBeatTime`.
    last_leader_heartbeat: Time,
    /// `lastSendHeartBeatTime` (`None`: -1, send at once).
    last_heartbeat_sent: Option<Time>,
    /// `lastSuccHeartBeatTime` (`None`: -1, never; it survives a term as leader).
    last_heartbeat_success: Option<Time>,
    /// The round the maintainer waits on, if any.
    round: Option<Round>,
    /// Numbers the rounds: an answer to an earlier round is ignored.
    rounds: u64,
    /// Votes and heartbeats awaiting their answer: the round, the peer's place in `peers`.
    in_flight: BTreeMap<RequestId, (u64, usize)>,
    /// When the armed `Maintain` timers fire.
    armed: BTreeSet<Time>,
}

struct Round {
    number: u64,
    term: u64,
    deadline: Time,
    kind: RoundKind,
}

enum RoundKind {
    /// One answer per peer in `peers` order (`None`: none yet, or UNKNOWN).
    Vote {
        answers: Vec<Option<(VoteResult, u64)>>,
        answered: usize,
    },
    Heartbeat(Beats),
}

/// A heartbeat round's counts (`sendHeartbeats`); the leader counts as an answer and a success.
struct Beats {
    answered: usize,
    succeeded: usize,
    not_ready: usize,
    /// The term of the last EXPIRED_TERM answer.
    larger_term: Option<u64>,
    inconsistent: bool,
}

impl Elector {
    fn new(now: Time) -> Elector {
        Elector {
            next_vote_at: Time::ZERO,
            vote_next_term: false,
            last_leader_heartbeat: now,
            last_heartbeat_sent: None,
            last_heartbeat_success: None,
            round: None,
            rounds: 0,
            in_flight: BTreeMap::new(),
            armed: BTreeSet::new(),
        }
    }
}

impl DLedgerServer {
    /// `DLedgerLeaderElector.startup`: the member starts as a candidate, which its role change
    /// handlers hear, and the maintainer starts.
    pub(super) fn start_elector(&mut self, ctx: &mut Context<'_>) {
        crate::invariant!(
            self.member.role == Role::Candidate && self.leader.is_none(),
            "dledger-elector-starts-a-candidate",
            "{} starts as {:?}",
            self.config.self_id,
            self.member.role
        );
        self.elector = Some(Elector::new(ctx.now()));
        let term = self.member.term;
        self.progress.push(Progress::RoleChanged {
            role: Role::Candidate,
            term,
        });
        self.rearm(ctx);
    }

    pub(super) fn elector_waits_for(&self, id: RequestId) -> bool {
        (self.elector.as_ref()).is_some_and(|elector| elector.in_flight.contains_key(&id))
    }

    /// One loop of the maintainer (`maintainState`), unless it waits on a round that is not
    /// over yet.
    pub(super) fn maintain(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let Some(elector) = &mut self.elector else {
            return;
        };
        elector.armed.retain(|at| *at > now);
        match &elector.round {
            Some(round) if now >= round.deadline => self.end_round(ctx),
            Some(_) => {}
            None => match self.member.role {
                Role::Leader => self.maintain_as_leader(ctx),
                Role::Follower => self.maintain_as_follower(now),
                Role::Candidate => self.maintain_as_candidate(ctx),
            },
        }
        self.rearm(ctx);
    }

    /// Arms the maintainer for the next time something can be due, unless a timer is armed
    /// by then; never sooner than the next loop.
    fn rearm(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let Some(at) = self.next_maintain_at() else {
            return;
        };
        let at = at.max(now.plus_ms(LOOP_MS));
        let Some(elector) = &mut self.elector else {
            return;
        };
        if elector.armed.range(..=at).next().is_some() {
            return;
        }
        elector.armed.insert(at);
        ctx.set_timer(at.ms_since(now), timer(DLedgerTimer::Maintain));
    }

    /// When the maintainer must look next: a round's end, or its role's next threshold.
    fn next_maintain_at(&self) -> Option<Time> {
        let elector = self.elector.as_ref()?;
        if let Some(round) = &elector.round {
            return Some(round.deadline);
        }
        let interval = self.config.heartbeat_interval_ms;
        let at = match self.member.role {
            Role::Leader => elector
                .last_heartbeat_sent
                .map_or(Time::ZERO, |sent| sent.plus_ms(interval + 1)),
            Role::Follower => {
                let leak = interval * self.config.max_heartbeat_leak;
                elector.last_leader_heartbeat.plus_ms(leak + 1)
            }
            Role::Candidate if self.member.bump_term_now => Time::ZERO,
            Role::Candidate => elector.next_vote_at,
        };
        Some(at)
    }

    /// `maintainAsCandidate`: the term bumped if due; with the flag set, only that; else a
    /// vote round.
    fn maintain_as_candidate(&mut self, ctx: &mut Context<'_>) {
        let Some(elector) = &mut self.elector else {
            return;
        };
        if ctx.now() < elector.next_vote_at && !self.member.bump_term_now {
            return;
        }
        if std::mem::take(&mut elector.vote_next_term) || self.member.bump_term_now {
            self.next_term(ctx);
        }
        if std::mem::take(&mut self.member.bump_term_now) {
            let next = self.next_vote_time(ctx);
            if let Some(elector) = &mut self.elector {
                elector.next_vote_at = next;
            }
            return;
        }
        self.request_votes(ctx);
    }

    /// `MemberState.nextTerm`: the largest term known in the group, or one more; no vote in
    /// it yet; written to the term file.
    fn next_term(&mut self, ctx: &mut Context<'_>) {
        let before = self.member.term;
        let member = &mut self.member;
        member.term = match member.known_max_term > member.term {
            true => member.known_max_term,
            false => member.term + 1,
        };
        member.voted_for = None;
        crate::invariant!(
            self.member.term > before && self.member.role == Role::Candidate,
            "dledger-next-term-forward-as-candidate",
            "{} bumped term {before} to {} as {:?}",
            self.config.self_id,
            self.member.term,
            self.member.role
        );
        self.persist_term(ctx.disk());
    }

    /// `getNextTimeToRequestVote`: `minVoteIntervalMs` plus a draw below the difference.
    fn next_vote_time(&mut self, ctx: &mut Context<'_>) -> Time {
        let (min, max) = (
            self.config.min_vote_interval_ms,
            self.config.max_vote_interval_ms,
        );
        ctx.now().plus_ms(min + ctx.random_below(max - min))
    }

    /// `voteForQuorumResponses`: a vote request to every member, this one answered in place.
    fn request_votes(&mut self, ctx: &mut Context<'_>) {
        self.sync_ledger_end();
        let request = VoteRequest {
            candidate: self.config.self_id.clone(),
            term: self.member.term,
            ledger_end_index: self.member.ledger_end_index,
            ledger_end_term: self.member.ledger_end_term,
        };
        let wait = self.config.vote_wait_ms + ctx.random_below(self.config.max_vote_interval_ms);
        let mut answers = vec![None; self.config.peers.len()];
        let mut sent = Vec::new();
        for (place, peer) in self.config.peers.iter().enumerate() {
            if peer.id == self.config.self_id {
                answers[place] = Some(self.member.handle_vote(&request, true));
                continue;
            }
            let call = VoteCall {
                group: self.config.group.clone(),
                remote: peer.id.clone(),
                request: request.clone(),
            };
            let timeout = self.config.rpc_timeout_ms;
            sent.push((
                ctx.request(peer.node, Request::DLedgerVote(call), timeout),
                place,
            ));
        }
        self.persist_term(ctx.disk());
        let granted_self = answers
            .iter()
            .flatten()
            .any(|(result, _)| *result == VoteResult::Accept);
        if granted_self {
            let candidate = self.config.self_id.clone();
            self.record_grant(ctx, &candidate);
        }
        let kind = RoundKind::Vote {
            answers,
            answered: 1,
        };
        self.start_round(ctx, wait, kind, sent);
    }

    /// `maintainAsLeader`, `sendHeartbeats`: a heartbeat to every follower when more than an
    /// interval passed since the last round was sent.
    fn maintain_as_leader(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let interval = self.config.heartbeat_interval_ms;
        let Some(elector) = &mut self.elector else {
            return;
        };
        if elector
            .last_heartbeat_sent
            .is_some_and(|sent| now.ms_since(sent) <= interval)
        {
            return;
        }
        elector.last_heartbeat_sent = Some(now);
        let mut sent = Vec::new();
        for (place, peer) in self.config.peers.iter().enumerate() {
            if peer.id == self.config.self_id {
                continue;
            }
            let call = HeartbeatCall {
                group: self.config.group.clone(),
                remote: peer.id.clone(),
                leader: self.config.self_id.clone(),
                term: self.member.term,
            };
            let timeout = self.config.rpc_timeout_ms;
            let request = Request::DLedgerHeartBeat(call);
            sent.push((ctx.request(peer.node, request, timeout), place));
        }
        let beats = Beats {
            answered: 1,
            succeeded: 1,
            not_ready: 0,
            larger_term: None,
            inconsistent: false,
        };
        self.start_round(ctx, interval, RoundKind::Heartbeat(beats), sent);
    }

    /// `maintainAsFollower`: a candidate, in its term, after too long without its leader.
    fn maintain_as_follower(&mut self, now: Time) {
        let Some(elector) = &self.elector else {
            return;
        };
        let leak = self.config.heartbeat_interval_ms * self.config.max_heartbeat_leak;
        if now.ms_since(elector.last_leader_heartbeat) > leak {
            self.change_to_candidate(self.member.term);
        }
    }

    /// The maintainer waits on a round: its requests in flight, ended at once if its answers
    /// already release it (a group of one).
    fn start_round(
        &mut self,
        ctx: &mut Context<'_>,
        wait_ms: u64,
        kind: RoundKind,
        sent: Vec<(RequestId, usize)>,
    ) {
        let Some(elector) = &mut self.elector else {
            return;
        };
        crate::invariant!(
            elector.round.is_none(),
            "dledger-one-election-round-at-a-time",
            "{} starts a round while one is open",
            self.config.self_id
        );
        elector.rounds += 1;
        let number = elector.rounds;
        for (id, place) in sent {
            elector.in_flight.insert(id, (number, place));
        }
        elector.round = Some(Round {
            number,
            term: self.member.term,
            deadline: ctx.now().plus_ms(wait_ms),
            kind,
        });
        if self.round_released() {
            self.end_round(ctx);
        }
    }

    /// A vote or heartbeat was answered, or failed: counted in its round if that is still
    /// open, which ends when the answers release it.
    pub(super) fn on_elector_answer(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) {
        let peers = self.config.peers.len();
        let Some(elector) = &mut self.elector else {
            return;
        };
        let Some((number, place)) = elector.in_flight.remove(&id) else {
            return;
        };
        let Some(round) = elector.round.as_mut().filter(|r| r.number == number) else {
            return;
        };
        let body = result.ok().map(|response| response.body);
        match (&mut round.kind, body) {
            (RoundKind::Vote { answers, answered }, body) => {
                *answered += 1;
                if let Some(ResponseBody::DLedgerVote(reply)) = body {
                    answers[place] = reply.result.map(|result| (result, reply.term));
                }
            }
            (RoundKind::Heartbeat(beats), body) => {
                beats.answered += 1;
                if let Some(ResponseBody::DLedgerHeartBeat(reply)) = body {
                    beats.count(&reply);
                }
            }
        }
        crate::invariant!(
            round.answered() <= peers,
            "dledger-round-answers-once-per-peer",
            "{} answers in a round of {peers}",
            round.answered()
        );
        if self.round_released() {
            self.end_round(ctx);
        }
        self.rearm(ctx);
    }

    /// Whether the open round's latch is counted down.
    fn round_released(&self) -> bool {
        let Some(round) = self.elector.as_ref().and_then(|e| e.round.as_ref()) else {
            return false;
        };
        let peers = self.config.peers.len();
        let quorum = |n: usize| n > peers / 2;
        match &round.kind {
            RoundKind::Vote { answers, answered } => {
                let count = |wanted: &[VoteResult]| {
                    let of = |a: &&(VoteResult, u64)| wanted.contains(&a.0);
                    answers.iter().flatten().filter(of).count()
                };
                let accepted = count(&[VoteResult::Accept]);
                let not_ready = count(&[VoteResult::RejectTermNotReady]);
                count(&[VoteResult::RejectAlreadyHasLeader]) > 0
                    || quorum(accepted)
                    || quorum(accepted + not_ready)
                    || *answered == peers
            }
            RoundKind::Heartbeat(beats) => {
                quorum(beats.succeeded)
                    || quorum(beats.succeeded + beats.not_ready)
                    || beats.answered == peers
            }
        }
    }

    /// The latch is down or its wait is over: the round is read.
    fn end_round(&mut self, ctx: &mut Context<'_>) {
        let Some(round) = self.elector.as_mut().and_then(|e| e.round.take()) else {
            return;
        };
        match round.kind {
            RoundKind::Vote { answers, .. } => self.read_votes(ctx, round.term, &answers),
            RoundKind::Heartbeat(beats) => self.read_heartbeats(ctx, round.term, &beats),
        }
    }

    /// The end of `maintainAsCandidate`: `tally`'s outcome sets the next vote time, and a
    /// quorum of grants makes the leader.
    fn read_votes(
        &mut self,
        ctx: &mut Context<'_>,
        term: u64,
        answers: &[Option<(VoteResult, u64)>],
    ) {
        let (outcome, known_max_term) = tally(term, answers);
        let next = match outcome {
            Outcome::Passed | Outcome::RevoteImmediately => None,
            Outcome::WaitToRevote(Wait::LeaderKnown) => {
                let leak = self.config.heartbeat_interval_ms * self.config.max_heartbeat_leak;
                Some(self.next_vote_time(ctx).plus_ms(leak))
            }
            Outcome::WaitToRevote(Wait::LongerLogs) => {
                let max = self.config.max_vote_interval_ms;
                Some(self.next_vote_time(ctx).plus_ms(max))
            }
            Outcome::WaitToRevote(Wait::Usual) | Outcome::WaitToVoteNext => {
                Some(self.next_vote_time(ctx))
            }
        };
        if let Some(elector) = &mut self.elector {
            elector.vote_next_term = outcome == Outcome::WaitToVoteNext;
            if let Some(next) = next {
                elector.next_vote_at = next;
            }
        }
        if known_max_term > term {
            self.change_to_candidate(known_max_term);
        }
        if outcome == Outcome::Passed {
            self.change_to_leader(ctx, term);
        }
    }

    /// The end of `sendHeartbeats`: a quorum of successes is noted; without one, the leader
    /// sends again at once if not-ready members make a quorum, else steps down when it must.
    fn read_heartbeats(&mut self, ctx: &mut Context<'_>, term: u64, beats: &Beats) {
        let now = ctx.now();
        let quorum = |n: usize| n > self.config.peers.len() / 2;
        let leak = self.config.heartbeat_interval_ms * self.config.max_heartbeat_leak;
        let Some(elector) = &mut self.elector else {
            return;
        };
        if quorum(beats.succeeded) {
            elector.last_heartbeat_success = Some(now);
        } else if quorum(beats.succeeded + beats.not_ready) {
            elector.last_heartbeat_sent = None;
        } else if let Some(larger) = beats.larger_term.filter(|t| *t > term) {
            self.change_to_candidate(larger);
        } else if beats.inconsistent
            || (elector.last_heartbeat_success).is_none_or(|success| now.ms_since(success) > leak)
        {
            // INCONSISTENT_LEADER, or too long without a quorum: a candidate in its term.
            self.change_to_candidate(term);
        }
    }

    /// `changeRoleToCandidate(term)`: for a term at least the current one, the member becomes
    /// a candidate (leadership dropped) and its handlers hear it.
    fn change_to_candidate(&mut self, term: u64) {
        if term < self.member.term {
            return;
        }
        self.member.change_to_candidate(term);
        self.settle_role();
        self.progress.push(Progress::RoleChanged {
            role: Role::Candidate,
            term,
        });
    }

    /// `changeRoleToLeader(term)`: only in that term; heartbeats go out at the next loop and
    /// the leader's pushes start.
    fn change_to_leader(&mut self, ctx: &mut Context<'_>, term: u64) {
        if self.member.term != term {
            return;
        }
        crate::invariant!(
            self.member.role != Role::Leader && self.leader.is_none(),
            "dledger-elected-only-when-not-leading",
            "{} elected in term {term} while it leads",
            self.config.self_id
        );
        self.member.role = Role::Leader;
        self.member.leader = Some(self.config.self_id.clone());
        if let Some(elector) = &mut self.elector {
            elector.last_heartbeat_sent = None;
        }
        ctx.emit(Event::DLedgerLeader {
            group: self.config.group.clone(),
            member: self.config.self_id.clone(),
            term,
        });
        self.progress.push(Progress::RoleChanged {
            role: Role::Leader,
            term,
        });
        self.become_leader(ctx);
    }

    /// A heartbeat this member answered SUCCESS: its leader heard, and when the heartbeat made
    /// it a follower (`changeRoleToFollower`), its handlers hear that.
    pub(super) fn heard_leader(&mut self, ctx: &mut Context<'_>, became_follower: bool) {
        let now = ctx.now();
        let Some(elector) = &mut self.elector else {
            return;
        };
        elector.last_leader_heartbeat = now;
        if became_follower {
            elector.vote_next_term = false;
            let term = self.member.term;
            self.progress.push(Progress::RoleChanged {
                role: Role::Follower,
                term,
            });
        }
        self.rearm(ctx);
    }

    /// A vote or heartbeat of a larger term made this member a candidate that bumps its term
    /// at its next loop (`needIncreaseTermImmediately`, `wakeup()`); its handlers hear it.
    pub(super) fn stepped_down_by(&mut self, ctx: &mut Context<'_>, term: u64) {
        if self.elector.is_none() {
            return;
        }
        self.progress.push(Progress::RoleChanged {
            role: Role::Candidate,
            term,
        });
        self.rearm(ctx);
    }
}

impl Round {
    fn answered(&self) -> usize {
        match &self.kind {
            RoundKind::Vote { answered, .. } => *answered,
            RoundKind::Heartbeat(beats) => beats.answered,
        }
    }
}

impl Beats {
    /// One follower's answer, as `sendHeartbeats` counts it.
    fn count(&mut self, reply: &HeartbeatReply) {
        match reply.answer {
            Some(HeartbeatAnswer::Success) => self.succeeded += 1,
            Some(HeartbeatAnswer::ExpiredTerm(term)) => self.larger_term = Some(term),
            Some(HeartbeatAnswer::InconsistentLeader) => self.inconsistent = true,
            Some(HeartbeatAnswer::TermNotReady) => self.not_ready += 1,
            _ => {}
        }
    }
}

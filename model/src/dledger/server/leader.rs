//! The leader's side of a member (`DLedgerEntryPusher` as the leader runs it): appends with
//! their wait for a quorum (`waitAck`), one dispatcher per follower pushing COMPARE, TRUNCATE,
//! APPEND and, when idle for a second, COMMIT, and the quorum check (`QuorumAckChecker`):
//! the committed index is the index a quorum's watermarks hold, with no current-term rule,
//! the appends up to it are acknowledged, and when none was, the appends after it older than
//! `maxWaitAckTimeMs` time out, in order, from the one right after it.

use super::{DLedgerServer, Progress};
use crate::dledger::dispatcher::{Dispatcher, Stage};
use crate::dledger::follower::{Push, PushAnswer};
use crate::dledger::quorum::Watermarks;
use crate::ids::{NodeId, RequestId};
use crate::node::{Context, RpcError};
use crate::protocol::dledger::{DLedgerResponseCode, PushRequest};
use crate::protocol::{Request, Response, ResponseBody};
use crate::time::Time;
use std::collections::BTreeMap;

/// A dispatcher pushes a bare COMMIT after this long without a push (`doCommit`).
const COMMIT_PUSH_IDLE_MS: u64 = 1_000;
/// A failed COMPARE or TRUNCATE is asked again after this long (`doWork`'s sleep).
const RETRY_AFTER_FAILURE_MS: u64 = 500;
/// The quorum check refreshes the leader's own watermark and acknowledges what it left
/// behind this often (`lastCheckLeakTimeMs`).
const LEAK_CHECK_MS: u64 = 1_000;

/// A leader's append: its index and where it starts in the data files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub index: u64,
    pub pos: u64,
}

/// Why `handleAppend` refused an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// NOT_LEADER.
    NotLeader,
    /// LEADER_PENDING_FULL: more than `maxPendingRequestsNum` appends wait for a quorum.
    PendingFull,
}

impl Refused {
    pub fn code(self) -> DLedgerResponseCode {
        match self {
            Refused::NotLeader => DLedgerResponseCode::NotLeader,
            Refused::PendingFull => DLedgerResponseCode::LeaderPendingFull,
        }
    }
}

/// A push awaiting its answer.
pub(super) struct InFlight {
    peer: String,
    term: u64,
    push: Push,
}

/// An append waiting for its quorum (`AppendFuture`).
struct Waiting {
    pos: u64,
    appended_at: Time,
}

struct FollowerPush {
    node: NodeId,
    dispatcher: Dispatcher,
    /// The last push of any kind (`lastPushCommitTimeMs`).
    last_push: Option<Time>,
    /// After a failed COMPARE or TRUNCATE the dispatcher waits until then.
    paused_until: Time,
}

/// What a member holds while it leads.
pub(super) struct Leadership {
    term: u64,
    followers: BTreeMap<String, FollowerPush>,
    watermarks: Watermarks,
    pending: BTreeMap<u64, Waiting>,
    last_leak_check: Time,
}

impl Leadership {
    /// The indexes of the appends still waiting for their quorum.
    pub(super) fn pending_indexes(&self) -> impl Iterator<Item = u64> + '_ {
        self.pending.keys().copied()
    }
}

impl DLedgerServer {
    /// Takes up leadership of the member's term: a dispatcher per follower, comparing from
    /// the end of this log; the push tick armed.
    pub(super) fn become_leader(&mut self, ctx: &mut Context<'_>) {
        for index in std::mem::take(&mut self.abandoned) {
            self.progress.push(Progress::TermChanged { index });
        }
        let followers = self
            .config
            .peers
            .iter()
            .filter(|p| p.id != self.config.self_id)
            .map(|p| {
                let push = FollowerPush {
                    node: p.node,
                    dispatcher: Dispatcher::new(&self.store),
                    last_push: None,
                    paused_until: Time::ZERO,
                };
                (p.id.clone(), push)
            })
            .collect();
        self.leader = Some(Leadership {
            term: self.member.term,
            followers,
            watermarks: Watermarks::default(),
            pending: BTreeMap::new(),
            last_leak_check: ctx.now(),
        });
        self.arm_push_tick(ctx);
        self.pump_all(ctx);
    }

    /// `handleAppend`: appends `body` in this leader's term and waits for a quorum; the
    /// answer comes as [`Progress::Acked`] or [`Progress::TimedOut`]. Refused when this
    /// member does not lead or more than `maxPendingRequestsNum` appends wait.
    pub fn append_as_leader(
        &mut self,
        ctx: &mut Context<'_>,
        body: Vec<u8>,
    ) -> Result<Appended, Refused> {
        self.append_hooked(ctx, body, &mut |_, _| {})
    }

    /// `append_as_leader` with the store's append hook: `hook` sees the entry's position and
    /// may rewrite its body (same length) before it is written.
    pub fn append_hooked(
        &mut self,
        ctx: &mut Context<'_>,
        body: Vec<u8>,
        hook: &mut dyn FnMut(u64, &mut Vec<u8>),
    ) -> Result<Appended, Refused> {
        let Some(leadership) = &mut self.leader else {
            return Err(Refused::NotLeader);
        };
        if leadership.pending.len() > self.config.max_pending_requests {
            return Err(Refused::PendingFull);
        }
        let entry = (self.store).append_hooked(ctx.disk(), leadership.term, body, hook);
        self.dirty = true;
        let (index, pos) = (entry.index, entry.pos);
        let term = leadership.term;
        leadership
            .watermarks
            .update(term, &self.config.self_id, index);
        let waiting = Waiting {
            pos,
            appended_at: ctx.now(),
        };
        match self.config.peers.len() {
            // A group of one answers at once (`waitAck`).
            1 => self.progress.push(Progress::Acked { index, pos }),
            _ => {
                let before = leadership.pending.insert(index, waiting);
                crate::invariant!(
                    before.is_none(),
                    "dledger-one-wait-per-index",
                    "a second wait for index {index} in term {term}"
                );
            }
        }
        self.sync_ledger_end();
        self.pump_all(ctx);
        self.check_quorum(ctx);
        self.publish(ctx);
        Ok(Appended { index, pos })
    }

    /// Whether `id` is one of this member's pushes, votes or heartbeats: the host routes its
    /// answer here.
    pub fn is_waiting_for(&self, id: RequestId) -> bool {
        self.in_flight.contains_key(&id) || self.elector_waits_for(id)
    }

    /// A push was answered, or failed: the dispatcher moves on, the follower's watermark
    /// rises, and the quorum check runs.
    pub fn on_response(
        &mut self,
        ctx: &mut Context<'_>,
        id: RequestId,
        result: Result<Response, RpcError>,
    ) -> Vec<Progress> {
        if self.elector_waits_for(id) {
            self.on_elector_answer(ctx, id, result);
        } else if let Some(sent) = self.in_flight.remove(&id) {
            let answer = match &result {
                Ok(Response {
                    body: ResponseBody::DLedgerPush(response),
                    ..
                }) => response.answer(),
                _ => None,
            };
            self.on_push_answer(ctx, sent, answer);
        }
        self.publish(ctx);
        self.take_progress()
    }

    fn on_push_answer(
        &mut self,
        ctx: &mut Context<'_>,
        sent: InFlight,
        answer: Option<PushAnswer>,
    ) {
        let now = ctx.now();
        let Some(leadership) = &mut self.leader else {
            return;
        };
        // A COMMIT's answer is ignored, as is any answer from an earlier term.
        if sent.term != leadership.term || sent.push == Push::Commit {
            return;
        }
        let Some(follower) = leadership.followers.get_mut(&sent.peer) else {
            return;
        };
        match answer {
            None => {
                follower.dispatcher.on_failed(&sent.push);
                if matches!(sent.push, Push::Compare(_) | Push::Truncate(_)) {
                    follower.paused_until = now.plus_ms(RETRY_AFTER_FAILURE_MS);
                }
            }
            Some(answer) => {
                let held = follower
                    .dispatcher
                    .on_answer(&self.store, &sent.push, &answer);
                if let Some(index) = held {
                    leadership.watermarks.update(sent.term, &sent.peer, index);
                }
            }
        }
        self.pump(ctx, &sent.peer);
        self.check_quorum(ctx);
    }

    /// The push tick: every dispatcher looks at the time, then the quorum check.
    pub(super) fn tick(&mut self, ctx: &mut Context<'_>) {
        self.pump_all(ctx);
        self.check_quorum(ctx);
    }

    fn pump_all(&mut self, ctx: &mut Context<'_>) {
        let peers: Vec<String> = match &self.leader {
            Some(leadership) => leadership.followers.keys().cloned().collect(),
            None => Vec::new(),
        };
        for peer in peers {
            self.pump(ctx, &peer);
        }
    }

    /// Sends what the follower's dispatcher has to push now, or a bare COMMIT when it has
    /// been idle for a second in the APPEND stage.
    fn pump(&mut self, ctx: &mut Context<'_>, peer: &str) {
        let now = ctx.now();
        let Some(leadership) = &mut self.leader else {
            return;
        };
        let Some(follower) = leadership.followers.get_mut(peer) else {
            return;
        };
        if now < follower.paused_until {
            return;
        }
        let mut pushes = follower.dispatcher.pushes(&self.store, ctx.disk(), now);
        let idle = follower
            .last_push
            .is_none_or(|last| now.ms_since(last) > COMMIT_PUSH_IDLE_MS);
        let appending = matches!(follower.dispatcher.stage(), Stage::Append { .. });
        if pushes.is_empty() && appending && idle {
            pushes.push(Push::Commit);
        }
        if !pushes.is_empty() {
            follower.last_push = Some(now);
        }
        let (node, term) = (follower.node, leadership.term);
        for push in pushes {
            let request = PushRequest {
                group: self.config.group.clone(),
                remote: peer.to_string(),
                leader: self.config.self_id.clone(),
                term,
                commit_index: self.store.committed_index(),
                push: push.clone(),
            };
            let timeout = self.config.rpc_timeout_ms;
            let id = ctx.request(node, Request::DLedgerPush(request), timeout);
            let peer = peer.to_string();
            self.in_flight.insert(id, InFlight { peer, term, push });
        }
    }

    /// `QuorumAckChecker.doWork`: the committed index from the watermarks, the appends up to
    /// it acknowledged, timeouts when none was, and the leak check every second.
    fn check_quorum(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let Some(leadership) = &self.leader else {
            return;
        };
        let peers: Vec<&str> = self.config.peers.iter().map(|p| p.id.as_str()).collect();
        let quorum = leadership.watermarks.quorum_index(leadership.term, &peers);
        // The `commit_before_quorum` bug counts what the leader's own log holds as committed.
        let committed = match self.config.commit_before_quorum {
            true => (leadership.watermarks).of(leadership.term, &self.config.self_id),
            false => quorum,
        };
        if let Some(index) = committed {
            self.commit_to(ctx, index);
        }
        let Some(leadership) = &mut self.leader else {
            return;
        };
        let acked = leadership.ack_up_to(quorum);
        if acked.is_empty() {
            let timed_out = leadership.time_out_after(quorum, now, self.config.max_wait_ack_ms);
            self.progress.extend(timed_out);
        }
        self.progress.extend(acked);
        if now.ms_since(leadership.last_leak_check) > LEAK_CHECK_MS {
            leadership.last_leak_check = now;
            if let Some((end, _)) = self.store.end() {
                let term = leadership.term;
                leadership
                    .watermarks
                    .update(term, &self.config.self_id, end);
            }
            let left = leadership.ack_below(quorum);
            self.progress.extend(left);
        }
    }

    /// `updateCommittedIndex` on the leader: forward only, never past its own end.
    fn commit_to(&mut self, ctx: &mut Context<'_>, index: u64) {
        let Some((end, _)) = self.store.end() else {
            return;
        };
        self.store.update_committed(index.min(end));
        crate::invariant!(
            self.store.committed_index().is_some_and(|c| c <= end),
            "dledger-leader-commits-what-it-holds",
            "committed {:?} on a leader whose log ends at {end}",
            self.store.committed_index()
        );
        self.note_committed(ctx.disk());
    }
}

impl Leadership {
    /// The waiting appends from `quorum` down, until one is not waiting.
    fn ack_up_to(&mut self, quorum: Option<u64>) -> Vec<Progress> {
        let mut acked = Vec::new();
        let mut next = quorum;
        while let Some(index) = next {
            let Some(waiting) = self.pending.remove(&index) else {
                break;
            };
            acked.push(Progress::Acked {
                index,
                pos: waiting.pos,
            });
            next = index.checked_sub(1);
        }
        acked.reverse();
        acked
    }

    /// The appends right after `quorum` (from index 0 without one) that waited
    /// `max_wait_ms`, in order, until one has not or is not waiting.
    fn time_out_after(
        &mut self,
        quorum: Option<u64>,
        now: Time,
        max_wait_ms: u64,
    ) -> Vec<Progress> {
        let mut timed_out = Vec::new();
        let mut next = quorum.map_or(0, |q| q + 1);
        while let Some(waiting) = self.pending.get(&next) {
            if now.ms_since(waiting.appended_at) < max_wait_ms {
                break;
            }
            timed_out.push(Progress::TimedOut {
                index: next,
                pos: waiting.pos,
            });
            self.pending.remove(&next);
            next += 1;
        }
        timed_out
    }

    /// The waiting appends below `quorum` that `ack_up_to` stopped short of.
    fn ack_below(&mut self, quorum: Option<u64>) -> Vec<Progress> {
        let Some(quorum) = quorum else {
            return Vec::new();
        };
        let kept = self.pending.split_off(&quorum);
        let below = std::mem::replace(&mut self.pending, kept);
        below
            .into_iter()
            .map(|(index, waiting)| Progress::Acked {
                index,
                pos: waiting.pos,
            })
            .collect()
    }
}

//! A member's election state and its answer to a vote request, as
//! `DLedgerLeaderElector.handleVote` decides it, rule by rule in its order: an unknown or
//! impostor candidate; a candidate whose log ends in an older term, or in the same term
//! sooner; a request of an older term; a term in which this member voted for another (with or
//! without a known leader); a newer term, which only makes this member a candidate that bumps
//! its term at once (TERM_NOT_READY, no vote this round); a term older than this member's log;
//! a member taking leadership with a log at least as long. Otherwise it grants the vote, which
//! the caller persists in the term file (never fsynced). A leader's heartbeat is answered as
//! `handleHeartBeat` does: an older term is refused, the known leader of this term is heard,
//! a member without a leader in this term follows the sender, another leader in the same
//! term is INCONSISTENT_LEADER, and a newer term again only makes a candidate.

/// A member's role (`MemberState.Role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Candidate,
    Follower,
    Leader,
}

/// What a member knows of the election (`MemberState`, and the elector's flag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub self_id: String,
    pub peers: Vec<String>,
    pub role: Role,
    /// `currTerm`, and whom it voted for in it (`currVoteFor`).
    pub term: u64,
    pub voted_for: Option<String>,
    pub leader: Option<String>,
    /// `knownMaxTermInGroup`: the next term bump goes at least this far.
    pub known_max_term: u64,
    /// The log's last index and its term (`ledgerEndIndex`, `ledgerEndTerm`; -1 when empty).
    pub ledger_end_index: i64,
    pub ledger_end_term: i64,
    /// A preferred leader running for the term it was handed (`isTakingLeadership`).
    pub taking_leadership: bool,
    /// `needIncreaseTermImmediately`: the next candidate round bumps the term and asks for no
    /// votes.
    pub bump_term_now: bool,
    /// The `grant_two_votes_per_term` bug: a vote for another candidate in a term this member
    /// already voted in is granted instead of REJECT_ALREADY_VOTED. False in 0.3.1.2.
    pub grant_two_votes: bool,
}

/// A vote request (`VoteRequest`): the candidate (`leaderId`), its term and where its log ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteRequest {
    pub candidate: String,
    pub term: u64,
    pub ledger_end_index: i64,
    pub ledger_end_term: i64,
}

/// `VoteResponse.RESULT`, as `handleVote` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    Accept,
    RejectUnknownLeader,
    RejectUnexpectedLeader,
    RejectExpiredLedgerTerm,
    RejectSmallLedgerEndIndex,
    RejectExpiredVoteTerm,
    RejectAlreadyHasLeader,
    RejectAlreadyVoted,
    RejectTermNotReady,
    RejectTermSmallThanLedger,
    RejectTakingLeadership,
}

/// `handleHeartBeat`'s answer (`DLedgerResponseCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatAnswer {
    /// The leader was heard: the follower's timer starts again.
    Success,
    UnknownMember,
    UnexpectedMember,
    /// The sender's term is older than this member's, which the answer carries.
    ExpiredTerm(u64),
    InconsistentLeader,
    TermNotReady,
}

impl Member {
    /// A new member: a candidate in term 0 (or the term its term file held).
    pub fn new(self_id: &str, peers: &[&str], term: u64, voted_for: Option<String>) -> Member {
        Member {
            self_id: self_id.to_string(),
            peers: peers.iter().map(|p| p.to_string()).collect(),
            role: Role::Candidate,
            term,
            voted_for,
            leader: None,
            known_max_term: term,
            ledger_end_index: -1,
            ledger_end_term: -1,
            taking_leadership: false,
            bump_term_now: false,
            grant_two_votes: false,
        }
    }

    /// `changeRoleToCandidate(term)`: only a term at least the current one; it raises the
    /// known maximum, forgets the leader, and leaves the current term as it is.
    pub fn change_to_candidate(&mut self, term: u64) {
        if term < self.term {
            return;
        }
        self.known_max_term = self.known_max_term.max(term);
        self.role = Role::Candidate;
        self.leader = None;
    }

    /// `handleVote`: the answer and the term it carries. `from_self` is a candidate's own
    /// request to itself.
    pub fn handle_vote(&mut self, request: &VoteRequest, from_self: bool) -> (VoteResult, u64) {
        let result = self.judge_vote(request, from_self);
        let term = match result {
            VoteResult::RejectTermSmallThanLedger => self.ledger_end_term.max(0) as u64,
            _ => self.term,
        };
        if result == VoteResult::Accept {
            self.voted_for = Some(request.candidate.clone());
        }
        (result, term)
    }

    /// `handleHeartBeat` from `leader` in `term`.
    pub fn handle_heartbeat(&mut self, leader: &str, term: u64) -> HeartbeatAnswer {
        if !self.peers.iter().any(|p| p == leader) {
            return HeartbeatAnswer::UnknownMember;
        }
        if leader == self.self_id {
            return HeartbeatAnswer::UnexpectedMember;
        }
        if term < self.term {
            return HeartbeatAnswer::ExpiredTerm(self.term);
        }
        if term > self.term {
            // A larger term: a candidate first, which bumps its term at once.
            self.change_to_candidate(term);
            self.bump_term_now = true;
            return HeartbeatAnswer::TermNotReady;
        }
        match self.leader.as_deref() {
            None => {
                // `changeRoleToFollower`.
                self.role = Role::Follower;
                self.leader = Some(leader.to_string());
                HeartbeatAnswer::Success
            }
            Some(known) if known == leader => HeartbeatAnswer::Success,
            Some(_) => HeartbeatAnswer::InconsistentLeader,
        }
    }

    fn judge_vote(&mut self, request: &VoteRequest, from_self: bool) -> VoteResult {
        if !self.peers.contains(&request.candidate) {
            return VoteResult::RejectUnknownLeader;
        }
        if !from_self && request.candidate == self.self_id {
            return VoteResult::RejectUnexpectedLeader;
        }
        if request.ledger_end_term < self.ledger_end_term {
            return VoteResult::RejectExpiredLedgerTerm;
        }
        if request.ledger_end_term == self.ledger_end_term
            && request.ledger_end_index < self.ledger_end_index
        {
            return VoteResult::RejectSmallLedgerEndIndex;
        }
        if request.term < self.term {
            return VoteResult::RejectExpiredVoteTerm;
        }
        if request.term == self.term {
            let other = self
                .voted_for
                .as_ref()
                .is_some_and(|v| *v != request.candidate);
            match (other, &self.leader) {
                (true, Some(_)) => return VoteResult::RejectAlreadyHasLeader,
                (true, None) if !self.grant_two_votes => return VoteResult::RejectAlreadyVoted,
                _ => {}
            }
        } else {
            // Stepped down by a larger term: a candidate that bumps its term at once.
            self.change_to_candidate(request.term);
            self.bump_term_now = true;
            return VoteResult::RejectTermNotReady;
        }
        if (request.term as i64) < self.ledger_end_term {
            return VoteResult::RejectTermSmallThanLedger;
        }
        let longer_here = request.ledger_end_term == self.ledger_end_term
            && self.ledger_end_index >= request.ledger_end_index;
        if !from_self && self.taking_leadership && longer_here {
            return VoteResult::RejectTakingLeadership;
        }
        VoteResult::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEERS: [&str; 3] = ["n0", "n1", "n2"];

    fn request(candidate: &str, term: u64, (index, ledger_term): (i64, i64)) -> VoteRequest {
        VoteRequest {
            candidate: candidate.into(),
            term,
            ledger_end_index: index,
            ledger_end_term: ledger_term,
        }
    }

    fn member(term: u64, ledger_end: (i64, i64)) -> Member {
        let mut member = Member::new("n1", &PEERS, term, None);
        (member.ledger_end_index, member.ledger_end_term) = ledger_end;
        member
    }

    #[test]
    fn the_log_is_judged_before_the_term() {
        // A stale candidate with a newer term deposes nobody: its log is judged first.
        let mut n1 = member(3, (10, 2));
        let stale = request("n0", 9, (12, 1));
        assert_eq!(
            n1.handle_vote(&stale, false).0,
            VoteResult::RejectExpiredLedgerTerm
        );
        let shorter = request("n0", 9, (9, 2));
        assert_eq!(
            n1.handle_vote(&shorter, false).0,
            VoteResult::RejectSmallLedgerEndIndex
        );
        assert_eq!((n1.term, n1.role), (3, Role::Candidate), "nothing changed");
        let unknown = request("n7", 9, (12, 2));
        assert_eq!(
            n1.handle_vote(&unknown, false).0,
            VoteResult::RejectUnknownLeader
        );
        let impostor = request("n1", 9, (12, 2));
        assert_eq!(
            n1.handle_vote(&impostor, false).0,
            VoteResult::RejectUnexpectedLeader
        );
    }

    #[test]
    fn a_newer_term_only_makes_a_candidate_then_the_vote_is_granted_once_per_term() {
        let mut n1 = member(3, (10, 2));
        let newer = request("n0", 4, (10, 2));
        assert_eq!(
            n1.handle_vote(&newer, false),
            (VoteResult::RejectTermNotReady, 3)
        );
        assert_eq!((n1.known_max_term, n1.bump_term_now), (4, true));
        // The member bumps its term (nextTerm) and clears its vote; the candidate asks again.
        (n1.term, n1.voted_for) = (4, None);
        assert_eq!(n1.handle_vote(&newer, false), (VoteResult::Accept, 4));
        assert_eq!(n1.voted_for.as_deref(), Some("n0"));
        assert_eq!(
            n1.handle_vote(&newer, false).0,
            VoteResult::Accept,
            "a repeat"
        );
        let rival = request("n2", 4, (10, 2));
        assert_eq!(
            n1.handle_vote(&rival, false).0,
            VoteResult::RejectAlreadyVoted
        );
        n1.leader = Some("n0".into());
        assert_eq!(
            n1.handle_vote(&rival, false).0,
            VoteResult::RejectAlreadyHasLeader
        );
        let old = request("n2", 3, (10, 2));
        assert_eq!(
            n1.handle_vote(&old, false).0,
            VoteResult::RejectExpiredVoteTerm
        );
    }

    #[test]
    fn a_heartbeat_makes_a_follower_of_a_member_without_a_leader_in_its_term() {
        let mut n1 = member(4, (10, 2));
        assert_eq!(
            n1.handle_heartbeat("n0", 3),
            HeartbeatAnswer::ExpiredTerm(4)
        );
        assert_eq!(n1.handle_heartbeat("n0", 4), HeartbeatAnswer::Success);
        assert_eq!(
            (n1.role, n1.leader.as_deref()),
            (Role::Follower, Some("n0"))
        );
        assert_eq!(
            n1.handle_heartbeat("n2", 4),
            HeartbeatAnswer::InconsistentLeader
        );
        assert_eq!(n1.handle_heartbeat("n2", 5), HeartbeatAnswer::TermNotReady);
        assert_eq!(
            (n1.role, n1.leader.as_deref(), n1.term),
            (Role::Candidate, None, 4)
        );
        assert_eq!(
            n1.handle_heartbeat("n1", 5),
            HeartbeatAnswer::UnexpectedMember
        );
    }

    #[test]
    fn a_term_older_than_the_log_and_a_member_taking_leadership_refuse() {
        let mut n1 = member(2, (10, 5));
        let behind = request("n0", 2, (10, 5));
        assert_eq!(
            n1.handle_vote(&behind, false),
            (VoteResult::RejectTermSmallThanLedger, 5)
        );
        let mut n2 = member(6, (10, 5));
        n2.taking_leadership = true;
        let candidate = request("n0", 6, (10, 5));
        assert_eq!(
            n2.handle_vote(&candidate, false).0,
            VoteResult::RejectTakingLeadership
        );
        let longer = request("n0", 6, (11, 5));
        assert_eq!(n2.handle_vote(&longer, false).0, VoteResult::Accept);
    }

    #[test]
    fn the_two_votes_bug_grants_a_rival_in_a_term_already_voted_in() {
        let mut n1 = member(4, (-1, -1));
        let first = request("n0", 4, (-1, -1));
        let rival = request("n2", 4, (-1, -1));
        assert_eq!(n1.handle_vote(&first, false).0, VoteResult::Accept);
        assert_eq!(
            n1.handle_vote(&rival, false).0,
            VoteResult::RejectAlreadyVoted
        );
        n1.grant_two_votes = true;
        assert_eq!(n1.handle_vote(&rival, false).0, VoteResult::Accept);
        assert_eq!(n1.voted_for.as_deref(), Some("n2"));
        n1.leader = Some("n0".into());
        assert_eq!(
            n1.handle_vote(&first, false).0,
            VoteResult::RejectAlreadyHasLeader,
            "a known leader still refuses"
        );
    }
}

//! A candidate's count of the answers to one vote round (`maintainAsCandidate`, after
//! `voteForQuorumResponses`), in 0.3.1.2's order: a larger term seen anywhere means vote again
//! in that term; a peer that knows a leader means wait a heartbeat timeout longer; too few
//! answers, or too many from peers whose logs are longer, mean wait and vote again; a quorum
//! of grants elects; grants with members not yet in the term vote again at once in the same
//! term; anything else votes next term.

use super::vote::VoteResult;

/// What the candidate does next (`VoteResponse.ParseResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Elected: leader of the term.
    Passed,
    /// Vote again in the same term at once (members were not ready for it).
    RevoteImmediately,
    /// Vote again in the same term after a wait.
    WaitToRevote(Wait),
    /// Bump the term, then vote after the usual wait.
    WaitToVoteNext,
}

/// How long a candidate waits before it votes again, beyond the usual 300..1000 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The usual interval.
    Usual,
    /// A peer knows a leader: plus a heartbeat timeout (`heartBeatTimeIntervalMs *
    /// maxHeartBeatLeak`, 6 s).
    LeaderKnown,
    /// Peers' logs are longer: plus `maxVoteIntervalMs` (1 s).
    LongerLogs,
}

/// The round's outcome and the largest term any answer showed. `answers` holds one entry per
/// peer (the candidate's own included): the result and the term it carried, or `None` for a
/// peer that did not answer in time (UNKNOWN).
pub fn tally(term: u64, answers: &[Option<(VoteResult, u64)>]) -> (Outcome, u64) {
    let quorum = |n: usize| n > answers.len() / 2;
    let mut known_max_term = term;
    let (mut valid, mut accepted, mut not_ready, mut longer, mut leader_known) =
        (0, 0, 0, 0, false);
    for (result, answered_term) in answers.iter().flatten() {
        valid += 1;
        match result {
            VoteResult::Accept => accepted += 1,
            VoteResult::RejectAlreadyHasLeader => leader_known = true,
            VoteResult::RejectTermSmallThanLedger | VoteResult::RejectExpiredVoteTerm => {
                known_max_term = known_max_term.max(*answered_term);
            }
            VoteResult::RejectExpiredLedgerTerm | VoteResult::RejectSmallLedgerEndIndex => {
                longer += 1
            }
            VoteResult::RejectTermNotReady => not_ready += 1,
            _ => {}
        }
    }
    let outcome = if known_max_term > term {
        Outcome::WaitToVoteNext
    } else if leader_known {
        Outcome::WaitToRevote(Wait::LeaderKnown)
    } else if !quorum(valid) {
        Outcome::WaitToRevote(Wait::Usual)
    } else if !quorum(valid - longer) {
        Outcome::WaitToRevote(Wait::LongerLogs)
    } else if quorum(accepted) {
        Outcome::Passed
    } else if quorum(accepted + not_ready) {
        Outcome::RevoteImmediately
    } else {
        Outcome::WaitToVoteNext
    };
    (outcome, known_max_term)
}

#[cfg(test)]
mod tests {
    use super::*;
    use VoteResult::*;

    fn answers(results: &[Option<VoteResult>]) -> Vec<Option<(VoteResult, u64)>> {
        results.iter().map(|r| r.map(|r| (r, 5))).collect()
    }

    #[test]
    fn a_round_is_read_in_order() {
        let tally5 = |results: &[Option<VoteResult>]| tally(5, &answers(results)).0;
        assert_eq!(tally5(&[Some(Accept), Some(Accept), None]), Outcome::Passed);
        let not_ready = [Some(Accept), Some(RejectTermNotReady), None];
        assert_eq!(tally5(&not_ready), Outcome::RevoteImmediately);
        let silent = [Some(Accept), None, None];
        assert_eq!(tally5(&silent), Outcome::WaitToRevote(Wait::Usual));
        let longer = [
            Some(Accept),
            Some(RejectSmallLedgerEndIndex),
            Some(RejectExpiredLedgerTerm),
        ];
        assert_eq!(tally5(&longer), Outcome::WaitToRevote(Wait::LongerLogs));
        let led = [Some(Accept), Some(Accept), Some(RejectAlreadyHasLeader)];
        assert_eq!(
            tally5(&led),
            Outcome::WaitToRevote(Wait::LeaderKnown),
            "before the grants"
        );
        let split = [
            Some(Accept),
            Some(RejectAlreadyVoted),
            Some(RejectAlreadyVoted),
        ];
        assert_eq!(tally5(&split), Outcome::WaitToVoteNext);
    }

    #[test]
    fn a_larger_term_in_any_answer_comes_first() {
        let answers = [
            Some((Accept, 5)),
            Some((Accept, 5)),
            Some((RejectExpiredVoteTerm, 8)),
        ];
        assert_eq!(tally(5, &answers), (Outcome::WaitToVoteNext, 8));
    }
}

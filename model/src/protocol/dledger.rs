//! DLedger's own requests between the members of a group (`PushEntryRequest`, `VoteRequest`,
//! `HeartBeatRequest`) and their answers, each carrying a `DLedgerResponseCode`. DLedger sends
//! them over its own remoting port; the remoting layer answers SUCCESS and the DLedger code
//! travels in the body, as here. Members are named by their DLedger ids (`n0`, `n1`, ...).

use crate::dledger::follower::{Push, PushAnswer};
use crate::dledger::vote::{HeartbeatAnswer, VoteRequest, VoteResult};

/// `DLedgerResponseCode`, with its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DLedgerResponseCode {
    Success,
    UnknownGroup,
    UnknownMember,
    UnexpectedMember,
    ExpiredTerm,
    NotLeader,
    NotFollower,
    InconsistentState,
    InconsistentTerm,
    InconsistentIndex,
    InconsistentLeader,
    RepeatedPush,
    DiskError,
    TermNotReady,
    TermChanged,
    WaitQuorumAckTimeout,
    LeaderPendingFull,
    LeaderTransferring,
}

impl DLedgerResponseCode {
    /// The number DLedger puts on the wire.
    pub fn number(self) -> i32 {
        match self {
            DLedgerResponseCode::Success => 200,
            DLedgerResponseCode::UnknownGroup => 400,
            DLedgerResponseCode::UnknownMember => 401,
            DLedgerResponseCode::UnexpectedMember => 402,
            DLedgerResponseCode::ExpiredTerm => 403,
            DLedgerResponseCode::NotLeader => 404,
            DLedgerResponseCode::NotFollower => 405,
            DLedgerResponseCode::InconsistentState => 406,
            DLedgerResponseCode::InconsistentTerm => 407,
            DLedgerResponseCode::InconsistentIndex => 408,
            DLedgerResponseCode::InconsistentLeader => 409,
            DLedgerResponseCode::RepeatedPush => 413,
            DLedgerResponseCode::DiskError => 414,
            DLedgerResponseCode::TermNotReady => 416,
            DLedgerResponseCode::TermChanged => 501,
            DLedgerResponseCode::WaitQuorumAckTimeout => 502,
            DLedgerResponseCode::LeaderPendingFull => 503,
            DLedgerResponseCode::LeaderTransferring => 506,
        }
    }
}

/// `PushEntryRequest`: one push of the leader's dispatcher to `remote`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushRequest {
    pub group: String,
    /// The member it is for (`remoteId`).
    pub remote: String,
    /// The sender (`leaderId`) and its term.
    pub leader: String,
    pub term: u64,
    /// The leader's committed index (`commitIndex`; `None`: -1).
    pub commit_index: Option<u64>,
    pub push: Push,
}

impl PushRequest {
    /// Approximate payload bytes: the entry, or only the header.
    pub fn wire_bytes(&self) -> u64 {
        let entry = match &self.push {
            Push::Append(entry) | Push::Compare(entry) | Push::Truncate(entry) => entry.size(),
            Push::Commit => 0,
        };
        48 + entry
    }
}

/// `PushEntryResponse`: the code, the request's term and entry index, and the follower's log
/// span (`beginIndex`, `endIndex`; `end` is `None` for an empty log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushResponse {
    pub code: DLedgerResponseCode,
    pub term: u64,
    pub index: Option<u64>,
    pub begin: u64,
    pub end: Option<u64>,
}

impl PushResponse {
    /// The answer the leader's dispatcher reads, for the codes it reads; any other code is an
    /// error it only logs.
    pub fn answer(&self) -> Option<PushAnswer> {
        let (begin, end) = (self.begin, self.end);
        match self.code {
            DLedgerResponseCode::Success => Some(PushAnswer::Success { begin, end }),
            DLedgerResponseCode::RepeatedPush => Some(PushAnswer::Repeated),
            DLedgerResponseCode::InconsistentState => {
                Some(PushAnswer::InconsistentState { begin, end })
            }
            _ => None,
        }
    }
}

/// A candidate's `VoteRequest` to `remote`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteCall {
    pub group: String,
    pub remote: String,
    pub request: VoteRequest,
}

/// `VoteResponse`: a code (SUCCESS once the request reached the elector), the vote's result
/// and the term it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteReply {
    pub code: DLedgerResponseCode,
    pub result: Option<VoteResult>,
    pub term: u64,
}

/// A leader's `HeartBeatRequest` to `remote`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatCall {
    pub group: String,
    pub remote: String,
    pub leader: String,
    pub term: u64,
}

/// `HeartBeatResponse`: the member's answer and its term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatReply {
    pub answer: Option<HeartbeatAnswer>,
    /// The group or member did not match (`UNKNOWN_GROUP`, `UNKNOWN_MEMBER`).
    pub refused: Option<DLedgerResponseCode>,
    pub term: u64,
}

//! A member's configuration (`DLedgerConfig`): who it is, its peers, and the timings and sizes
//! this model uses, with 0.3.1.2's defaults. A configuration that names a leader runs the
//! group with that leader, static, every member in its term from the start; one that names
//! none runs 0.3.1.2's elections (`DLedgerLeaderElector`) with the timings below.

use crate::ids::NodeId;

/// One member of the group: its DLedger id (`n0`, `n1`, ...) and where it listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub id: String,
    pub node: NodeId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DLedgerConfig {
    /// `group`.
    pub group: String,
    /// `selfId`.
    pub self_id: String,
    /// `peers`, this member included, in the configured order.
    pub peers: Vec<Peer>,
    /// A static leader's id (no field of 0.3.1.2): `Some` makes that member the leader and
    /// the others its followers from the start, all in term 1, with no election; `None` runs
    /// the elector, every member starting as a candidate.
    pub leader_id: Option<String>,
    /// `storeBaseDir` with `group-selfId`: where the data, index, checkpoint and term files go.
    pub store_dir: String,
    /// `mappedFileSizeForEntryData`: 1 GiB in DLedger (RocketMQ sets it to the CommitLog's
    /// file size); 1 MiB here, so that a run rolls files and keeps its disk small.
    pub data_file_size: u64,
    /// `mappedFileSizeForEntryIndex` in units of 32 bytes: 5 Mi units in DLedger; 32 Ki here.
    pub index_file_units: u64,
    /// `flushFileInterval`: the data and index files are forced every 10 ms.
    pub flush_interval_ms: u64,
    /// `checkPointInterval`: the checkpoint (end and committed index) every 3000 ms.
    pub checkpoint_interval_ms: u64,
    /// `maxPendingRequestsNum`: a leader refuses an append (LEADER_PENDING_FULL) while more
    /// than 10000 wait for their quorum.
    pub max_pending_requests: usize,
    /// `maxWaitAckTimeMs`: an append unacknowledged after 2500 ms is answered
    /// WAIT_QUORUM_ACK_TIMEOUT.
    pub max_wait_ack_ms: u64,
    /// `maxPushTimeOutMs`: an unanswered append is pushed again after 1000 ms (the dispatcher's
    /// `REPUSH_AFTER_MS`).
    pub max_push_timeout_ms: u64,
    /// `DLedgerRpcNettyService`'s request timeout: 3000 ms.
    pub rpc_timeout_ms: u64,
    /// How often the leader's dispatchers and quorum check look at the time: 0.3.1.2's threads
    /// loop every 1 ms, and here they also run at once on every append and every answer, so
    /// only what waits for time (a re-push, an idle COMMIT push, an append's timeout, a retry
    /// after a failed COMPARE) waits for this tick: up to 100 ms later than in DLedger.
    pub push_tick_ms: u64,
    /// `heartBeatTimeIntervalMs`: a leader sends heartbeats every 2000 ms; a heartbeat round
    /// waits at most this long for its answers.
    pub heartbeat_interval_ms: u64,
    /// `maxHeartBeatLeak`: a follower that heard no heartbeat from its leader for 3 intervals,
    /// and a leader without a quorum of answers for as long, become candidates.
    pub max_heartbeat_leak: u64,
    /// `minVoteIntervalMs`: a candidate's next vote comes a uniform draw from 300 ms up to
    /// `maxVoteIntervalMs` after a round (plus a heartbeat timeout when a peer knows a
    /// leader, or `maxVoteIntervalMs` when too many peers hold longer logs).
    pub min_vote_interval_ms: u64,
    /// `maxVoteIntervalMs`: the bound of that draw (exclusive), 1000 ms; also the bound of the
    /// random part of a round's wait for its answers.
    pub max_vote_interval_ms: u64,
    /// The fixed part of a vote round's wait for its answers: `maintainAsCandidate` waits
    /// 2000 ms plus a uniform draw below `maxVoteIntervalMs` (a literal in the elector).
    pub vote_wait_ms: u64,
    /// The `grant_two_votes_per_term` bug (no field of 0.3.1.2): the member grants a second
    /// candidate's vote in a term it already voted in. False by default.
    pub grant_two_votes_per_term: bool,
    /// The `skip_follower_truncation` bug (no field of 0.3.1.2): a follower answers a
    /// TRUNCATE push SUCCESS without cutting its log, keeping the entries it held from the
    /// truncated index on. False by default.
    pub skip_follower_truncation: bool,
    /// The `commit_before_quorum` bug (no field of 0.3.1.2): the leader's quorum check moves
    /// the committed index to the leader's own watermark, an entry counted committed once the
    /// leader's log holds it, before a quorum does. Appends are still acknowledged by the
    /// quorum. False by default.
    pub commit_before_quorum: bool,
    /// The `follower_ack_before_write` bug (no field of 0.3.1.2): a follower answers an
    /// APPEND that follows its log SUCCESS, holding the entry's index, but writes the entry
    /// only at its next flush tick (or before the next push it handles as usual, a COMMIT
    /// aside); a process that dies first never writes it. False by default.
    pub follower_ack_before_write: bool,
}

impl DLedgerConfig {
    /// A member `self_id` of `group` with the defaults, its files under `dledger/`.
    /// `leader_id`: a static leader, or `None` for elections.
    pub fn new(
        group: &str,
        self_id: &str,
        peers: Vec<Peer>,
        leader_id: Option<&str>,
    ) -> DLedgerConfig {
        crate::invariant!(
            peers.iter().any(|p| p.id == self_id),
            "dledger-config-names-itself",
            "self {self_id} among peers {:?}",
            peers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()
        );
        crate::invariant!(
            leader_id.is_none_or(|leader| peers.iter().any(|p| p.id == leader)),
            "dledger-config-names-its-members",
            "leader {leader_id:?} among peers {:?}",
            peers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()
        );
        DLedgerConfig {
            group: group.to_string(),
            self_id: self_id.to_string(),
            peers,
            leader_id: leader_id.map(str::to_string),
            store_dir: format!("dledger/{group}-{self_id}"),
            data_file_size: 1 << 20,
            index_file_units: 32 * 1024,
            flush_interval_ms: 10,
            checkpoint_interval_ms: 3_000,
            max_pending_requests: 10_000,
            max_wait_ack_ms: 2_500,
            max_push_timeout_ms: super::dispatcher::REPUSH_AFTER_MS,
            rpc_timeout_ms: 3_000,
            push_tick_ms: 100,
            heartbeat_interval_ms: 2_000,
            max_heartbeat_leak: 3,
            min_vote_interval_ms: 300,
            max_vote_interval_ms: 1_000,
            vote_wait_ms: 2_000,
            grant_two_votes_per_term: false,
            skip_follower_truncation: false,
            commit_before_quorum: false,
            follower_ack_before_write: false,
        }
    }

    /// The peer with DLedger id `id`.
    pub fn peer(&self, id: &str) -> Option<&Peer> {
        self.peers.iter().find(|p| p.id == id)
    }
}

//! A broker whose CommitLog is a DLedger member's log (`enableDLegerCommitLog`): the broker
//! routes the member's requests, the answers to its pushes and its timers to it, and acts on
//! what the member reports: a committed index that moved makes dispatch run (ConsumeQueues
//! follow the committed position), an append a quorum acknowledged or that timed out answers
//! the send waiting for it. The member's role decides the broker's
//! (`DLedgerRoleChangeHandler`): a candidate or follower runs as a slave; a leader becomes the
//! master once its whole log is committed and dispatched, polled every 100 ms.

use super::{BrokerRole, BrokerTimer, Running};
use crate::dledger::server::{DLedgerTimer, Progress};
use crate::dledger::vote::Role;
use crate::ids::RequestId;
use crate::node::{Context, Inbound, RpcError};
use crate::protocol::{Request, Response, ResponseCode};
use crate::timer::Timer;

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
                // WAIT_QUORUM_ACK_TIMEOUT is OS_PAGECACHE_BUSY, TERM_CHANGED UNKNOWN_ERROR:
                // both reach the producer as SYSTEM_ERROR.
                Progress::TimedOut { index, .. } | Progress::TermChanged { index } => {
                    self.settle_member_append(ctx, index, ResponseCode::SystemError);
                }
                Progress::RoleChanged { role, term } => self.on_member_role(ctx, role, term),
            }
        }
    }

    /// `DLedgerRoleChangeHandler.handle`: a candidate that is not a slave yet, or a follower,
    /// becomes a slave; a leader waits to become the master.
    fn on_member_role(&mut self, ctx: &mut Context<'_>, role: Role, term: u64) {
        match role {
            Role::Candidate if self.config.role == BrokerRole::Slave => {}
            Role::Candidate | Role::Follower => self.change_to_slave(ctx),
            Role::Leader => {
                self.leading_term = Some(term);
                self.take_over_when_caught_up(ctx);
            }
        }
    }

    /// The handler's loop for a new leader: once its log's end is committed and dispatched,
    /// the queues' next offsets are read back from the ConsumeQueues and it becomes the
    /// master; while it still leads in that term, it looks again every 100 ms.
    pub(super) fn take_over_when_caught_up(&mut self, ctx: &mut Context<'_>) {
        let Some(term) = self.leading_term else {
            return;
        };
        let Some(member) = self.store.dledger() else {
            return;
        };
        if !member.is_leader() || member.term() != term {
            self.leading_term = None;
            return;
        }
        let end = member.end().map(|(end, _)| end);
        let caught_up = end.is_none()
            || (end == member.committed_index() && self.store.dispatch_behind_bytes() == 0);
        if !caught_up {
            ctx.set_timer(
                TAKE_OVER_POLL_MS,
                Timer::Broker(BrokerTimer::DLedgerTakeOver),
            );
            return;
        }
        self.leading_term = None;
        self.store.recover_topic_queue_table(ctx.disk());
        self.change_to_master(ctx);
    }

    /// `BrokerController.changeToSlave`: broker id `selfId + 1`, role SLAVE, the schedule and
    /// transaction services stopped, SlaveSynchronize started with no master known (first
    /// round after 3 s), and a oneway registration (its answer, with the master's address,
    /// never comes: the next periodic registration brings it).
    fn change_to_slave(&mut self, ctx: &mut Context<'_>) {
        let id = self.member_broker_id();
        self.config.broker_id = id;
        self.config.role = BrokerRole::Slave;
        self.store.set_slave(true);
        self.delays.stop();
        self.master_addr = None;
        self.start_slave_sync(ctx);
        self.register_all_oneway(ctx);
    }

    /// `BrokerController.changeToMaster(SYNC_MASTER)`: SlaveSynchronize stopped, the schedule
    /// service started, the transaction check started (its first round one interval later),
    /// broker id 0, and a oneway registration.
    fn change_to_master(&mut self, ctx: &mut Context<'_>) {
        self.master_addr = None;
        self.config.broker_id = 0;
        self.config.role = BrokerRole::SyncMaster;
        self.store.set_slave(false);
        self.start_delay_persistence(ctx);
        self.delays.start(ctx, &self.store);
        self.check_loop = crate::broker::transaction::CheckLoop::new(ctx.now());
        self.arm_transaction_check(ctx);
        self.register_all_oneway(ctx);
    }

    /// `DLedgerCommitLog.getId`: the number of `selfId` (`n2` is 2) plus 1.
    fn member_broker_id(&self) -> u64 {
        let config = self.config.dledger.as_ref().expect("a DLedger broker");
        let number: u64 = config.self_id[1..].parse().unwrap_or(0);
        number + 1
    }
}

/// `DLedgerRoleChangeHandler`'s wait for a new leader's log to be committed and dispatched.
const TAKE_OVER_POLL_MS: u64 = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::BrokerConfig;
    use crate::dledger::config::{DLedgerConfig, Peer};
    use crate::ids::NodeId;
    use crate::testing::TestIo;

    /// A broker hosting member `n1` of a group of one, led by itself, with a name server.
    fn member_broker(io: &mut TestIo) -> Running {
        let mut config = BrokerConfig::new("c", "broker-a", vec![NodeId(9)]);
        let peers = vec![Peer {
            id: "n1".into(),
            node: NodeId(0),
        }];
        config.dledger = Some(DLedgerConfig::new("broker-a", "n1", peers, Some("n1")));
        config.role = BrokerRole::SyncMaster;
        Running::start(&mut io.ctx(), config)
    }

    fn registered_ids(io: &mut TestIo) -> Vec<u64> {
        let ids = io.requests.iter().filter_map(|(_, request)| match request {
            Request::RegisterBroker(register) => Some(register.broker_id),
            _ => None,
        });
        let ids = ids.collect();
        io.requests.clear();
        ids
    }

    /// A follower runs as slave `selfId + 1`; its leader's turn makes it master 0 once its
    /// log is committed and dispatched; a candidate that is a slave already stays as it is.
    #[test]
    fn the_broker_follows_its_members_role() {
        let mut io = TestIo::new();
        let mut broker = member_broker(&mut io);
        io.requests.clear();
        broker.on_member_role(&mut io.ctx(), Role::Follower, 2);
        assert_eq!(
            (broker.config.role, broker.config.broker_id),
            (BrokerRole::Slave, 2)
        );
        assert_eq!(registered_ids(&mut io), vec![2]);
        broker.on_member_role(&mut io.ctx(), Role::Candidate, 3);
        assert_eq!(registered_ids(&mut io), Vec::<u64>::new());
        broker.on_member_role(&mut io.ctx(), Role::Leader, 1);
        assert_eq!(broker.config.role, BrokerRole::SyncMaster);
        assert_eq!(broker.config.broker_id, 0);
        assert_eq!(registered_ids(&mut io), vec![0]);
    }

    /// A leader whose term is not the member's (it was deposed meanwhile) never takes over.
    #[test]
    fn a_leader_of_another_term_does_not_take_over() {
        let mut io = TestIo::new();
        let mut broker = member_broker(&mut io);
        broker.on_member_role(&mut io.ctx(), Role::Follower, 2);
        io.requests.clear();
        broker.on_member_role(&mut io.ctx(), Role::Leader, 7);
        assert_eq!(broker.config.role, BrokerRole::Slave);
        assert_eq!(broker.leading_term, None);
        assert_eq!(registered_ids(&mut io), Vec::<u64>::new());
    }
}

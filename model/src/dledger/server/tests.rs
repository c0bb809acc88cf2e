//! Three members (n0 leads, n1 and n2 follow, or all elect: `election`) on a network of the
//! test's own: every request is handed to its member at once, and its answer back to the
//! sender; a member that is down refuses the connection, one that is cut off loses every
//! message to or from it (the sender's request times out after its 3 s). Time moves in 10 ms
//! steps, firing the timers due; after each step no term has two leaders.

mod bugs;
mod election;

use super::*;
use crate::disk::MemDisk;
use crate::dledger::config::Peer;
use crate::dledger::entry::{BODY_OFFSET, Entry};
use crate::event::Event;
use crate::ids::NodeId;
use crate::node::{Io, RpcError};
use crate::time::Time;

const MEMBERS: usize = 3;

/// One member's machine: its disk, and what it sent since the network last looked.
#[derive(Default)]
struct Machine {
    disk: MemDisk,
    now: Time,
    timers: Vec<(Time, Timer)>,
    requests: Vec<(NodeId, RequestId, Request)>,
    responses: Vec<(NodeId, RequestId, Response)>,
    next_request: u64,
    /// The machine's own random stream (xorshift).
    random: u64,
}

impl Io for Machine {
    fn random_u64(&mut self) -> u64 {
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        self.random
    }

    fn request(&mut self, to: NodeId, request: Request, _timeout_ms: u64) -> RequestId {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        self.requests.push((to, id, request));
        id
    }

    fn oneway(&mut self, _to: NodeId, _request: Request) {
        unreachable!("members send no oneway request")
    }

    fn respond(&mut self, to: NodeId, request_id: RequestId, response: Response) {
        self.responses.push((to, request_id, response));
    }

    fn set_timer(&mut self, delay_ms: u64, timer: Timer) {
        self.timers.push((self.now.plus_ms(delay_ms), timer));
    }

    fn close_connection(&mut self, _peer: NodeId) {}

    fn disk(&mut self) -> &mut dyn Disk {
        &mut self.disk
    }

    fn emit(&mut self, _event: Event) {}

    fn exit(&mut self, _restart_after_ms: Option<u64>) {}
}

impl Machine {
    fn seeded(k: usize) -> Machine {
        Machine {
            random: 0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1),
            ..Machine::default()
        }
    }
}

struct Cluster {
    now: Time,
    configs: Vec<DLedgerConfig>,
    machines: Vec<Machine>,
    servers: Vec<Option<DLedgerServer>>,
    /// Per member, the progress it reported.
    progress: Vec<Vec<Progress>>,
    /// Every push handed to a member that was up: (member, push).
    pushes: Vec<(usize, Push)>,
    /// The members cut off from the others: their messages are lost.
    cut: Vec<bool>,
    /// Requests awaiting their answer: when the sender's timeout fires, the sender, the
    /// request. A request lost on the way, or that its member leaves unanswered, times out.
    waiting: Vec<(Time, usize, RequestId)>,
    /// Every term's leader seen so far.
    leaders: BTreeMap<u64, usize>,
}

fn config(k: usize, tune: fn(&mut DLedgerConfig)) -> DLedgerConfig {
    let peers = (0..MEMBERS)
        .map(|i| Peer {
            id: format!("n{i}"),
            node: NodeId(i as u16),
        })
        .collect();
    let mut config = DLedgerConfig::new("g", &format!("n{k}"), peers, Some("n0"));
    config.data_file_size = 4096;
    config.index_file_units = 64;
    tune(&mut config);
    config
}

fn body(n: u8) -> Vec<u8> {
    vec![n; 40]
}

impl Cluster {
    fn new() -> Cluster {
        Cluster::tuned(|_| {})
    }

    fn tuned(tune: fn(&mut DLedgerConfig)) -> Cluster {
        let mut cluster = Cluster {
            now: Time::ZERO,
            configs: (0..MEMBERS).map(|k| config(k, tune)).collect(),
            machines: (0..MEMBERS).map(Machine::seeded).collect(),
            servers: (0..MEMBERS).map(|_| None).collect(),
            progress: vec![Vec::new(); MEMBERS],
            pushes: Vec::new(),
            cut: vec![false; MEMBERS],
            waiting: Vec::new(),
            leaders: BTreeMap::new(),
        };
        for k in 0..MEMBERS {
            cluster.start(k);
        }
        cluster.settle();
        cluster
    }

    fn start(&mut self, k: usize) {
        let machine = &mut self.machines[k];
        machine.now = self.now;
        let mut ctx = Context::new(self.now, NodeId(k as u16), machine);
        let mut server = DLedgerServer::open(&mut ctx, self.configs[k].clone()).expect("opens");
        self.progress[k].extend(server.take_progress());
        self.servers[k] = Some(server);
    }

    /// The member's process dies: its memory and its timers are gone, its disk stays.
    fn stop(&mut self, k: usize) {
        self.servers[k] = None;
        let machine = &mut self.machines[k];
        machine.timers.clear();
        machine.requests.clear();
        machine.responses.clear();
    }

    /// Stops member `k` and opens its store as it lies on its disk, to write to it by hand.
    fn stopped_store(&mut self, k: usize) -> DLedgerStore {
        self.stop(k);
        let c = &self.configs[k];
        let (dir, size, units) = (c.store_dir.clone(), c.data_file_size, c.index_file_units);
        DLedgerStore::open(&mut self.machines[k].disk, &dir, size, units).expect("opens")
    }

    fn server(&self, k: usize) -> &DLedgerServer {
        self.servers[k].as_ref().expect("the member is up")
    }

    fn entry(&self, k: usize, index: u64) -> Option<Entry> {
        self.server(k).entry(&self.machines[k].disk, index)
    }

    /// Runs `f` on member `k` with a context at the current time; keeps its progress.
    fn with(&mut self, k: usize, f: impl FnOnce(&mut DLedgerServer, &mut Context<'_>)) {
        let machine = &mut self.machines[k];
        machine.now = self.now;
        let mut ctx = Context::new(self.now, NodeId(k as u16), machine);
        let Some(server) = self.servers[k].as_mut() else {
            return;
        };
        f(server, &mut ctx);
        let progress = server.take_progress();
        self.progress[k].extend(progress);
    }

    fn append(&mut self, k: usize, body: Vec<u8>) -> Result<Appended, Refused> {
        let mut result = None;
        self.with(k, |server, ctx| {
            result = Some(server.append_as_leader(ctx, body));
        });
        result.expect("the member is up")
    }

    /// Hands every request sent so far to its member and every answer to its sender.
    fn deliver(&mut self) -> bool {
        let mut moved = false;
        for from in 0..MEMBERS {
            for (to, id, request) in std::mem::take(&mut self.machines[from].requests) {
                moved = true;
                let to = to.index();
                if self.servers[to].is_none() && !self.cut[from] && !self.cut[to] {
                    let refused = Err(RpcError::Refused);
                    self.with(from, |s, ctx| {
                        let progress = s.on_response(ctx, id, refused);
                        s.progress.extend(progress);
                    });
                    continue;
                }
                let timeout = self.now.plus_ms(self.configs[from].rpc_timeout_ms);
                self.waiting.push((timeout, from, id));
                if self.cut[from] || self.cut[to] {
                    continue;
                }
                if let Request::DLedgerPush(push) = &request {
                    self.pushes.push((to, push.push.clone()));
                }
                let inbound = Inbound {
                    from: NodeId(from as u16),
                    request_id: Some(id),
                };
                self.with(to, |s, ctx| {
                    let progress = s.on_request(ctx, inbound, request);
                    s.progress.extend(progress);
                });
            }
            for (to, id, response) in std::mem::take(&mut self.machines[from].responses) {
                moved = true;
                let to = to.index();
                let Some(at) = (self.waiting.iter()).position(|w| (w.1, w.2) == (to, id)) else {
                    continue; // timed out already
                };
                self.waiting.remove(at);
                if self.cut[from] || self.cut[to] {
                    continue;
                }
                self.with(to, |s, ctx| {
                    let progress = s.on_response(ctx, id, Ok(response));
                    s.progress.extend(progress);
                });
            }
        }
        moved
    }

    fn settle(&mut self) {
        while self.deliver() {}
    }

    /// Moves time by `ms` in 10 ms steps, firing the timers due and the timeouts of
    /// unanswered requests, settling after each; then no term has had two leaders.
    fn advance(&mut self, ms: u64) {
        for _ in 0..ms / 10 {
            self.step();
            self.settle();
            self.check_one_leader_per_term();
            self.check_roles_reported();
        }
    }

    /// Moves time by 10 ms: the timeouts of unanswered requests, then the timers due.
    fn step(&mut self) {
        self.now = self.now.plus_ms(10);
        self.time_out_unanswered();
        for k in 0..MEMBERS {
            let machine = &mut self.machines[k];
            machine.timers.sort_by_key(|(at, _)| *at);
            let split = machine.timers.partition_point(|(at, _)| *at <= self.now);
            let due: Vec<Timer> = machine.timers.drain(..split).map(|(_, t)| t).collect();
            for fired in due {
                let Timer::DLedger(fired) = fired else {
                    continue;
                };
                self.with(k, |s, ctx| {
                    let progress = s.on_timer(ctx, fired);
                    s.progress.extend(progress);
                });
            }
        }
    }

    /// Every electing member that is up last reported the role it has.
    fn check_roles_reported(&self) {
        for k in 0..MEMBERS {
            let Some(server) = self.servers[k].as_ref() else {
                continue;
            };
            if self.configs[k].leader_id.is_some() {
                continue;
            }
            let reported = self.progress[k].iter().rev().find_map(|p| match p {
                Progress::RoleChanged { role, .. } => Some(*role),
                _ => None,
            });
            assert_eq!(reported, Some(server.role()), "n{k} at {:?}", self.now);
        }
    }

    /// The unanswered requests whose timeout is due fail with a timeout.
    fn time_out_unanswered(&mut self) {
        let now = self.now;
        let (due, later) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(at, _, _)| *at <= now);
        self.waiting = later;
        for (_, from, id) in due {
            self.with(from, |s, ctx| {
                let progress = s.on_response(ctx, id, Err(RpcError::Timeout));
                s.progress.extend(progress);
            });
        }
    }

    /// Every member that leads now is the only leader its term ever had.
    fn check_one_leader_per_term(&mut self) {
        for k in 0..MEMBERS {
            let Some(server) = self.servers[k].as_ref().filter(|s| s.is_leader()) else {
                continue;
            };
            let term = server.term();
            let first = *self.leaders.entry(term).or_insert(k);
            assert_eq!(
                first, k,
                "n{first} and n{k} both led term {term} at {:?}",
                self.now
            );
        }
    }

    fn acked(&self, k: usize) -> Vec<u64> {
        let acked = self.progress[k].iter().filter_map(|p| match p {
            Progress::Acked { index, .. } => Some(*index),
            _ => None,
        });
        acked.collect()
    }

    fn timed_out(&self, k: usize) -> Vec<u64> {
        let timed_out = self.progress[k].iter().filter_map(|p| match p {
            Progress::TimedOut { index, .. } => Some(*index),
            _ => None,
        });
        timed_out.collect()
    }

    /// Member `k` holds the leader's entries `0..=last`, and nothing after them.
    fn assert_replica(&self, k: usize, last: u64) {
        self.assert_replica_of(0, k, last);
    }

    /// Member `k` holds `leader`'s entries `0..=last`, and nothing after them.
    fn assert_replica_of(&self, leader: usize, k: usize, last: u64) {
        assert_eq!(self.server(k).end().map(|(end, _)| end), Some(last));
        for index in 0..=last {
            let leader = self.entry(leader, index);
            assert!(leader.is_some(), "the leader holds {index}");
            assert_eq!(self.entry(k, index), leader, "n{k}'s entry {index}");
        }
    }
}

#[test]
fn appends_replicate_to_both_followers_and_commit_on_a_quorum() {
    let mut cluster = Cluster::new();
    let appended: Vec<Appended> = (0..3)
        .map(|n| cluster.append(0, body(n)).expect("the leader appends"))
        .collect();
    assert_eq!(appended[1].index, 1);
    cluster.settle();
    for k in 1..MEMBERS {
        cluster.assert_replica(k, 2);
    }
    let leader = cluster.server(0);
    assert_eq!(leader.committed_index(), Some(2));
    let end_pos = appended[2].pos + BODY_OFFSET + 40;
    assert_eq!(leader.committed_pos(), end_pos);
    assert_eq!(cluster.acked(0), vec![0, 1, 2]);
    let committed = cluster.progress[0].iter().rev().find_map(|p| match p {
        Progress::Committed { index, pos } => Some((*index, *pos)),
        _ => None,
    });
    assert_eq!(committed, Some((2, end_pos)));
    let record = leader.record_at(&cluster.machines[0].disk, appended[1].pos + BODY_OFFSET);
    assert_eq!(record, Some(body(1)), "a record read by its PHYSICALOFFSET");
    // The followers learn the committed index from the next push: the idle COMMIT.
    cluster.advance(1_200);
    for k in 1..MEMBERS {
        assert_eq!(cluster.server(k).committed_index(), Some(2));
        assert_eq!(cluster.server(k).committed_pos(), end_pos);
    }
    assert_eq!(cluster.append(1, body(9)), Err(Refused::NotLeader));
}

#[test]
fn a_follower_that_is_down_does_not_stop_commits_and_catches_up() {
    let mut cluster = Cluster::new();
    cluster.stop(2);
    for n in 0..3 {
        cluster.append(0, body(n)).expect("the leader appends");
    }
    cluster.settle();
    assert_eq!(cluster.server(0).committed_index(), Some(2));
    assert_eq!(cluster.acked(0), vec![0, 1, 2]);
    cluster.advance(3_000);
    assert!(cluster.timed_out(0).is_empty());
    cluster.start(2);
    cluster.advance(2_000);
    cluster.assert_replica(2, 2);
    assert_eq!(cluster.server(2).committed_index(), Some(2));
}

#[test]
fn without_a_quorum_an_append_times_out_and_still_commits_later() {
    let mut cluster = Cluster::new();
    cluster.stop(1);
    cluster.stop(2);
    cluster.append(0, body(0)).expect("the leader appends");
    cluster.advance(2_400);
    assert!(cluster.timed_out(0).is_empty(), "maxWaitAckTimeMs is 2.5 s");
    cluster.advance(200);
    assert_eq!(cluster.timed_out(0), vec![0]);
    assert_eq!(cluster.server(0).committed_index(), None);
    cluster.start(1);
    cluster.advance(1_500);
    assert_eq!(cluster.server(0).committed_index(), Some(0));
    assert!(cluster.acked(0).is_empty(), "its answer was already given");
}

#[test]
fn a_leader_refuses_appends_past_the_pending_limit() {
    let mut cluster = Cluster::tuned(|config| config.max_pending_requests = 1);
    cluster.stop(1);
    cluster.stop(2);
    assert!(cluster.append(0, body(0)).is_ok());
    assert!(
        cluster.append(0, body(1)).is_ok(),
        "one waits: not more than 1"
    );
    assert_eq!(cluster.append(0, body(2)), Err(Refused::PendingFull));
    assert_eq!(Refused::PendingFull.code().number(), 503);
}

/// n2 lost entry 2 (never flushed) and holds two entries the leader never had: the leader
/// compares back to entry 1, truncates n2 there and appends the rest.
#[test]
fn a_follower_that_lost_its_tail_is_truncated_then_caught_up() {
    let mut cluster = Cluster::new();
    for n in 0..3 {
        cluster.append(0, body(n)).expect("the leader appends");
    }
    cluster.advance(1_200);
    let mut store = cluster.stopped_store(2);
    let dir = cluster.configs[2].store_dir.clone();
    let disk = &mut cluster.machines[2].disk;
    store.truncate(disk, 1);
    store.append(disk, 1, b"stale two".to_vec());
    store.append(disk, 1, b"stale three".to_vec());
    disk.delete(&format!("{dir}/checkpoint"));
    for n in 3..5 {
        cluster.append(0, body(n)).expect("the leader appends");
    }
    cluster.settle();
    assert_eq!(cluster.server(0).committed_index(), Some(4), "n0 and n1");
    let before = cluster.pushes.len();
    cluster.start(2);
    cluster.advance(3_000);
    cluster.assert_replica(2, 4);
    let to_n2: Vec<(&str, u64)> = cluster.pushes[before..]
        .iter()
        .filter(|(k, _)| *k == 2)
        .filter_map(|(_, push)| match push {
            Push::Compare(e) => Some(("compare", e.index)),
            Push::Truncate(e) => Some(("truncate", e.index)),
            Push::Append(e) => Some(("append", e.index)),
            Push::Commit => None,
        })
        .collect();
    let truncated = to_n2.iter().position(|p| *p == ("truncate", 1));
    let truncated = truncated.expect("n2 is truncated after entry 1");
    assert!(to_n2[..truncated].contains(&("compare", 1)));
    assert_eq!(
        to_n2[truncated + 1..truncated + 4],
        [("append", 2), ("append", 3), ("append", 4)]
    );
    assert_eq!(cluster.server(2).committed_index(), Some(4));
}

#[test]
fn recovery_after_a_restart_keeps_the_committed_entries() {
    let mut cluster = Cluster::new();
    for n in 0..3 {
        cluster.append(0, body(n)).expect("the leader appends");
    }
    // The idle COMMIT tells the followers at 1 s; the checkpoint at 3 s keeps it.
    cluster.advance(3_100);
    let committed_pos = cluster.server(0).committed_pos();
    for k in 0..MEMBERS {
        cluster.stop(k);
    }
    for k in 0..MEMBERS {
        cluster.start(k);
    }
    cluster.settle();
    for k in 0..MEMBERS {
        let server = cluster.server(k);
        assert_eq!(server.end(), Some((2, 1)), "n{k}");
        assert_eq!(server.committed_index(), Some(2), "n{k}");
        assert_eq!(server.committed_pos(), committed_pos, "n{k}");
    }
    for k in 1..MEMBERS {
        cluster.assert_replica(k, 2);
    }
    cluster.append(0, body(3)).expect("the leader appends");
    cluster.settle();
    assert_eq!(cluster.server(0).committed_index(), Some(3));
    for k in 1..MEMBERS {
        cluster.assert_replica(k, 3);
    }
}

#[test]
fn a_follower_answers_pushes_for_another_member_or_term_as_0_3_1_2_does() {
    let mut cluster = Cluster::new();
    let appended = cluster.append(0, body(0)).expect("the leader appends");
    let entry = cluster.entry(0, appended.index).expect("held");
    cluster.stop(1);
    cluster.start(1);
    let push = |remote: &str, term: u64| {
        Request::DLedgerPush(PushRequest {
            group: "g".into(),
            remote: remote.into(),
            leader: "n0".into(),
            term,
            commit_index: None,
            push: Push::Append(entry.clone()),
        })
    };
    let inbound = Inbound {
        from: NodeId(0),
        request_id: Some(RequestId(99)),
    };
    let codes: Vec<DLedgerResponseCode> = [push("n2", 1), push("n1", 2), push("n1", 1)]
        .into_iter()
        .map(|request| {
            cluster.with(1, |s, ctx| {
                s.on_request(ctx, inbound, request);
            });
            let (_, _, response) = cluster.machines[1].responses.pop().expect("answered");
            match response.body {
                ResponseBody::DLedgerPush(reply) => reply.code,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    let expected = [
        DLedgerResponseCode::UnknownMember,
        DLedgerResponseCode::InconsistentState,
        DLedgerResponseCode::Success,
    ];
    assert_eq!(codes, expected);
}

/// Votes and heartbeats are answered by `vote`'s rules; a granted vote goes to the term file.
#[test]
fn a_member_answers_votes_and_heartbeats_and_keeps_its_vote() {
    let mut cluster = Cluster::new();
    let inbound = Inbound {
        from: NodeId(1),
        request_id: Some(RequestId(7)),
    };
    let vote = Request::DLedgerVote(VoteCall {
        group: "g".into(),
        remote: "n2".into(),
        request: crate::dledger::vote::VoteRequest {
            candidate: "n1".into(),
            term: 1,
            ledger_end_index: -1,
            ledger_end_term: -1,
        },
    });
    cluster.with(2, |s, ctx| {
        s.on_request(ctx, inbound, vote);
    });
    let (_, _, response) = cluster.machines[2].responses.pop().expect("answered");
    let ResponseBody::DLedgerVote(reply) = response.body else {
        panic!("a vote reply");
    };
    assert_eq!(reply.result, Some(crate::dledger::vote::VoteResult::Accept));
    let dir = cluster.configs[2].store_dir.clone();
    let saved = TermFile::load(&cluster.machines[2].disk, &dir);
    assert_eq!((saved.term, saved.voted_for.as_deref()), (1, Some("n1")));
    let beat = Request::DLedgerHeartBeat(HeartbeatCall {
        group: "g".into(),
        remote: "n2".into(),
        leader: "n0".into(),
        term: 1,
    });
    cluster.with(2, |s, ctx| {
        s.on_request(ctx, inbound, beat);
    });
    let (_, _, response) = cluster.machines[2].responses.pop().expect("answered");
    let ResponseBody::DLedgerHeartBeat(reply) = response.body else {
        panic!("a heartbeat reply");
    };
    let heard = Some(crate::dledger::vote::HeartbeatAnswer::Success);
    assert_eq!((reply.answer, reply.term), (heard, 1));
    assert_eq!(cluster.server(2).role(), Role::Follower);
}

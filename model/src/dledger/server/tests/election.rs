//! Elections in the three-member group without a static leader: one leader is elected and
//! replicates; a leader cut off is replaced in a higher term; a leader without a quorum
//! steps down; a shorter log is never elected over a longer one, and a member whose term ran
//! ahead of a shorter log stays out while the leader keeps a quorum (dledger #247); votes
//! reach the term file; every role change is reported. The harness
//! checks after every step that no term has two leaders and that each member last reported
//! the role it has.

use super::*;

fn electing() -> Cluster {
    Cluster::tuned(|config| config.leader_id = None)
}

impl Cluster {
    /// The members that are up and lead.
    fn leaders_now(&self) -> Vec<usize> {
        (0..MEMBERS)
            .filter(|k| self.servers[*k].as_ref().is_some_and(|s| s.is_leader()))
            .collect()
    }

    /// Advances until `wanted` holds, at most `limit_ms`; how long it took.
    fn advance_until(&mut self, limit_ms: u64, wanted: impl Fn(&Cluster) -> bool) -> Option<u64> {
        let start = self.now;
        while self.now.ms_since(start) < limit_ms {
            if wanted(self) {
                return Some(self.now.ms_since(start));
            }
            self.advance(10);
        }
        None
    }

    /// Elects a leader (within 5 s) and lets its first heartbeats reach the others.
    fn elect(&mut self) -> usize {
        let took = self.advance_until(5_000, |c| !c.leaders_now().is_empty());
        assert!(took.is_some(), "a leader within 5 s");
        self.advance(2_500);
        let leaders = self.leaders_now();
        assert_eq!(leaders.len(), 1, "one leader: {leaders:?}");
        leaders[0]
    }

    fn roles_reported(&self, k: usize) -> Vec<(Role, u64)> {
        let reported = self.progress[k].iter().filter_map(|p| match p {
            Progress::RoleChanged { role, term } => Some((*role, *term)),
            _ => None,
        });
        reported.collect()
    }
}

#[test]
fn a_group_elects_one_leader_that_replicates() {
    let mut cluster = electing();
    for k in 0..MEMBERS {
        assert_eq!(
            cluster.roles_reported(k),
            vec![(Role::Candidate, 0)],
            "n{k}"
        );
    }
    let leader = cluster.elect();
    let term = cluster.server(leader).term();
    for k in 0..MEMBERS {
        let server = cluster.server(k);
        assert_eq!(server.term(), term, "n{k}");
        let role = if k == leader {
            Role::Leader
        } else {
            Role::Follower
        };
        assert_eq!(server.role(), role, "n{k}");
        assert!(cluster.roles_reported(k).contains(&(role, term)), "n{k}");
    }
    for n in 0..3 {
        cluster.append(leader, body(n)).expect("the leader appends");
    }
    cluster.settle();
    assert_eq!(cluster.server(leader).committed_index(), Some(2));
    assert_eq!(cluster.acked(leader), vec![0, 1, 2]);
    for k in (0..MEMBERS).filter(|k| *k != leader) {
        cluster.assert_replica_of(leader, k, 2);
        assert_eq!(cluster.append(k, body(9)), Err(Refused::NotLeader));
    }
}

#[test]
fn the_term_file_holds_the_term_and_the_vote() {
    let mut cluster = electing();
    let leader = cluster.elect();
    let leader_id = format!("n{leader}");
    let mut votes_for_leader = 0;
    for k in 0..MEMBERS {
        let server = cluster.server(k);
        let saved = TermFile::load(&cluster.machines[k].disk, &cluster.configs[k].store_dir);
        assert_eq!(saved.term, server.term(), "n{k}");
        assert_eq!(saved.voted_for, server.member.voted_for, "n{k}");
        votes_for_leader += usize::from(saved.voted_for.as_deref() == Some(&leader_id));
    }
    assert!(votes_for_leader >= 2, "a quorum voted for {leader_id}");
    let saved = TermFile::load(
        &cluster.machines[leader].disk,
        &cluster.configs[leader].store_dir,
    );
    assert_eq!(saved.voted_for.as_deref(), Some(leader_id.as_str()));
}

/// The leader is cut off: its followers hear nothing for 6 s, vote in the old term (refused:
/// each voted already), then in the next, and one of them is elected; the old leader steps
/// down after 6 s without a quorum and, once back, follows the new leader.
#[test]
fn a_cut_off_leader_is_replaced_in_a_higher_term() {
    let mut cluster = electing();
    let old = cluster.elect();
    let old_term = cluster.server(old).term();
    cluster.append(old, body(0)).expect("the leader appends");
    cluster.advance(1_000);
    cluster.cut[old] = true;
    let took = cluster.advance_until(15_000, |c| c.leaders_now().iter().any(|k| *k != old));
    let took = took.expect("a new leader within 15 s");
    assert!((6_000..=12_000).contains(&took), "elected after {took} ms");
    let new = *cluster
        .leaders_now()
        .iter()
        .find(|k| **k != old)
        .expect("one");
    let new_term = cluster.server(new).term();
    assert!(new_term > old_term, "term {new_term} after {old_term}");
    cluster.advance(4_000);
    assert_eq!(cluster.server(old).role(), Role::Candidate, "stepped down");
    assert_eq!(
        cluster.server(old).term(),
        old_term,
        "alone, its term stays"
    );
    cluster
        .append(new, body(1))
        .expect("the new leader appends");
    cluster.settle();
    assert_eq!(cluster.server(new).committed_index(), Some(1));
    cluster.cut[old] = false;
    cluster.advance(10_000);
    assert_eq!(cluster.leaders_now(), vec![new]);
    let rejoined = cluster.server(old);
    assert_eq!(
        (rejoined.role(), rejoined.term()),
        (Role::Follower, new_term)
    );
    cluster.assert_replica_of(new, old, 1);
}

/// A follower misses the last entries (cut off while they are appended) and the leader is
/// cut off as the follower comes back: the member with the longer log is elected, since the
/// other's votes are refused (REJECT_SMALL_LEDGER_END_INDEX), and the short one catches up.
#[test]
fn a_shorter_log_is_never_elected_over_a_longer_one() {
    let mut cluster = electing();
    let leader = cluster.elect();
    let short = (leader + 1) % MEMBERS;
    let long = (leader + 2) % MEMBERS;
    cluster.cut[short] = true;
    for n in 0..3 {
        cluster.append(leader, body(n)).expect("the leader appends");
    }
    cluster.settle();
    assert_eq!(cluster.server(long).end().map(|(end, _)| end), Some(2));
    assert_eq!(cluster.server(short).end(), None);
    cluster.cut[short] = false;
    cluster.cut[leader] = true;
    let took = cluster.advance_until(20_000, |c| {
        assert!(!c.server(short).is_leader(), "the shorter log is elected");
        c.server(long).is_leader()
    });
    assert!(took.is_some(), "n{long} elected");
    // A push that reached the short one while it was a candidate waits for its timeout (3 s).
    cluster.advance(5_000);
    cluster.assert_replica_of(long, short, 2);
}

/// Both followers are cut off: the leader's heartbeat rounds go unanswered, and it steps down
/// after the first round that ends more than 6 s after its last round with a quorum.
#[test]
fn a_leader_without_a_quorum_steps_down_after_three_intervals() {
    let mut cluster = electing();
    let leader = cluster.elect();
    for k in (0..MEMBERS).filter(|k| *k != leader) {
        cluster.cut[k] = true;
    }
    // Its last round with a quorum went out up to 2 s before the cut; the round that ends
    // more than 6 s after that is the second or third after the cut.
    let took = cluster.advance_until(12_000, |c| !c.server(leader).is_leader());
    let took = took.expect("stepped down within 12 s");
    assert!(
        (4_000..=8_100).contains(&took),
        "stepped down after {took} ms"
    );
    assert_eq!(cluster.server(leader).role(), Role::Candidate);
    let reported = cluster.roles_reported(leader);
    let term = cluster.server(leader).term();
    assert_eq!(reported.last(), Some(&(Role::Candidate, term)));
}

/// dledger #247 (fixed in 0.3.2, present in 0.3.1.2): a member whose term ran ahead while its
/// log fell behind is refused every vote (REJECT_SMALL_LEDGER_END_INDEX, judged before the
/// term), answers the leader's heartbeats EXPIRED_TERM, and the leader ignores that while the
/// other follower answers: the member stays a candidate, and never catches up.
#[test]
fn a_member_ahead_in_term_but_behind_in_log_stays_out_while_the_leader_keeps_a_quorum() {
    let mut cluster = electing();
    let leader = cluster.elect();
    let term = cluster.server(leader).term();
    let (behind, other) = ((leader + 1) % MEMBERS, (leader + 2) % MEMBERS);
    cluster.cut[behind] = true;
    for n in 0..3 {
        cluster.append(leader, body(n)).expect("the leader appends");
    }
    cluster.settle();
    // A heartbeat of a larger term reaches it: a candidate that bumps to that term.
    let beat = Request::DLedgerHeartBeat(HeartbeatCall {
        group: "g".into(),
        remote: format!("n{behind}"),
        leader: format!("n{other}"),
        term: term + 3,
    });
    let inbound = Inbound {
        from: NodeId(other as u16),
        request_id: Some(RequestId(1_000)),
    };
    cluster.with(behind, |s, ctx| {
        let progress = s.on_request(ctx, inbound, beat);
        s.progress.extend(progress);
    });
    cluster.machines[behind].responses.clear();
    cluster.cut[behind] = false;
    cluster.advance(30_000);
    assert_eq!(cluster.leaders_now(), vec![leader]);
    assert_eq!(cluster.server(leader).term(), term, "never deposed");
    let stuck = cluster.server(behind);
    assert_eq!((stuck.role(), stuck.term()), (Role::Candidate, term + 3));
    assert_eq!(stuck.end(), None, "it never catches up");
    assert_eq!(cluster.server(leader).committed_index(), Some(2));
}

//! The deliberate defects a scenario's `[bugs]` switches on in a member: each does what it
//! says here, so that the checker's negative tests exercise the defect itself.

use super::*;

/// `commit_before_quorum`: the leader's committed index follows its own log; the append
/// still waits for its quorum to be acknowledged.
#[test]
fn a_leader_that_commits_before_the_quorum_commits_alone() {
    let mut cluster = Cluster::tuned(|config| config.commit_before_quorum = true);
    cluster.stop(1);
    cluster.stop(2);
    let appended = cluster.append(0, body(0)).expect("the leader appends");
    assert_eq!(cluster.server(0).committed_index(), Some(0), "alone");
    let end = appended.pos + BODY_OFFSET + 40;
    assert_eq!(cluster.server(0).committed_pos(), end);
    assert!(cluster.acked(0).is_empty(), "the answer waits for a quorum");
}

/// `follower_ack_before_write`: the followers answer the APPEND, the leader acknowledges it
/// on their word, and they write the entry only at their next flush tick; one that dies
/// before it never does.
#[test]
fn a_follower_that_acks_before_writing_writes_at_its_next_flush() {
    let mut cluster = Cluster::tuned(|config| config.follower_ack_before_write = true);
    cluster.append(0, body(0)).expect("the leader appends");
    cluster.settle();
    assert_eq!(cluster.acked(0), vec![0], "on the followers' word");
    assert_eq!(cluster.server(1).end(), None, "not written yet");
    cluster.stop(2);
    cluster.advance(10);
    cluster.assert_replica(1, 0);
    cluster.start(2);
    assert_eq!(cluster.server(2).end(), None, "died before writing it");
}

impl Cluster {
    /// Moves time by `ms` in 10 ms steps as `advance` does, but hands messages around at most
    /// `rounds` times a step: a leader and a follower that never agree push on without end.
    fn advance_bounded(&mut self, ms: u64, rounds: usize) {
        for _ in 0..ms / 10 {
            self.step();
            for _ in 0..rounds {
                if !self.deliver() {
                    break;
                }
            }
        }
    }
}

/// `skip_follower_truncation`: a follower holding entries the leader never had answers the
/// TRUNCATE as done and keeps them, its committed index reaching them; the APPEND after it
/// never fits, and the leader compares and truncates again without end.
#[test]
fn a_follower_that_skips_truncation_keeps_its_stale_entries() {
    let mut cluster = Cluster::tuned(|config| config.skip_follower_truncation = true);
    for n in 0..2 {
        cluster.append(0, body(n)).expect("the leader appends");
    }
    cluster.advance(1_200);
    let mut store = cluster.stopped_store(2);
    let disk = &mut cluster.machines[2].disk;
    let stale = store.append(disk, 1, b"stale two".to_vec());
    for n in 2..4 {
        cluster.append(0, body(n)).expect("the leader appends");
    }
    cluster.settle();
    let before = cluster.pushes.len();
    cluster.start(2);
    cluster.advance_bounded(1_000, 20);
    let truncated = (cluster.pushes[before..].iter())
        .any(|(k, push)| *k == 2 && matches!(push, Push::Truncate(e) if e.index == 1));
    assert!(truncated, "n2 is told to truncate after entry 1");
    assert_eq!(cluster.entry(2, 2), Some(stale), "kept");
    assert_eq!(cluster.server(2).end().map(|(end, _)| end), Some(2));
    assert_eq!(
        cluster.server(2).committed_index(),
        Some(2),
        "its stale entry"
    );
}

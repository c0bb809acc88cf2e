//! A follower's side of the entry pusher (`DLedgerEntryPusher.EntryHandler`): the leader's
//! pushes, applied in index order. APPEND stores the next entry at the leader's position;
//! COMPARE answers whether the follower holds the leader's entry at an index; TRUNCATE keeps
//! the entries up to the leader's and drops the rest; COMMIT (and every push) carries the
//! leader's committed index, which the follower takes as far as its own log reaches.

use super::entry::Entry;
use super::store::{AppendRefused, DLedgerStore};
use crate::disk::Disk;

/// One push from the leader (`PushEntryRequest`), with the leader's committed index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Push {
    Append(Entry),
    /// Does the follower hold this entry, as the leader does?
    Compare(Entry),
    /// Keep the entries up to this one (which both hold) and drop the rest.
    Truncate(Entry),
    /// Nothing to append: only the committed index.
    Commit,
}

/// The follower's answer (`PushEntryResponse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushAnswer {
    /// Done; the follower's log spans `begin..=end` (`None`: empty).
    Success { begin: u64, end: Option<u64> },
    /// An APPEND of an index the follower already holds (`REPEATED_PUSH`).
    Repeated,
    /// The push does not fit this log (a gap, another position, an entry it lacks): the
    /// leader goes back to COMPARE.
    InconsistentState,
}

/// Applies one push to the follower's store, then moves its committed index to the
/// leader's, as far as its own log reaches.
pub fn handle(
    store: &mut DLedgerStore,
    disk: &mut dyn Disk,
    push: &Push,
    leader_commit: Option<u64>,
) -> PushAnswer {
    let answer = apply(store, disk, push);
    if answer != PushAnswer::InconsistentState
        && let (Some(commit), Some((end, _))) = (leader_commit, store.end())
    {
        store.update_committed(commit.min(end));
    }
    answer
}

fn apply(store: &mut DLedgerStore, disk: &mut dyn Disk, push: &Push) -> PushAnswer {
    let success = |store: &DLedgerStore| PushAnswer::Success {
        begin: store.begin_index(),
        end: store.end().map(|(end, _)| end),
    };
    match push {
        Push::Append(entry) => match store.append_replica(disk, entry) {
            Ok(()) => success(store),
            Err(AppendRefused::InconsistentIndex { end: Some(end) }) if entry.index <= end => {
                PushAnswer::Repeated
            }
            Err(_) => PushAnswer::InconsistentState,
        },
        Push::Compare(entry) => match store.get(disk, entry.index) {
            Some(held) if held == *entry => success(store),
            _ => PushAnswer::InconsistentState,
        },
        Push::Truncate(entry) => match store.get(disk, entry.index) {
            Some(held) if held == *entry => {
                store.truncate(disk, entry.index);
                success(store)
            }
            _ => PushAnswer::InconsistentState,
        },
        Push::Commit => success(store),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    fn store(disk: &mut MemDisk) -> DLedgerStore {
        DLedgerStore::open(disk, "dledger", 4096, 64).expect("opens")
    }

    #[test]
    fn a_follower_that_diverged_is_truncated_to_the_leaders_log_and_takes_its_commit() {
        let (mut leader_disk, mut follower_disk) = (MemDisk::new(), MemDisk::new());
        let mut leader = store(&mut leader_disk);
        let mut follower = store(&mut follower_disk);
        // Both hold entries 0 and 1 of term 1; the follower also holds 2 of term 1, which the
        // leader (elected in term 2) never had: its own 2 is of term 2.
        let shared: Vec<Entry> = (0..2)
            .map(|n| leader.append(&mut leader_disk, 1, vec![n; 8]))
            .collect();
        for entry in &shared {
            let answer = handle(
                &mut follower,
                &mut follower_disk,
                &Push::Append(entry.clone()),
                None,
            );
            assert!(matches!(answer, PushAnswer::Success { .. }));
        }
        follower.append(&mut follower_disk, 1, vec![9; 8]);
        let own = leader.append(&mut leader_disk, 2, vec![2; 8]);
        let compare = |f: &mut DLedgerStore, d: &mut MemDisk, e: &Entry| {
            handle(f, d, &Push::Compare(e.clone()), None)
        };
        assert_eq!(
            compare(&mut follower, &mut follower_disk, &own),
            PushAnswer::InconsistentState
        );
        assert!(matches!(
            compare(&mut follower, &mut follower_disk, &shared[1]),
            PushAnswer::Success { .. }
        ));
        let truncate = Push::Truncate(shared[1].clone());
        let answer = handle(&mut follower, &mut follower_disk, &truncate, None);
        assert_eq!(
            answer,
            PushAnswer::Success {
                begin: 0,
                end: Some(1)
            }
        );
        let append = Push::Append(own.clone());
        assert!(matches!(
            handle(&mut follower, &mut follower_disk, &append, Some(5)),
            PushAnswer::Success { .. }
        ));
        assert_eq!(follower.get(&follower_disk, 2), Some(own));
        assert_eq!(
            follower.committed_index(),
            Some(2),
            "the leader's commit, as far as the log reaches"
        );
        assert_eq!(
            handle(&mut follower, &mut follower_disk, &append, None),
            PushAnswer::Repeated
        );
    }
}

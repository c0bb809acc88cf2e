//! A follower's side of the entry pusher (`DLedgerEntryPusher.EntryHandler`): the leader's
//! pushes, applied in index order. APPEND stores the next entry at the leader's position;
//! COMPARE answers whether the follower holds the leader's entry at an index; TRUNCATE drops
//! the entries from the leader's on and stores it in their place; COMMIT (and every push) carries the
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
    /// Drop the entries from this one's index on and store it instead.
    Truncate(Entry),
    /// Nothing to append: only the committed index.
    Commit,
}

/// The follower's answer (`PushEntryResponse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushAnswer {
    /// Done; the follower's log spans `begin..=end` (`None`: empty).
    Success { begin: u64, end: Option<u64> },
    /// An APPEND of an index already waiting in the follower's queue (`REPEATED_PUSH`). This
    /// follower handles each push as it arrives, so it never answers it: an APPEND of an
    /// index it already holds is answered as `checkAppendFuture` does, by comparing entries.
    Repeated,
    /// The push does not fit this log (a gap, another position, an entry it lacks); the
    /// follower's log spans `begin..=end`, which the leader's next COMPARE starts from.
    InconsistentState { begin: u64, end: Option<u64> },
}

/// Applies one push to the follower's store, then, for an APPEND, a TRUNCATE or a COMMIT that
/// succeeded, moves its committed index to the leader's, as far as its own log reaches
/// (`updateCommittedIndex`). A COMPARE never does (`handleDoCompare`): its log may still hold
/// entries past the compared one that the leader's log does not.
///
/// `skip_truncation` is the `skip_follower_truncation` bug: a TRUNCATE that would cut the log
/// is answered SUCCESS and the log left as it was, its entries from the truncated index on
/// kept; one at the log's end stores the entry, as it does without the bug.
pub fn handle(
    store: &mut DLedgerStore,
    disk: &mut dyn Disk,
    push: &Push,
    leader_commit: Option<u64>,
    skip_truncation: bool,
) -> PushAnswer {
    let answer = apply(store, disk, push, skip_truncation);
    let consistent = !matches!(answer, PushAnswer::InconsistentState { .. });
    let commits = !matches!(push, Push::Compare(_));
    if consistent
        && commits
        && let (Some(commit), Some((end, _))) = (leader_commit, store.end())
    {
        store.update_committed(commit.min(end));
    }
    answer
}

fn apply(
    store: &mut DLedgerStore,
    disk: &mut dyn Disk,
    push: &Push,
    skip_truncation: bool,
) -> PushAnswer {
    let span = |store: &DLedgerStore| (store.begin_index(), store.end().map(|(end, _)| end));
    let success = |store: &DLedgerStore| {
        let (begin, end) = span(store);
        PushAnswer::Success { begin, end }
    };
    let inconsistent = |store: &DLedgerStore| {
        let (begin, end) = span(store);
        PushAnswer::InconsistentState { begin, end }
    };
    match push {
        Push::Append(entry) => match store.append_replica(disk, entry) {
            Ok(()) => success(store),
            // An entry the follower already holds (its answer was lost, or the push came
            // again): `checkAppendFuture` answers SUCCESS if it holds the same entry,
            // INCONSISTENT_STATE if not.
            Err(AppendRefused::InconsistentIndex { end: Some(end) }) if entry.index <= end => {
                match store.get(disk, entry.index).as_ref() == Some(entry) {
                    true => success(store),
                    false => inconsistent(store),
                }
            }
            Err(_) => inconsistent(store),
        },
        Push::Compare(entry) => match store.get(disk, entry.index) {
            Some(held) if held == *entry => success(store),
            _ => inconsistent(store),
        },
        Push::Truncate(entry)
            if skip_truncation && store.end().is_some_and(|(end, _)| entry.index <= end) =>
        {
            success(store)
        }
        Push::Truncate(entry) => match store.replace_from(disk, entry) {
            Ok(()) => success(store),
            Err(_) => inconsistent(store),
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

    fn push(follower: &mut DLedgerStore, disk: &mut MemDisk, push: Push) -> PushAnswer {
        handle(follower, disk, &push, Some(5), false)
    }

    #[test]
    fn a_follower_that_diverged_takes_the_leaders_entry_in_place_of_its_own() {
        let (mut leader_disk, mut follower_disk) = (MemDisk::new(), MemDisk::new());
        let mut leader = store(&mut leader_disk);
        let mut follower = store(&mut follower_disk);
        // Both hold entries 0 and 1 of term 1; the follower also holds a 2 of term 1 that the
        // leader (elected in term 2) never had: the leader's 2 is of term 2.
        for n in 0..2 {
            let shared = leader.append(&mut leader_disk, 1, vec![n; 8]);
            let answer = push(&mut follower, &mut follower_disk, Push::Append(shared));
            assert!(matches!(answer, PushAnswer::Success { .. }));
        }
        follower.append(&mut follower_disk, 1, vec![9; 8]);
        let own = leader.append(&mut leader_disk, 2, vec![2; 8]);
        let diverged = push(
            &mut follower,
            &mut follower_disk,
            Push::Compare(own.clone()),
        );
        let span = PushAnswer::InconsistentState {
            begin: 0,
            end: Some(2),
        };
        assert_eq!(diverged, span);
        let answer = push(
            &mut follower,
            &mut follower_disk,
            Push::Truncate(own.clone()),
        );
        let replaced = PushAnswer::Success {
            begin: 0,
            end: Some(2),
        };
        assert_eq!(answer, replaced);
        assert_eq!(follower.get(&follower_disk, 2), Some(own.clone()));
        assert_eq!(
            follower.committed_index(),
            Some(2),
            "the leader's, as far as the log reaches"
        );
        let again = push(&mut follower, &mut follower_disk, Push::Append(own));
        assert_eq!(again, replaced, "an entry it holds, pushed again");
        let mut other = leader.append(&mut leader_disk, 2, vec![7; 8]);
        other.index = 1;
        let stale = push(&mut follower, &mut follower_disk, Push::Append(other));
        assert!(matches!(stale, PushAnswer::InconsistentState { .. }));
    }

    /// A COMPARE that matches an entry says nothing of the entries after it: a follower
    /// holding a stale tail must not count it committed (it would dispatch it).
    #[test]
    fn a_matching_compare_leaves_the_committed_index_alone() {
        let (mut leader_disk, mut follower_disk) = (MemDisk::new(), MemDisk::new());
        let mut leader = store(&mut leader_disk);
        let mut follower = store(&mut follower_disk);
        let shared: Vec<Entry> = (0..2)
            .map(|n| leader.append(&mut leader_disk, 1, vec![n; 8]))
            .collect();
        for entry in &shared {
            let push = Push::Append(entry.clone());
            handle(&mut follower, &mut follower_disk, &push, Some(0), false);
        }
        follower.append(&mut follower_disk, 1, vec![9; 8]); // Stale: the leader never had it.
        let compare = Push::Compare(shared[1].clone());
        let answer = handle(&mut follower, &mut follower_disk, &compare, Some(5), false);
        assert!(matches!(answer, PushAnswer::Success { .. }));
        assert_eq!(follower.committed_index(), Some(0));
    }
}

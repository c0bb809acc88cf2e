//! The leader's side of the entry pusher for one follower (`DLedgerEntryPusher
//! .EntryDispatcher`): COMPARE until the two logs agree on an entry, TRUNCATE the follower
//! there if it holds more, then APPEND from there on, up to `MAX_IN_FLIGHT` pushes awaiting
//! their answer; the oldest unanswered push goes again after `REPUSH_AFTER_MS`. Any
//! inconsistent answer sends the dispatcher back to COMPARE. The follower's answers move its
//! watermark, which the leader's quorum accounting reads.

use super::entry::Entry;
use super::follower::{Push, PushAnswer};
use super::store::DLedgerStore;
use crate::disk::Disk;
use crate::time::Time;
use std::collections::BTreeMap;

/// Appends awaiting their answer, at most (`maxPendingSize`).
pub const MAX_IN_FLIGHT: usize = 1000;
/// An unanswered append goes again after this long (`maxPushTimeOutMs`).
pub const REPUSH_AFTER_MS: u64 = 1_000;

/// Where the dispatcher stands with its follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Asking whether the follower holds the leader's entry at this index.
    Compare(u64),
    /// Replacing the follower's entries from this index on with the leader's.
    Truncate(u64),
    /// Pushing entries from `next` on.
    Append { next: u64 },
}

pub struct Dispatcher {
    stage: Stage,
    /// Appends sent and not answered yet: index -> when sent.
    in_flight: BTreeMap<u64, Time>,
    /// Whether the current COMPARE or TRUNCATE is sent and unanswered.
    asked: bool,
}

impl Dispatcher {
    /// A dispatcher for a new term: it starts comparing at the leader's end.
    pub fn new(leader: &DLedgerStore) -> Dispatcher {
        let start = leader.end().map_or(leader.begin_index(), |(end, _)| end);
        Dispatcher {
            stage: Stage::Compare(start),
            in_flight: BTreeMap::new(),
            asked: false,
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// What to push to the follower now.
    pub fn pushes(&mut self, leader: &DLedgerStore, disk: &dyn Disk, now: Time) -> Vec<Push> {
        let entry = |index: u64| leader.get(disk, index);
        match self.stage {
            Stage::Compare(_) | Stage::Truncate(_) if self.asked => Vec::new(),
            Stage::Compare(index) => {
                self.asked = true;
                // An empty leader has nothing to compare: everything it appends is new.
                let Some(entry) = entry(index) else {
                    self.asked = false;
                    self.stage = Stage::Append { next: index };
                    return Vec::new();
                };
                vec![Push::Compare(entry)]
            }
            Stage::Truncate(index) => {
                self.asked = true;
                entry(index).map(Push::Truncate).into_iter().collect()
            }
            Stage::Append { next } => self.appends(leader, disk, now, next),
        }
    }

    /// The appends due: new ones while the window allows, and the oldest again if unanswered
    /// for `REPUSH_AFTER_MS`.
    fn appends(
        &mut self,
        leader: &DLedgerStore,
        disk: &dyn Disk,
        now: Time,
        next: u64,
    ) -> Vec<Push> {
        let mut pushes = Vec::new();
        if let Some((index, sent)) = self.in_flight.iter().next().map(|(i, t)| (*i, *t))
            && now.ms_since(sent) >= REPUSH_AFTER_MS
            && let Some(entry) = leader.get(disk, index)
        {
            self.in_flight.insert(index, now);
            pushes.push(Push::Append(entry));
        }
        let end = leader.end().map(|(end, _)| end);
        let mut next = next;
        while self.in_flight.len() < MAX_IN_FLIGHT && end.is_some_and(|end| next <= end) {
            let Some(entry) = leader.get(disk, next) else {
                break;
            };
            self.in_flight.insert(next, now);
            pushes.push(Push::Append(entry));
            next += 1;
        }
        self.stage = Stage::Append { next };
        pushes
    }

    /// The follower answered `push`: the next stage, and the index the follower now holds
    /// (its new watermark), if the answer says.
    pub fn on_answer(
        &mut self,
        leader: &DLedgerStore,
        push: &Push,
        answer: &PushAnswer,
    ) -> Option<u64> {
        match (push, answer) {
            (Push::Compare(entry), PushAnswer::Success { end, .. }) => {
                self.asked = false;
                match *end == Some(entry.index) {
                    true => self.append_from(entry),
                    false => self.stage = Stage::Truncate(entry.index),
                }
                (*end == Some(entry.index)).then_some(entry.index)
            }
            (Push::Compare(entry), PushAnswer::InconsistentState { begin, end }) => {
                self.asked = false;
                self.stage = compare_again(leader, entry.index, (*begin, *end));
                None
            }
            (Push::Truncate(entry), PushAnswer::Success { .. }) => {
                self.asked = false;
                self.append_from(entry);
                Some(entry.index)
            }
            (Push::Append(entry), PushAnswer::Success { .. } | PushAnswer::Repeated) => {
                self.in_flight.remove(&entry.index);
                Some(entry.index)
            }
            (_, PushAnswer::InconsistentState { .. }) => {
                self.restart(leader);
                None
            }
            _ => None,
        }
    }

    /// `push` got no usable answer (the request failed, or an error code): a COMPARE or
    /// TRUNCATE is asked again (`doCompare` throws and the next loop starts over); an APPEND
    /// stays in flight and goes again after `REPUSH_AFTER_MS`.
    pub fn on_failed(&mut self, push: &Push) {
        let asking = matches!(
            (push, self.stage),
            (Push::Compare(e), Stage::Compare(i)) | (Push::Truncate(e), Stage::Truncate(i))
                if e.index == i
        );
        if asking {
            self.asked = false;
        }
    }

    fn append_from(&mut self, matched: &Entry) {
        self.in_flight.clear();
        self.stage = Stage::Append {
            next: matched.index + 1,
        };
    }

    /// Back to COMPARE at the leader's end, forgetting the appends in flight.
    pub fn restart(&mut self, leader: &DLedgerStore) {
        *self = Dispatcher::new(leader);
    }
}

/// `doCompare` after a mismatch, from the follower's span `begin..=end`: no overlap, or an
/// index before the follower's first, truncates at the leader's first; a follower that ends
/// sooner is compared at its end; otherwise one index lower.
fn compare_again(leader: &DLedgerStore, index: u64, (begin, end): (u64, Option<u64>)) -> Stage {
    let leader_begin = leader.begin_index();
    let leader_end = leader.end().map(|(end, _)| end);
    let Some(end) = end else {
        return Stage::Truncate(leader_begin);
    };
    if end < leader_begin
        || leader_end.is_some_and(|leader_end| begin > leader_end)
        || index < begin
    {
        return Stage::Truncate(leader_begin);
    }
    // A mismatch at the leader's first entry leaves nothing lower to compare.
    if index <= end && index == leader_begin {
        return Stage::Truncate(leader_begin);
    }
    let next = match index > end {
        true => end,
        false => index - 1,
    };
    match next < leader_begin {
        true => Stage::Truncate(leader_begin),
        false => Stage::Compare(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;
    use crate::dledger::follower::handle;

    fn store(disk: &mut MemDisk) -> DLedgerStore {
        DLedgerStore::open(disk, "dledger", 4096, 64).expect("opens")
    }

    /// Runs the dispatcher against the follower until nothing is left to push; returns the
    /// follower's last watermark.
    fn converge(
        leader: (&DLedgerStore, &MemDisk),
        follower: (&mut DLedgerStore, &mut MemDisk),
    ) -> Option<u64> {
        let (leader, leader_disk) = leader;
        let (follower, follower_disk) = follower;
        let mut dispatcher = Dispatcher::new(leader);
        let mut watermark = None;
        for _ in 0..50 {
            let pushes = dispatcher.pushes(leader, leader_disk, Time::ZERO);
            if pushes.is_empty() && matches!(dispatcher.stage(), Stage::Append { .. }) {
                break;
            }
            for push in pushes {
                let answer = handle(follower, follower_disk, &push, None, false);
                watermark = dispatcher.on_answer(leader, &push, &answer).or(watermark);
            }
        }
        watermark
    }

    #[test]
    fn an_empty_follower_gets_the_whole_log() {
        let (mut leader_disk, mut follower_disk) = (MemDisk::new(), MemDisk::new());
        let mut leader = store(&mut leader_disk);
        let entries: Vec<Entry> = (0..5)
            .map(|n| leader.append(&mut leader_disk, 1, vec![n; 8]))
            .collect();
        let mut follower = store(&mut follower_disk);
        let watermark = converge((&leader, &leader_disk), (&mut follower, &mut follower_disk));
        assert_eq!(watermark, Some(4));
        for entry in &entries {
            assert_eq!(
                follower.get(&follower_disk, entry.index).as_ref(),
                Some(entry)
            );
        }
    }

    #[test]
    fn a_diverged_follower_is_cut_back_to_the_common_entry_and_caught_up() {
        let (mut leader_disk, mut follower_disk) = (MemDisk::new(), MemDisk::new());
        let mut leader = store(&mut leader_disk);
        let mut follower = store(&mut follower_disk);
        for n in 0..3 {
            let entry = leader.append(&mut leader_disk, 1, vec![n; 8]);
            follower
                .append_replica(&mut follower_disk, &entry)
                .expect("follows");
        }
        // The follower kept two entries of an old leader; the new leader wrote three others.
        for n in 10..12 {
            follower.append(&mut follower_disk, 1, vec![n; 8]);
        }
        let ours: Vec<Entry> = (20..23)
            .map(|n| leader.append(&mut leader_disk, 2, vec![n; 8]))
            .collect();
        let watermark = converge((&leader, &leader_disk), (&mut follower, &mut follower_disk));
        assert_eq!(watermark, Some(5));
        assert_eq!(follower.end(), Some((5, 2)));
        for entry in &ours {
            assert_eq!(
                follower.get(&follower_disk, entry.index).as_ref(),
                Some(entry)
            );
        }
    }
}

//! The facts DLedger logs are judged from, each as the member that holds the log recorded it:
//! the entries it wrote (`DLedgerStored`, with the CRC of the bytes), the entries it dropped
//! (`DLedgerCut`: a leader's TRUNCATE, or what recovery did not find), the committed index it
//! reached (`DLedgerCommitted`) and the positions its broker dispatched (`DLedgerDispatched`).
//!
//! The fold keeps every member's log as those records build it and notes, as they happen, the
//! moments the logs disagree: two members holding different entries at one index of one term,
//! a member committing at an index another entry than the one committed there before, a member
//! dispatching an entry that no quorum of members ever held. Naming why is the judge's work
//! (`check::logs`).

use model::Time;
use model::event::Event;
use std::collections::{BTreeMap, BTreeSet};

/// An entry as a member wrote it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(in crate::check) struct EntryFact {
    pub term: u64,
    pub pos: u64,
    pub size: u32,
    pub crc: u32,
}

/// One member's log: its entries by index, and by position the index of each.
#[derive(Debug, Default)]
struct MemberLog {
    entries: BTreeMap<u64, EntryFact>,
    by_pos: BTreeMap<u64, u64>,
    committed: Option<u64>,
    /// How far its broker dispatched (a data position).
    dispatched: u64,
}

impl MemberLog {
    fn store(&mut self, index: u64, entry: EntryFact) {
        self.cut(index);
        self.entries.insert(index, entry);
        self.by_pos.insert(entry.pos, index);
    }

    fn cut(&mut self, from: u64) {
        for (_, entry) in self.entries.split_off(&from) {
            self.by_pos.remove(&entry.pos);
        }
    }
}

/// An entry first seen committed: by which member (the leader that committed it), when.
#[derive(Clone, Debug)]
pub(in crate::check) struct LogCommit {
    pub entry: EntryFact,
    pub at: Time,
    pub by: String,
    /// The members that held it and lost it to their recovery (their data files did not).
    pub lost_in_recovery: BTreeSet<String>,
    /// The members that held it when it was committed, or got it since.
    pub holders: BTreeSet<String>,
}

/// A moment two logs of a group disagreed.
#[derive(Clone, Debug)]
pub(in crate::check) enum Disagreement {
    /// `member` wrote at `index` an entry of the term another member holds a different
    /// entry of there: Raft's log matching broken.
    SameTerm {
        at: Time,
        group: String,
        member: String,
        other: String,
        index: u64,
        entry: EntryFact,
    },
    /// `member` holds at `index`, once committed, another entry than the committed one as
    /// committed (its committed index reached it, or it wrote it below that index).
    Committed {
        at: Time,
        group: String,
        member: String,
        index: u64,
        entry: EntryFact,
        committed: LogCommit,
    },
    /// `member` dispatched the record of an entry that no quorum of members ever held.
    Dispatched {
        at: Time,
        group: String,
        member: String,
        index: u64,
        entry: EntryFact,
        holders: usize,
    },
}

/// One DLedger group's logs.
#[derive(Debug, Default)]
struct GroupLogs {
    quorum: usize,
    members: BTreeMap<String, MemberLog>,
    committed: BTreeMap<u64, LogCommit>,
    /// Every entry a quorum held at some moment, by index.
    quorum_held: BTreeSet<(u64, u64, u32)>,
}

/// An entry a member dropped: when, which member, and whether its recovery dropped it (its
/// data files had lost it) or a leader's TRUNCATE did.
#[derive(Clone, Debug)]
pub(in crate::check) struct Removal {
    pub at: Time,
    pub member: String,
    pub index: u64,
    pub term: u64,
    pub recovery: bool,
}

#[derive(Debug, Default)]
pub(in crate::check) struct LogFacts {
    groups: BTreeMap<String, GroupLogs>,
    pub disagreements: Vec<Disagreement>,
    /// Per (group, data position), the entries members dropped there, in history order.
    pub removals: BTreeMap<(String, u64), Vec<Removal>>,
    /// The DLedger members (`<group>-nK`) a leader's TRUNCATE cut below what their brokers
    /// had dispatched, with when it first did.
    pub truncated_after_dispatch: BTreeMap<String, Time>,
    /// Per (group, member), each recovery: when, and the first index it did not keep.
    pub recoveries: BTreeMap<(String, String), Vec<(Time, u64)>>,
    /// Per member (group, member), its cuts that were not recovery: a leader's TRUNCATE
    /// below its committed index (dledger #316 keeps the committed position past it).
    pub cuts_below_committed: BTreeMap<(String, String), Vec<Time>>,
}

impl LogFacts {
    /// Logs for each DLedger group of the scenario, with its quorum.
    pub fn new(scenario: &crate::scenario::Scenario) -> LogFacts {
        let groups = (scenario.broker_groups.iter())
            .filter(|g| g.is_dledger())
            .map(|g| {
                let logs = GroupLogs {
                    quorum: g.nodes.len() / 2 + 1,
                    ..GroupLogs::default()
                };
                (g.name.clone(), logs)
            });
        LogFacts {
            groups: groups.collect(),
            ..LogFacts::default()
        }
    }

    pub fn observe(&mut self, at: Time, event: &Event) {
        match event {
            Event::DLedgerStored {
                group,
                member,
                index,
                term,
                pos,
                size,
                crc,
            } => {
                let entry = EntryFact {
                    term: *term,
                    pos: *pos,
                    size: *size,
                    crc: *crc,
                };
                self.stored(at, group, member, *index, entry);
            }
            Event::DLedgerCut {
                group,
                member,
                from,
                recovery,
            } => self.cut(at, group, member, *from, *recovery),
            Event::DLedgerCommitted {
                group,
                member,
                index,
                ..
            } => self.committed(at, group, member, *index),
            Event::DLedgerDispatched {
                group,
                member,
                from,
                to,
            } => self.dispatched(at, group, member, *from..*to),
            _ => {}
        }
    }

    fn stored(&mut self, at: Time, group: &str, member: &str, index: u64, entry: EntryFact) {
        let Some(logs) = self.groups.get_mut(group) else {
            return;
        };
        for (other, log) in &logs.members {
            let theirs = log.entries.get(&index);
            if other != member && theirs.is_some_and(|e| e.term == entry.term && *e != entry) {
                self.disagreements.push(Disagreement::SameTerm {
                    at,
                    group: group.to_string(),
                    member: member.to_string(),
                    other: other.clone(),
                    index,
                    entry,
                });
            }
        }
        // A member writing at or below its own committed index (dledger #316 keeps it past a
        // TRUNCATE) holds the entry as committed; a leader cut off from the group may write
        // at an index the others committed, which is no disagreement until it commits it.
        let known = logs.members.get(member).and_then(|log| log.committed);
        let committed = (logs.committed.get(&index))
            .filter(|c| c.entry != entry && known.is_some_and(|k| index <= k));
        if let Some(committed) = committed {
            self.disagreements.push(Disagreement::Committed {
                at,
                group: group.to_string(),
                member: member.to_string(),
                index,
                entry,
                committed: committed.clone(),
            });
        }
        if let Some(committed) = logs.committed.get_mut(&index).filter(|c| c.entry == entry) {
            committed.holders.insert(member.to_string());
        }
        let log = logs.members.entry(member.to_string()).or_default();
        log.store(index, entry);
        let holders = holders(logs, index, entry);
        if holders >= logs.quorum {
            logs.quorum_held.insert((index, entry.term, entry.crc));
        }
    }

    fn cut(&mut self, at: Time, group: &str, member: &str, from: u64, recovery: bool) {
        let Some(logs) = self.groups.get_mut(group) else {
            return;
        };
        let log = logs.members.entry(member.to_string()).or_default();
        if recovery {
            let key = (group.to_string(), member.to_string());
            self.recoveries.entry(key).or_default().push((at, from));
            for (index, entry) in log.entries.range(from..) {
                let committed = logs.committed.get_mut(index);
                if let Some(committed) = committed.filter(|c| c.entry == *entry) {
                    committed.lost_in_recovery.insert(member.to_string());
                }
            }
            // A member starts again from its checkpoint's committed index.
            log.committed = None;
        } else if log.committed.is_some_and(|c| from <= c) && log.entries.contains_key(&from) {
            let key = (group.to_string(), member.to_string());
            self.cuts_below_committed.entry(key).or_default().push(at);
        }
        let first_cut = log.entries.get(&from).map(|entry| entry.pos);
        if !recovery && first_cut.is_some_and(|pos| pos < log.dispatched) {
            let node = format!("{group}-{member}");
            self.truncated_after_dispatch.entry(node).or_insert(at);
        }
        for (index, entry) in log.entries.range(from..) {
            let removal = Removal {
                at,
                member: member.to_string(),
                index: *index,
                term: entry.term,
                recovery,
            };
            let key = (group.to_string(), entry.pos);
            self.removals.entry(key).or_default().push(removal);
        }
        log.cut(from);
    }

    fn committed(&mut self, at: Time, group: &str, member: &str, index: u64) {
        let Some(logs) = self.groups.get_mut(group) else {
            return;
        };
        let log = logs.members.entry(member.to_string()).or_default();
        let from = log.committed.map_or(0, |c| c + 1);
        log.committed = Some(index);
        if from > index {
            return;
        }
        let members = &logs.members;
        for (index, entry) in members[member].entries.range(from..=index) {
            match logs.committed.get(index) {
                None => {
                    let holders = (members.iter())
                        .filter(|(_, log)| log.entries.get(index) == Some(entry))
                        .map(|(name, _)| name.clone())
                        .collect();
                    let committed = LogCommit {
                        entry: *entry,
                        at,
                        by: member.to_string(),
                        lost_in_recovery: BTreeSet::new(),
                        holders,
                    };
                    logs.committed.insert(*index, committed);
                }
                Some(committed) if committed.entry != *entry => {
                    self.disagreements.push(Disagreement::Committed {
                        at,
                        group: group.to_string(),
                        member: member.to_string(),
                        index: *index,
                        entry: *entry,
                        committed: committed.clone(),
                    });
                }
                Some(_) => {}
            }
        }
    }

    fn dispatched(&mut self, at: Time, group: &str, member: &str, span: std::ops::Range<u64>) {
        let Some(logs) = self.groups.get_mut(group) else {
            return;
        };
        let Some(log) = logs.members.get_mut(member) else {
            return;
        };
        log.dispatched = log.dispatched.max(span.end);
        let log = &logs.members[member];
        for (_, index) in log.by_pos.range(span) {
            let entry = log.entries[index];
            if logs.quorum_held.contains(&(*index, entry.term, entry.crc)) {
                continue;
            }
            self.disagreements.push(Disagreement::Dispatched {
                at,
                group: group.to_string(),
                member: member.to_string(),
                index: *index,
                entry,
                holders: holders(logs, *index, entry),
            });
        }
    }

    /// The quorum of `group` (more than half its members), if it is a DLedger group.
    pub fn quorum(&self, group: &str) -> Option<usize> {
        self.groups.get(group).map(|g| g.quorum)
    }

    /// Whether `group` is a DLedger group.
    pub fn is_dledger(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }
}

/// How many members hold `entry` at `index` now.
fn holders(logs: &GroupLogs, index: u64, entry: EntryFact) -> usize {
    (logs.members.values())
        .filter(|log| log.entries.get(&index) == Some(&entry))
        .count()
}

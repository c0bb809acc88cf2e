//! A message's path through a DLedger group, for its story: the leader's append as an entry,
//! each follower's copy, the moment a quorum held it and the leader committed it, and each
//! member's dispatch of its record to the ConsumeQueues. Folded from the members' own records
//! (`DLedgerStored`, `DLedgerCommitted`, `DLedgerDispatched`), the same the checker judges.

use model::event::Event;
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// An entry as a member wrote it at a position.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Written {
    pub at: Time,
    pub index: u64,
    pub term: u64,
    crc: u32,
}

/// What each DLedger member wrote, committed and dispatched, by node.
#[derive(Debug, Default)]
pub(super) struct EntryLog {
    /// Per (node, data position), every entry written there, in history order.
    written: BTreeMap<(NodeId, u64), Vec<Written>>,
    /// Per node, its committed position as it moved.
    committed: BTreeMap<NodeId, Vec<(Time, u64)>>,
    /// Per node, how far its dispatch reached as it moved.
    dispatched: BTreeMap<NodeId, Vec<(Time, u64)>>,
    /// Per node, its group's members (itself included).
    groups: BTreeMap<NodeId, Vec<NodeId>>,
}

/// The path of one entry: who wrote it when, when a quorum held it, the leader's commit and
/// each member's dispatch.
#[derive(Debug)]
pub(super) struct EntryPath {
    pub entry: Written,
    /// Followers' copies, in time order.
    pub copies: Vec<(Time, NodeId)>,
    /// When the quorum was reached, and the members making it.
    pub quorum: Option<(Time, Vec<NodeId>)>,
    pub committed: Option<Time>,
    pub dispatched: Vec<(Time, NodeId)>,
}

impl EntryLog {
    /// An entry log for the DLedger groups of the scenario.
    pub fn new(scenario: &crate::scenario::Scenario) -> EntryLog {
        let mut groups = BTreeMap::new();
        for group in scenario.broker_groups.iter().filter(|g| g.is_dledger()) {
            for node in &group.nodes {
                groups.insert(*node, group.nodes.clone());
            }
        }
        EntryLog {
            groups,
            ..EntryLog::default()
        }
    }

    pub fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        let Some(node) = node else {
            return;
        };
        match event {
            Event::DLedgerStored {
                index,
                term,
                pos,
                crc,
                ..
            } => {
                let written = Written {
                    at,
                    index: *index,
                    term: *term,
                    crc: *crc,
                };
                self.written.entry((node, *pos)).or_default().push(written);
            }
            Event::DLedgerCommitted { pos, .. } => {
                self.committed.entry(node).or_default().push((at, *pos));
            }
            Event::DLedgerDispatched { to, .. } => {
                self.dispatched.entry(node).or_default().push((at, *to));
            }
            _ => {}
        }
    }

    /// Whether `node` is a member of a DLedger group.
    pub fn is_member(&self, node: NodeId) -> bool {
        self.groups.contains_key(&node)
    }

    /// The path of the entry `leader` wrote at `pos` by `by`: its last write there by then.
    pub fn path(&self, leader: NodeId, pos: u64, by: Time) -> Option<EntryPath> {
        let members = self.groups.get(&leader)?;
        let writes = self.written.get(&(leader, pos))?;
        let entry = *writes.iter().rfind(|w| w.at <= by)?;
        let same =
            |w: &&Written| w.index == entry.index && w.term == entry.term && w.crc == entry.crc;
        let mut copies: Vec<(Time, NodeId)> = (members.iter())
            .filter(|m| **m != leader)
            .filter_map(|m| {
                let first = self.written.get(&(*m, pos))?.iter().find(same)?;
                Some((first.at, *m))
            })
            .collect();
        copies.sort();
        let quorum = quorum_of(leader, entry.at, &copies, members.len() / 2 + 1);
        let past = |list: Option<&Vec<(Time, u64)>>| {
            list?
                .iter()
                .find(|(at, p)| *at >= entry.at && *p > pos)
                .map(|(at, _)| *at)
        };
        let committed = past(self.committed.get(&leader));
        let mut dispatched: Vec<(Time, NodeId)> = (members.iter())
            .filter_map(|m| Some((past(self.dispatched.get(m))?, *m)))
            .collect();
        dispatched.sort();
        Some(EntryPath {
            entry,
            copies,
            quorum,
            committed,
            dispatched,
        })
    }
}

/// When `leader` and its first copies made a quorum of `size`, and who they were.
fn quorum_of(
    leader: NodeId,
    appended: Time,
    copies: &[(Time, NodeId)],
    size: usize,
) -> Option<(Time, Vec<NodeId>)> {
    let needed = copies.get(..size.checked_sub(1)?)?;
    let at = needed.last().map_or(appended, |(at, _)| *at);
    let holders = std::iter::once(leader).chain(needed.iter().map(|(_, node)| *node));
    Some((at, holders.collect()))
}

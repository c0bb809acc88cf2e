//! The facts DLedger elections are judged from, each as the member that holds it recorded it:
//! the votes each voter granted and wrote to its term file (`DLedgerVoteGranted`), and the
//! members that announced their leadership (`DLedgerLeader`). The stops that explain a voter
//! voting twice in a term (its term file is never fsynced) are in the brokers' timelines.

use model::event::Event;
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// A vote a member granted: when, on which node, by whom, for whom.
#[derive(Clone, Debug)]
pub(in crate::check) struct Grant {
    pub at: Time,
    pub node: Option<NodeId>,
    pub voter: String,
    pub candidate: String,
}

/// A member's announcement that it leads its group in a term.
#[derive(Clone, Debug)]
pub(in crate::check) struct Leadership {
    pub at: Time,
    pub group: String,
    pub member: String,
    pub term: u64,
}

#[derive(Default)]
pub(in crate::check) struct ElectionFacts {
    /// Per group and term, the grants in history order.
    pub grants: BTreeMap<(String, u64), Vec<Grant>>,
    /// Every leadership announced, in history order.
    pub leaders: Vec<Leadership>,
}

impl ElectionFacts {
    pub fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        match event {
            Event::DLedgerVoteGranted {
                group,
                voter,
                term,
                candidate,
            } => {
                let grant = Grant {
                    at,
                    node,
                    voter: voter.clone(),
                    candidate: candidate.clone(),
                };
                self.grants
                    .entry((group.clone(), *term))
                    .or_default()
                    .push(grant);
            }
            Event::DLedgerLeader {
                group,
                member,
                term,
            } => self.leaders.push(Leadership {
                at,
                group: group.clone(),
                member: member.clone(),
                term: *term,
            }),
            _ => {}
        }
    }

    /// The grants of `group` in `term`.
    pub fn grants_in(&self, group: &str, term: u64) -> &[Grant] {
        self.grants
            .get(&(group.to_string(), term))
            .map_or(&[], Vec::as_slice)
    }
}

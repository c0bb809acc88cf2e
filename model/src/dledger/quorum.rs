//! The leader's quorum accounting (`DLedgerEntryPusher.QuorumAckChecker`): per term, the
//! highest index each peer (the leader included) is known to hold, and the committed index,
//! which is the index a quorum holds: the peers' watermarks sorted from high to low, the one
//! at `n / 2`. As 0.3.1.2 computes it there is no current-term rule and no no-op entry: a
//! new leader commits an old term's entries as soon as a quorum holds them.

use std::collections::BTreeMap;

/// The watermarks of one leader's peers, by term.
#[derive(Clone, Debug, Default)]
pub struct Watermarks {
    /// Term -> peer -> the highest index it acknowledged (`peerWaterMarksByTerm`).
    by_term: BTreeMap<u64, BTreeMap<String, u64>>,
}

impl Watermarks {
    /// `updatePeerWaterMark`: a peer holds up to `index` in `term`; a watermark never goes
    /// back.
    pub fn update(&mut self, term: u64, peer: &str, index: u64) {
        let peers = self.by_term.entry(term).or_default();
        let mark = peers.entry(peer.to_string()).or_insert(index);
        *mark = (*mark).max(index);
    }

    /// A peer's watermark in `term`, if it has one.
    pub fn of(&self, term: u64, peer: &str) -> Option<u64> {
        self.by_term.get(&term)?.get(peer).copied()
    }

    /// The index a quorum of `peers` holds in `term`: each peer's watermark (none: not
    /// counted yet), sorted from high to low, the one at `peers.len() / 2`.
    pub fn quorum_index(&self, term: u64, peers: &[&str]) -> Option<u64> {
        let marks = self.by_term.get(&term)?;
        let mut held: Vec<u64> = peers
            .iter()
            .filter_map(|p| marks.get(*p).copied())
            .collect();
        held.sort_unstable_by(|a, b| b.cmp(a));
        let quorum_index = held.get(peers.len() / 2).copied();
        if let Some(index) = quorum_index {
            let holding = held.iter().filter(|h| **h >= index).count();
            crate::invariant!(
                holding > peers.len() / 2,
                "dledger-quorum-holds-the-committed-index",
                "index {index} committed with {holding} of {} peers holding it",
                peers.len()
            );
        }
        quorum_index
    }

    /// Forgets the terms before `term` (a leader keeps only its own).
    pub fn retain_from(&mut self, term: u64) {
        self.by_term.retain(|t, _| *t >= term);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEERS: [&str; 3] = ["n0", "n1", "n2"];

    #[test]
    fn the_committed_index_is_what_a_quorum_holds() {
        let mut marks = Watermarks::default();
        assert_eq!(marks.quorum_index(2, &PEERS), None);
        marks.update(2, "n0", 10);
        assert_eq!(
            marks.quorum_index(2, &PEERS),
            None,
            "the leader alone is no quorum"
        );
        marks.update(2, "n2", 7);
        assert_eq!(marks.quorum_index(2, &PEERS), Some(7));
        marks.update(2, "n1", 12);
        assert_eq!(marks.quorum_index(2, &PEERS), Some(10));
        marks.update(2, "n1", 3);
        assert_eq!(marks.of(2, "n1"), Some(12), "a watermark never goes back");
    }

    /// No current-term rule: entries of an older term count as soon as a quorum holds them.
    #[test]
    fn old_term_entries_commit_without_a_current_term_entry() {
        let mut marks = Watermarks::default();
        // Term 3's leader holds entries 0..=5, all written in term 1; n2 acknowledged 5.
        marks.update(3, "n0", 5);
        marks.update(3, "n2", 5);
        assert_eq!(marks.quorum_index(3, &PEERS), Some(5));
        marks.update(1, "n0", 9);
        marks.retain_from(3);
        assert_eq!(marks.of(1, "n0"), None);
    }
}

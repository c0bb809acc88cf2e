//! Where each abnormal recovery of a classic broker began its scan of the CommitLog, against
//! where 4.9.8 begins it, worked out from what the disk held when the process started
//! (`RecoveryInputs`: the checkpoint and each file's first store timestamp): the newest file
//! whose first record is no newer than the checkpoint's older timestamp less 3 s, else the
//! oldest file (`recoverAbnormally`, `isMappedFileMatchedRecover`).

use crate::check::spec;
use crate::history::SimEvent;
use model::event::Event;
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// One abnormal recovery: where it began and where it should have.
#[derive(Clone, Debug)]
pub(in crate::check) struct RecoveryStart {
    pub node: NodeId,
    pub at: Time,
    pub scanned_from: u64,
    pub expected_from: u64,
    /// The checkpoint's min timestamp less the margin, which chose it.
    pub min_timestamp_ms: u64,
    /// Where the files begin that the rule passed over though they hold records newer than
    /// that timestamp (the file the checkpoint's time falls in, and on): a later file's older
    /// first record (a clock stepped back) chose a start past them, so nothing of them was
    /// re-dispatched.
    pub passed_over_from: Option<u64>,
}

#[derive(Default)]
pub(in crate::check) struct RecoveryFacts {
    /// What each node's disk held at its last start after a crash, until it reports.
    inputs: BTreeMap<NodeId, (u64, Vec<(u64, u64)>)>,
    pub starts: Vec<RecoveryStart>,
}

impl RecoveryFacts {
    pub fn observe_sim(&mut self, node: NodeId, event: &SimEvent) {
        if let SimEvent::RecoveryInputs {
            physic_ms,
            logics_ms,
            files,
        } = event
        {
            let min = (*physic_ms)
                .min(*logics_ms)
                .saturating_sub(spec::CHECKPOINT_MARGIN_MS);
            self.inputs.insert(node, (min, files.clone()));
        }
    }

    pub fn observe(&mut self, at: Time, node: Option<NodeId>, event: &Event) {
        let Event::Recovered {
            abnormal: true,
            scanned_from,
            ..
        } = event
        else {
            return;
        };
        let Some((min, files)) = node.and_then(|n| self.inputs.remove(&n)) else {
            return;
        };
        let matched = files
            .iter()
            .rev()
            .find(|(_, first)| *first != 0 && *first <= min);
        let Some((expected_from, _)) = matched.or(files.first()) else {
            return;
        };
        // A file older than the start whose first record is newer than the timestamp: the
        // checkpoint's time falls in the file before it, which monotone timestamps pick.
        let start = files.iter().position(|(from, _)| from == expected_from);
        let newer = files[..start.unwrap_or(0)]
            .iter()
            .position(|(_, first)| *first > min);
        let passed_over_from = newer.map(|newer| files[newer.saturating_sub(1)].0);
        self.starts.push(RecoveryStart {
            node: node.expect("taken from a node"),
            at,
            scanned_from: *scanned_from,
            expected_from: *expected_from,
            min_timestamp_ms: min,
            passed_over_from,
        });
    }
}

//! `index_missing`: a record the auditor read back on a replica that QUERY_MESSAGE by its
//! `UNIQ_KEY` did not find there. 4.9.8's recovery after a crash deletes the index files newer
//! than the checkpoint's index timestamp (every file not yet full) and rebuilds only what it
//! re-dispatches (`messageIndexSafe` off): a record stored before the crash and before the
//! re-dispatch point is missing for good (`index_dropped_at_recovery`). Any other miss is
//! `index_missing_unexplained`: a bug.

use super::index::Index;
use super::{Anomaly, AnomalyKind, SendCounts};

pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    let facts = &index.retention;
    for (at, replica, broker, id) in &facts.index_misses {
        counts.index_missing += 1;
        let stored = (index.sends.record(*id))
            .and_then(|r| r.first_invoke())
            .unwrap_or_default();
        let node = index.name(*replica);
        let group = if node == broker {
            String::new()
        } else {
            format!(" ({broker})")
        };
        let mut story = format!(
            "{id}, read back on {node}{group}, is not found there by its UNIQ_KEY \
             (QUERY_MESSAGE at {at})"
        );
        let drop = facts.recovery_index_drops(*replica, stored).next();
        let anomaly = match drop {
            Some((dropped_at, file)) => {
                story.push_str(&format!(
                    ": {node}'s recovery at {dropped_at} deleted {file}, newer than the \
                     checkpoint's index timestamp, and rebuilt only what it re-dispatched \
                     (messageIndexSafe off)"
                ));
                Anomaly::new(AnomalyKind::IndexMissing, Some(*id), *at, story)
                    .because("index_dropped_at_recovery")
            }
            None => {
                counts.index_missing_unexplained += 1;
                story.push_str(": nothing deleted its index file");
                Anomaly::new(AnomalyKind::IndexMissing, Some(*id), *at, story)
            }
        };
        anomalies.push(anomaly);
    }
}

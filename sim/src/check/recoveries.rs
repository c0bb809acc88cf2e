//! `recovery_misstarts`: an abnormal recovery that began its scan of the CommitLog at another
//! file than 4.9.8's rule picks from what the disk held (`index::recoveries`). Always a bug:
//! a clock that stepped back changes which file the rule picks, never the rule.

use super::index::Index;
use super::{Anomaly, AnomalyKind, SendCounts};

pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    for start in &index.recoveries.starts {
        if start.scanned_from == start.expected_from {
            continue;
        }
        counts.recovery_misstarts += 1;
        let mut story = format!(
            "{}'s abnormal recovery at {} scanned the CommitLog from offset {}, but 4.9.8 \
             starts at {}: the newest file whose first record is no newer than the \
             checkpoint's timestamp less 3 s ({} ms since the epoch)",
            index.name(start.node),
            start.at,
            start.scanned_from,
            start.expected_from,
            start.min_timestamp_ms
        );
        if let Some((since, offset)) = index.retention.clock_at(start.node, start.at) {
            let sign = if offset < 0 { "-" } else { "+" };
            let off = super::spec::hours(offset.unsigned_abs());
            story.push_str(&format!(
                "; its clock stood {sign}{off} from true time since {since}, which changes the \
                 file the rule picks, not the rule"
            ));
        }
        anomalies.push(Anomaly::new(
            AnomalyKind::RecoveryMisstart,
            None,
            start.at,
            story,
        ));
    }
}

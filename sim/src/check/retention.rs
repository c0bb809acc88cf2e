//! Retention, judged from the disks' records of deleted CommitLog files (`index::retention`):
//! a deletion 4.9.8's rules forbid is `deleted_early` (always a bug), and a message whose file
//! retention deleted before its audience had it is `expired`, never `lost`.

use super::index::{Ack, Deletion, Index};
use super::{Anomaly, AnomalyKind, SendCounts};
use model::Time;

/// Every early deletion, one anomaly each.
pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    for deletion in &index.retention.deletions {
        let Some(why) = deletion.early() else {
            continue;
        };
        counts.deleted_early += 1;
        let story = format!(
            "{} deleted {} at {}: {why}",
            index.name(deletion.node),
            deletion.file,
            deletion.at
        );
        anomalies.push(Anomaly::new(
            AnomalyKind::DeletedEarly,
            None,
            deletion.at,
            story,
        ));
    }
}

/// An acknowledged message retention deleted: `expired`, or `lost_unexplained` when 4.9.8's
/// rules kept its file.
pub(super) struct Expiry {
    pub kind: AnomalyKind,
    pub at: Time,
    /// The acknowledgement and the deletion.
    pub story: String,
}

impl Expiry {
    /// Counts it in the figures of its kind: lost (and unexplained), or expired.
    pub fn count(&self, lost: &mut u64, lost_unexplained: &mut u64, expired: &mut u64) {
        if self.kind == AnomalyKind::Expired {
            *expired += 1;
        } else {
            *lost += 1;
            *lost_unexplained += 1;
        }
    }
}

/// What retention did to an acknowledged message, judged.
pub(super) fn expiry(index: &Index<'_>, ack: &Ack) -> Option<Expiry> {
    let (deletion, story) = took(index, ack)?;
    let kind = match deletion.early() {
        Some(_) => AnomalyKind::LostUnexplained,
        None => AnomalyKind::Expired,
    };
    let story = format!("{}; {story}", super::explain::describe_ack(ack));
    Some(Expiry {
        kind,
        at: deletion.at,
        story,
    })
}

/// What retention did to an acknowledged message: the deletion of its file on the machine that
/// stored it, after it was stored, and the story of it.
pub(super) fn took<'i>(index: &'i Index<'_>, ack: &Ack) -> Option<(&'i Deletion, String)> {
    let deletion = index
        .retention
        .took(ack.store_host, ack.commit_log_offset, ack.sent_at())?;
    let how = match &deletion.rule {
        Ok(rule) => rule.clone(),
        Err(why) => format!("before its time: {why}"),
    };
    let mut story = format!(
        "retention deleted its CommitLog file {} on {} at {} ({how})",
        deletion.file,
        index.name(deletion.node),
        deletion.at
    );
    if let Some((since, offset)) = index.retention.clock_at(deletion.node, deletion.at) {
        let sign = if offset < 0 { "-" } else { "+" };
        let off = super::spec::hours(offset.unsigned_abs());
        story.push_str(&format!(
            ", by the machine's clock, {sign}{off} from true time since a clock fault at {since}"
        ));
    }
    Some((deletion, story))
}

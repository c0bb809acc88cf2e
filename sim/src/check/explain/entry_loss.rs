//! Why an acknowledged message of a DLedger group is gone. Its SEND_OK came once a quorum of
//! members held its entry, so every holder must have dropped it: some with their page caches
//! (a power loss before the 10 ms flush; recovery finds less), which leaves a majority without
//! it to elect a leader that never had it, whose TRUNCATE takes it from the rest. A loss in
//! which every holder dropped it to a TRUNCATE, none to a power loss, is unexplained.

use crate::check::index::{Ack, Index, Removal};
use crate::check::spec::DLEDGER_ENTRY_HEADER;
use model::Time;

/// The first member of DLedger group `group` a leader's TRUNCATE cut below what it had
/// dispatched by `by`, and when: its ConsumeQueue entries stay (4.9.8 cuts them only at
/// recovery) and point where other records, or none, now lie.
pub(in crate::check) fn truncated_member<'a>(
    index: &'a Index<'_>,
    group: &str,
    by: Time,
) -> Option<(&'a str, Time)> {
    let truncated = &index.logs.truncated_after_dispatch;
    index.brokers.groups.get(group)?.iter().find_map(|node| {
        let name = index.name(*node);
        let at = truncated.get(name).filter(|at| **at <= by)?;
        Some((name, *at))
    })
}

/// Why `ack`'s message is gone, if its group is a DLedger group: `Some(None)` when nothing
/// known explains it; `None` for a classic group (the durability model explains those).
pub(in crate::check) fn entry_loss(index: &Index<'_>, ack: &Ack) -> Option<Option<String>> {
    if !index.logs.is_dledger(&ack.broker) {
        return None;
    }
    let pos = ack.commit_log_offset.checked_sub(DLEDGER_ENTRY_HEADER)?;
    let removals: Vec<&Removal> = (index.logs.removals.get(&(ack.broker.to_string(), pos)))
        .into_iter()
        .flatten()
        .filter(|removal| removal.at >= ack.sent_at())
        .collect();
    let (lost, cut): (Vec<&Removal>, Vec<&Removal>) =
        removals.iter().partition(|removal| removal.recovery);
    if lost.is_empty() {
        return Some(None);
    }
    let names = |removals: &[&Removal]| {
        let names: Vec<String> = (removals.iter())
            .map(|r| format!("{}-{} at {}", ack.broker, r.member, r.at))
            .collect();
        names.join(", ")
    };
    let entry = lost[0];
    let mut story = format!(
        "its entry {} of term {} (position {pos}) was lost with the page cache of {}: entries \
         are acknowledged on a quorum of page-cache writes and flushed every 10 ms",
        entry.index,
        entry.term,
        names(&lost)
    );
    if !cut.is_empty() {
        story.push_str(&format!(
            "; a leader elected without it cut it from {} (TRUNCATE)",
            names(&cut)
        ));
    }
    Some(Some(story))
}

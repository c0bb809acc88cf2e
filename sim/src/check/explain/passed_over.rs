//! Records an abnormal recovery passed over. After a power loss or an OS crash, 4.9.8
//! re-dispatches the CommitLog from the newest file whose first record is no newer than the
//! checkpoint's timestamp less 3 s (`index::recoveries` applies the rule to what the disk
//! held). A clock stepped back stamps the files written since older than the checkpoint, so
//! the rule starts at one of them, past files that hold records newer than the checkpoint:
//! those keep only the ConsumeQueue entries that had reached the disk. A record whose entry
//! had not is in the CommitLog, and nothing leads to it.

use crate::check::index::{Ack, Index, RecoveryStart};
use crate::check::spec;
use model::{NodeId, Time};

/// The abnormal recovery of `node` at `at`, if it passed over files.
fn passing_over<'a>(index: &'a Index<'_>, node: NodeId, at: Time) -> Option<&'a RecoveryStart> {
    (index.recoveries.starts.iter())
        .find(|start| start.node == node && start.at == at && start.passed_over_from.is_some())
}

/// What the recovery did, for a story: where it began and what it passed over, and why.
fn clause(index: &Index<'_>, start: &RecoveryStart) -> String {
    let clock = index.retention.clock_at(start.node, start.at);
    let clock = clock.map_or(String::new(), |(since, offset)| {
        let sign = if offset < 0 { "-" } else { "+" };
        let off = spec::hours(offset.unsigned_abs());
        format!(" (its clock stood {sign}{off} from true time since {since})")
    });
    format!(
        "the recovery at {} re-dispatched only from CommitLog offset {}, the newest file whose \
         first store timestamp is no newer than the checkpoint's less 3 s, passing over the \
         files from offset {}, where the checkpoint's time falls: a clock stepped back{clock} \
         had stamped the later file older",
        start.at,
        start.expected_from,
        start.passed_over_from.unwrap_or_default()
    )
}

/// The clause for a broker group's restart at `at`, when one of its nodes' recovery passed
/// over files (empty otherwise).
pub(in crate::check) fn restart_clause(index: &Index<'_>, broker: &str, at: Time) -> String {
    let nodes = index.brokers.group_nodes(broker).map(|(node, _)| node);
    let start = nodes
        .into_iter()
        .find_map(|node| passing_over(index, node, at));
    start.map_or(String::new(), |start| format!("; {}", clause(index, start)))
}

/// Why an acknowledged record is gone though it reached the disk: its machine lost its page
/// cache with the record's ConsumeQueue entry, and the next recovery passed over its file.
pub(in crate::check) fn never_redispatched(index: &Index<'_>, ack: &Ack) -> Option<String> {
    let node = ack.store_host;
    let timeline = index.brokers.timelines.get(&node)?;
    let start = index.recoveries.starts.iter().find(|start| {
        start.node == node
            && start.at > ack.at
            && start
                .passed_over_from
                .is_some_and(|from| from <= ack.commit_log_offset)
            && ack.commit_log_offset < start.expected_from
    })?;
    let (stopped, how) = (timeline.stops.iter())
        .find(|(at, how)| (ack.at..=start.at).contains(at) && how.loses_page_cache())?;
    Some(format!(
        "{} went down at {stopped} ({}) with the page cache; {}: the record is in its CommitLog, \
         but its ConsumeQueue entry, not yet on the disk, was never rebuilt",
        index.name(node),
        how.name(),
        clause(index, start)
    ))
}

//! What a manual failover leaves behind of a transaction. Classic replication never fails
//! over by itself: an operator promotes a slave, and whatever its copy of the old master's
//! log lacked stays with the old master. A half message left there is never checked (only a
//! master checks), and a commit left there takes its op message with it, so the promoted
//! broker's check finds the half unresolved and asks about it again.

use crate::check::index::transactions::Ended;
use crate::check::index::{Ack, Index};
use model::{NodeId, Time};

/// A slave promoted after `since` whose last report to `old` ended before `end`:
/// (the slave, when it was promoted, how far it had reported).
fn promoted_without(
    index: &Index<'_>,
    group: &str,
    old: NodeId,
    since: Time,
    end: u64,
) -> Option<(NodeId, Time, u64)> {
    let (promoted, at) = index.brokers.promoted_after(group, old, since)?;
    let reported = index.brokers.reported_by(old, promoted, at);
    (reported < end).then_some((promoted, at, reported))
}

/// A half message acknowledged by a master that an operator replaced by a slave that never
/// received it, and that was no master at the end: nobody ever checked it.
pub(super) fn half_left_behind(index: &Index<'_>, half: &Ack) -> Option<String> {
    let old = half.store_host;
    let end = half.commit_log_offset + u64::from(half.size);
    let (new, at, reported) = promoted_without(index, &half.broker, old, half.sent_at(), end)?;
    let never_master_again = !index
        .brokers
        .master_at(&half.broker, old, Time::from_ms(u64::MAX));
    never_master_again.then(|| {
        let (old, new) = (index.name(old), index.name(new));
        format!(
            "the half message stayed on {old} (commitlog {}): the operator promoted {new} at \
             {at}, whose last report had covered {old}'s log up to offset {reported}, and {old} \
             was no master afterwards; only a master checks half messages, so nobody asked about \
             this one",
            half.commit_log_offset
        )
    })
}

/// The first commit was put on a master whose slave, promoted before the second commit,
/// never received it (nor the op message written after it): the promoted broker's check
/// found the half unresolved and committed it again.
pub(super) fn commit_left_behind(
    index: &Index<'_>,
    first: &Ended,
    second: &Ended,
) -> Option<String> {
    let (old, new) = (first.node?, second.node?);
    let (offset, size) = first.put?;
    let end = offset + u64::from(size);
    let (promoted, at, reported) = promoted_without(index, &first.broker, old, first.at, end)?;
    (promoted == new && at <= second.at).then(|| {
        let (old, new) = (index.name(old), index.name(new));
        format!(
            "the commit on {old} (commitlog {offset}) and its op message never reached {new}: \
             its last report before the operator promoted it at {at} covered {old}'s log up to \
             offset {reported}; as master, its check found the half unresolved, asked the \
             producer again, and committed it a second time"
        )
    })
}

//! Acknowledged messages of topics no group consumes, not found by the read-back: `expired`
//! when retention deleted their CommitLog file (`retention`), else `lost` (and
//! `lost_unexplained` when the durability model in `explain::loss` names no cause: always a
//! bug) for SEND_OK, `lost_unconfirmed` for weaker statuses the broker did not promise.
//! Messages of consumed topics are judged per group, from deliveries (`consumers`). A delayed
//! message that was not yet due when the run ended is `delayed_pending`, not lost.

use super::explain::{describe_ack, loss_cause};
use super::index::Index;
use super::{Anomaly, AnomalyKind, SendCounts};
use model::event::SendStatus;
use std::collections::BTreeSet;

pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    let delays = super::consumers::delays::delays_by_client(index);
    let consumed: BTreeSet<&str> = index
        .scenario
        .consumers
        .iter()
        .map(|c| c.topic.as_str())
        .collect();
    for (id, r) in index.sends.messages() {
        let Some(ack) = r.ack() else { continue };
        if r.transactional || !r.copies.is_empty() || consumed.contains(&*r.topic) {
            continue;
        }
        if index.read_back.unread_queue(&ack.broker, ack.queue_id) {
            continue; // Its fate is unknown: the read-back could not reach it.
        }
        if super::consumers::delays::due_after_end(index, &delays, (id, r)).is_some() {
            counts.delayed_pending += 1; // Not due yet: not in its topic, by design.
            continue;
        }
        if let Some(expiry) = super::retention::expiry(index, ack) {
            let c = &mut *counts;
            expiry.count(&mut c.lost, &mut c.lost_unexplained, &mut c.expired);
            anomalies.push(Anomaly::new(expiry.kind, Some(id), expiry.at, expiry.story));
            continue;
        }
        let cause = loss_cause(index, ack);
        let acked = describe_ack(ack);
        let story = match &cause {
            Some(cause) => format!("{acked}; {cause}"),
            None => format!("{acked}; nothing in the durability model explains its loss"),
        };
        let kind = if ack.status != SendStatus::SendOk {
            counts.lost_unconfirmed += 1;
            AnomalyKind::LostUnconfirmed
        } else if cause.is_some() {
            counts.lost += 1;
            AnomalyKind::Lost
        } else {
            counts.lost += 1;
            counts.lost_unexplained += 1;
            AnomalyKind::LostUnexplained
        };
        anomalies.push(Anomaly::new(kind, Some(id), ack.at, story));
    }
}

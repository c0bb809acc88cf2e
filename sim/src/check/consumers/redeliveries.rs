//! `redelivered`: one stored copy handed to an audience twice with the same reconsume count,
//! or a retry copy beyond the failures that sent the message back (the same retry stored
//! twice), each with its cause (`explain::redelivery`); `redelivered_unexplained` when the
//! cause is not a trade-off RocketMQ makes (an offset reset below consumed messages, or
//! nothing at all).

use super::GroupFigures;
use crate::check::explain::{Cause, explain_redelivery, explain_retry_copy};
use crate::check::index::Index;
use crate::check::{Anomaly, AnomalyKind};
use model::{MessageId, Time};

pub(super) fn judge(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    let facts = &index.consumers;
    for (audience, redelivery) in &facts.redeliveries {
        let group = &facts.audiences[*audience].group;
        let explained = explain_redelivery(index, group, redelivery);
        let at = (redelivery.id, redelivery.second.0);
        count(&mut groups[*audience], at, explained, anomalies);
    }
    for (audience, extra) in &facts.retry_copies {
        let explained = explain_retry_copy(index, extra);
        count(
            &mut groups[*audience],
            (extra.id, extra.second.0),
            explained,
            anomalies,
        );
    }
}

fn count(
    figures: &mut GroupFigures,
    (id, at): (MessageId, Time),
    (cause, story): (Cause, String),
    anomalies: &mut Vec<Anomaly>,
) {
    figures.redelivered += 1;
    *cause.count(&mut figures.redelivered_by_cause) += 1;
    if !cause.explained() {
        figures.redelivered_unexplained += 1;
    }
    let anomaly = Anomaly::new(AnomalyKind::Redelivered, Some(id), at, story);
    anomalies.push(anomaly.because(cause.name()));
}

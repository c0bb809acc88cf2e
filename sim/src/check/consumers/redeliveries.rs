//! `redelivered`: one stored copy handed to an audience twice with the same reconsume count,
//! each with its cause (`explain::redelivery`); `redelivered_unexplained` when the cause is not
//! a trade-off RocketMQ makes (an offset reset below consumed messages, or nothing at all).

use super::GroupFigures;
use crate::check::explain::explain_redelivery;
use crate::check::index::Index;
use crate::check::{Anomaly, AnomalyKind};

pub(super) fn judge(index: &Index<'_>, groups: &mut [GroupFigures], anomalies: &mut Vec<Anomaly>) {
    let facts = &index.consumers;
    for (audience, redelivery) in &facts.redeliveries {
        let (cause, story) = explain_redelivery(&index.brokers, &facts.story, redelivery);
        let figures = &mut groups[*audience];
        figures.redelivered += 1;
        *cause.count(&mut figures.redelivered_by_cause) += 1;
        if !cause.explained() {
            figures.redelivered_unexplained += 1;
        }
        let (id, at) = (Some(redelivery.id), redelivery.second.0);
        let anomaly = Anomaly::new(AnomalyKind::Redelivered, id, at, story);
        anomalies.push(anomaly.because(cause.name()));
    }
}

//! Tag subscriptions, judged from the tag each producer sent and what each listener was
//! handed (`ListenerCall`):
//!
//! - `filtered`: a message no instance of the audience subscribes to, never delivered: by
//!   design. Of them, `filtered_by_client`: the broker's prefilter passed it (its tag's hash
//!   code equals a subscribed tag's, `Aa` and `BB`) and the client dropped it.
//! - `subscription_conflicts`: a message some instances subscribe to and others do not, never
//!   delivered. The instances of a group must subscribe alike: the broker filters the group's
//!   pulls by the newest subscription a heartbeat brought it (`ConsumerManager`), each client
//!   drops what its own excludes and moves its offset past it, so a message reaches an
//!   instance that wants it only if that instance owns its queue and the broker kept its
//!   subscription.
//! - `unsubscribed_deliveries`: a listener was handed a message of the group's topic whose
//!   tag its instance's subscription excludes (retry copies are subscribed with `*`).
//! - `unfiltered_by_broker`: a client's tag compare dropped a message whose tag's hash code
//!   matches no tag any instance of the group subscribes to: the broker's prefilter, which
//!   filters by the group's subscription (some instance's), should have kept it back.

use super::GroupFigures;
use crate::check::index::{Audience, Index, Record, Subscription, Wanted, wanted};
use crate::check::{Anomaly, AnomalyKind};
use model::MessageId;
use std::collections::BTreeSet;

/// Whether the subscriptions explain why the audience never got a message (counting it).
pub(super) fn explains_absence(
    index: &Index<'_>,
    audience: &Audience,
    (id, record): (MessageId, &Record),
    figures: &mut GroupFigures,
    anomalies: &mut Vec<Anomaly>,
) -> bool {
    let tag = index.sends.tag(record);
    match wanted(&audience.subscriptions, tag) {
        Wanted::Everyone => false,
        Wanted::Nobody => {
            figures.filtered += 1;
            let subscriptions = audience.subscriptions.iter();
            if subscriptions.clone().any(|(_, s)| s.hash_collides(tag)) {
                figures.filtered_by_client += 1;
            }
            true
        }
        Wanted::Split { wanting, not } => {
            figures.subscription_conflicts += 1;
            let list = |list: &[(&str, &str)]| {
                let named = list.iter().map(|(name, e)| format!("{name} (`{e}`)"));
                named.collect::<Vec<_>>().join(", ")
            };
            let story = format!(
                "{id} is tagged `{}`: {} subscribe(s) to it, {} not; {} never got it: an \
                 inconsistent subscription (the broker filters the group's pulls by the newest \
                 subscription a heartbeat brought, each client drops what its own excludes and \
                 consumes past it)",
                tag.unwrap_or(""),
                list(&wanting),
                list(&not),
                audience.name
            );
            let sent_at = record.first_invoke().unwrap_or_default();
            let kind = AnomalyKind::SubscriptionConflict;
            anomalies.push(Anomaly::new(kind, Some(id), sent_at, story));
            true
        }
    }
}

/// Messages a client dropped that the broker's prefilter should have kept back.
pub(super) fn unfiltered(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    anomalies: &mut Vec<Anomaly>,
) {
    let audiences = index.consumers.audiences.iter();
    let group = audiences.filter(|a| a.group == audience.group);
    let subscriptions: Vec<_> = group.flat_map(|a| a.subscriptions.iter()).collect();
    let prefilter_passes = |tag: Option<&str>| {
        let passes = |(_, s): &&(String, Subscription)| s.wants_all() || s.hash_collides(tag);
        subscriptions.iter().any(passes)
    };
    for drop in &audience.client_drops {
        if prefilter_passes(drop.tag.as_deref()) {
            continue;
        }
        figures.unfiltered_by_broker += 1;
        let (broker, topic, queue_id, offset) = &drop.copy;
        let story = format!(
            "{broker} handed {} {topic}/{queue_id}@{offset} (tagged `{}`) at {}, and its client \
             dropped it: no instance of {} subscribes to a tag of that hash code, so the \
             broker's prefilter should have kept it back",
            drop.consumer,
            drop.tag.as_deref().unwrap_or(""),
            drop.at,
            audience.group
        );
        let kind = AnomalyKind::UnfilteredByBroker;
        anomalies.push(Anomaly::new(kind, None, drop.at, story));
    }
}

/// Messages of the audience's topic its listeners were handed against their subscription.
pub(super) fn unsubscribed(
    index: &Index<'_>,
    audience: &Audience,
    figures: &mut GroupFigures,
    anomalies: &mut Vec<Anomaly>,
) {
    let calls = index.listener.calls.get(&audience.group);
    let mut seen: BTreeSet<(MessageId, &str)> = BTreeSet::new();
    for call in calls.into_iter().flatten() {
        let instance = audience.subscriptions.iter();
        let Some((_, subscription)) = instance.clone().find(|(name, _)| *name == call.consumer)
        else {
            continue;
        };
        let of_topic = call.messages.iter().filter(|m| m.topic == audience.topic);
        for id in of_topic.filter_map(|m| m.id) {
            let Some(record) = index.sends.record(id) else {
                continue;
            };
            let tag = index.sends.tag(record);
            if subscription.wants(tag) || !seen.insert((id, call.consumer.as_str())) {
                continue;
            }
            figures.unsubscribed_deliveries += 1;
            let story = format!(
                "{}'s listener was handed {id} (tagged `{}`) at {}, but it subscribes to `{}`",
                call.consumer,
                tag.unwrap_or(""),
                call.at,
                subscription.expression
            );
            let kind = AnomalyKind::UnsubscribedDelivery;
            anomalies.push(Anomaly::new(kind, Some(id), call.at, story));
        }
    }
}

//! Consumer blocks: merged into groups (several blocks of one group add instances), with
//! their settings checked and their nodes declared.

use super::{Checker, at};
use crate::ratio::Ratio;
use crate::scenario::error::{ScenarioError, did_you_mean};
use crate::scenario::resolved::{ConsumerGroup, Listener, NodeDecl, NodeRole, Topic};
use crate::scenario::schema::{
    AllocateName, ConsumeFromName, ConsumerKindName, ConsumerSection, ListenerName,
    MessageModelName,
};
use model::NodeId;
use model::client::consumer::ConsumeMode;

/// Merges the `[[consumer]]` blocks into groups and declares their nodes.
#[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
pub(super) fn consumer_groups(
    check: &Checker<'_>,
    blocks: &[ConsumerSection],
    topics: &[Topic],
    nodes: &mut Vec<NodeDecl>,
) -> Result<Vec<ConsumerGroup>, Box<ScenarioError>> {
    let mut groups: Vec<ConsumerGroup> = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let path = |field: &str| at("consumer", index, field);
        let mode = checked_mode(check, index, block, topics)?;
        let settings = ConsumerGroup {
            group: block.group.clone(),
            topic: block.topic.clone(),
            broadcasting: block.model == MessageModelName::Broadcasting,
            mode,
            strategy: match block.allocate {
                AllocateName::Averagely => model::client::consumer::Strategy::Averagely,
                AllocateName::ByCircle => model::client::consumer::Strategy::ByCircle,
                AllocateName::ConsistentHash => model::client::consumer::Strategy::ConsistentHash,
            },
            consume_from_first: block.consume_from == ConsumeFromName::First,
            consume_timestamp_ms: consume_timestamp(block),
            batch: block.batch.map(|b| b as usize),
            threads: block.threads.map(|t| t as usize),
            max_reconsume_times: block.max_reconsume_times,
            nodes: Vec::new(),
            starts_ms: Vec::new(),
            listeners: Vec::new(),
            subscriptions: Vec::new(),
        };
        let subscription = super::tags::subscription(check, index, block)?;
        let listener = Listener {
            consume_time: block.consume_time,
            fail: block.fail.unwrap_or(Ratio::ZERO),
            crash_after: block.crash_after,
            restart_after_ms: block.restart_after.map_or(10_000, |d| d.0),
            stuck: (block.stuck_every)
                .map(|every| (every, block.stuck_for.map_or(600_000, |d| d.0))),
        };
        let group_index = match groups.iter().position(|g| g.group == block.group) {
            Some(existing) => {
                let same = {
                    let g = &groups[existing];
                    (
                        g.topic.as_str(),
                        g.broadcasting,
                        g.mode,
                        g.strategy,
                        g.batch,
                        g.threads,
                        g.max_reconsume_times,
                    ) == (
                        settings.topic.as_str(),
                        settings.broadcasting,
                        settings.mode,
                        settings.strategy,
                        settings.batch,
                        settings.threads,
                        settings.max_reconsume_times,
                    )
                };
                if !same {
                    return Err(check.error(
                        &path("group"),
                        format!("`{}` is declared again with other settings", block.group),
                        Some("blocks of one group may differ only in instances, start, listener behaviour and subscription".into()),
                    ));
                }
                existing
            }
            None => {
                groups.push(settings);
                groups.len() - 1
            }
        };
        for _ in 0..block.instances {
            let group = &mut groups[group_index];
            let instance = group.nodes.len() as u32;
            group.nodes.push(NodeId(nodes.len() as u16));
            group.starts_ms.push(block.start.map(|s| s.0));
            group.listeners.push(listener.clone());
            group.subscriptions.push(subscription.clone());
            nodes.push(NodeDecl {
                name: format!("{}-{instance}", block.group),
                role: NodeRole::Consumer {
                    group: group_index,
                    instance,
                },
            });
        }
    }
    Ok(groups)
}

/// Checks one `[[consumer]]` block's own fields, and what kind of consumer it declares.
fn checked_mode(
    check: &Checker<'_>,
    index: usize,
    block: &ConsumerSection,
    topics: &[Topic],
) -> Result<ConsumeMode, Box<ScenarioError>> {
    let path = |field: &str| at("consumer", index, field);
    if !topics.iter().any(|t| t.name == block.topic) {
        let hint = did_you_mean(&block.topic, topics.iter().map(|t| t.name.as_str()))
            .map(|near| format!("did you mean `{near}`?"))
            .or_else(|| Some("declare it in a [[topic]] table".into()));
        return Err(check.error(
            &path("topic"),
            format!("no topic named `{}`", block.topic),
            hint,
        ));
    }
    if block.group.is_empty() || block.group.contains(['%', '@', ' ']) {
        return Err(check.error(
            &path("group"),
            "must be a name without `%`, `@` or spaces",
            None,
        ));
    }
    if block.instances == 0 {
        return Err(check.error(&path("instances"), "must be at least 1", None));
    }
    for (field, value) in [("batch", block.batch), ("threads", block.threads)] {
        if value == Some(0) {
            return Err(check.error(&path(field), "must be at least 1", None));
        }
    }
    for (field, value) in [
        ("crash_after", block.crash_after),
        ("stuck_every", block.stuck_every),
    ] {
        if value == Some(0) {
            return Err(check.error(&path(field), "must be at least 1", None));
        }
    }
    if block.consume_timestamp.is_some() && block.consume_from != ConsumeFromName::Timestamp {
        let hint = "set `consume_from = \"timestamp\"`";
        let message = "applies only to consume_from = \"timestamp\"";
        return Err(check.error(&path("consume_timestamp"), message, Some(hint.into())));
    }
    if block.stuck_for.is_some() && block.stuck_every.is_none() {
        let hint = "say how often: `stuck_every = 500`";
        return Err(check.error(&path("stuck_for"), "needs `stuck_every`", Some(hint.into())));
    }
    let mode = match (block.kind, block.listener) {
        (ConsumerKindName::Push, None | Some(ListenerName::Concurrent)) => {
            ConsumeMode::Concurrently
        }
        (ConsumerKindName::Push, Some(ListenerName::Orderly)) => ConsumeMode::Orderly,
        (ConsumerKindName::LitePull, _) => {
            let push_only = [
                ("listener", block.listener.is_some()),
                ("batch", block.batch.is_some()),
                ("threads", block.threads.is_some()),
                ("fail", block.fail.is_some()),
                ("max_reconsume_times", block.max_reconsume_times.is_some()),
            ];
            if let Some((field, _)) = push_only.iter().find(|(_, set)| *set) {
                return Err(check.error(
                    &path(field),
                    "applies to push consumers only",
                    Some("a lite pull application polls batches of 10 on one thread, and has no retries".into()),
                ));
            }
            ConsumeMode::LitePull
        }
    };
    Ok(mode)
}

/// `consumeTimestamp` on the wall clock: the block's time, else 30 minutes before its start.
fn consume_timestamp(block: &ConsumerSection) -> Option<u64> {
    if block.consume_from != ConsumeFromName::Timestamp {
        return None;
    }
    let wall = |ms: u64| model::Time::from_ms(ms).wall_clock_ms();
    Some(match block.consume_timestamp {
        Some(at) => wall(at.0),
        None => wall(block.start.map_or(0, |s| s.0)).saturating_sub(30 * 60_000),
    })
}

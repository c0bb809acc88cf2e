//! An operator's re-deliveries, from the operator's machine (`workload::operator`):
//! `reset-offset` moves a consumer group's offsets of a topic back (or forward) to the offsets
//! stored at a time, as `mqadmin resetOffsetByTime` does (INVOKE_BROKER_TO_RESET_OFFSET to each
//! group hosting the topic; each broker sends its table to the group's consumers, who apply it
//! 10 s later); `consume-directly` finds a message by key and hands it to one consumer's
//! listener, as the console's "resend" does (CONSUME_MESSAGE_DIRECTLY through the broker
//! storing it). The checker names the redeliveries each causes.

use super::{Kind, Refusal, Resolve, Swarmed};
use crate::scenario::error::did_you_mean;
use crate::scenario::resolved::{ConsumerGroup, FaultSpec, OperatorCall};

pub const RESET_OFFSET: Kind = Kind {
    name: "reset-offset",
    effect: "an operator resets `group`'s offsets of `topic` (default: the group's) to those stored at `timestamp` (a time of the run; default a minute before the fault), on the masters of `brokers` (default: every group hosting it), as `mqadmin resetOffsetByTime` does; `force = false` only moves offsets back. Consumers apply it 10 s later; what they consume again is `redelivered` by `operator reset`",
    fields: &["group", "topic", "timestamp", "force", "brokers"],
    resolve: resolve_reset,
    swarm: Swarmed::Never("an operator's action, not a fault seeds draw: declare it as [[fault]]"),
};

pub const CONSUME_DIRECTLY: Kind = Kind {
    name: "consume-directly",
    effect: "an operator looks message `key-{key}` (default 0) of `topic` (default: `group`'s) up and hands each copy found to the listener of `group`'s instance `node` (default its first), as the console's resend does (CONSUME_MESSAGE_DIRECTLY); offsets do not move, and the copy is `redelivered` by `consumed directly`",
    fields: &["group", "topic", "node", "key"],
    resolve: resolve_direct,
    swarm: Swarmed::Never("an operator's action, not a fault seeds draw: declare it as [[fault]]"),
};

/// A reset of a group's offsets of a topic by time, on the masters of some broker groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetReset {
    pub group: String,
    pub topic: String,
    /// The run's time to reset to (`None`: a minute before the reset).
    pub timestamp_ms: Option<u64>,
    pub force: bool,
    pub brokers: Vec<String>,
}

/// A message, found by key, handed to one consumer instance's listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectConsume {
    pub group: String,
    pub topic: String,
    /// The instance's client id (its node's name).
    pub client: String,
    pub key: u32,
    pub brokers: Vec<String>,
}

fn resolve_reset(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    r.lasts_forever("a reset is a moment")?;
    let group = group(r)?;
    if group.broadcasting || group.lite_pull() {
        let what = if group.broadcasting {
            "a broadcasting group keeps its offsets on its own machines, so the broker answers \"consumer group not exist\""
        } else {
            "a lite pull consumer is no push consumer, so 4.9.8's client ignores the reset"
        };
        return Err(Refusal::new("group", format!("`{}`: {what}", group.group)));
    }
    let topic = topic_of(r, group)?;
    let brokers = super::topic::targets(r, topic)?;
    Ok(FaultSpec::Operator(OperatorCall::ResetOffset(
        OffsetReset {
            group: group.group.clone(),
            topic: topic.name.clone(),
            timestamp_ms: r.fault.timestamp.map(|t| t.0),
            force: r.fault.force.unwrap_or(true),
            brokers: brokers.into_iter().map(|target| target.group).collect(),
        },
    )))
}

fn resolve_direct(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    r.lasts_forever("a direct consumption is a moment")?;
    let group = group(r)?;
    if group.lite_pull() {
        let message = format!(
            "`{}` is a lite pull group: 4.9.8's client answers CONSUME_MESSAGE_DIRECTLY only from a push consumer",
            group.group
        );
        return Err(Refusal::new("group", message));
    }
    let topic = topic_of(r, group)?;
    let keys = (r.producers.iter())
        .filter(|p| p.topic == topic.name)
        .filter_map(|p| p.keys)
        .max();
    let key = r.fault.key.unwrap_or(0);
    match keys {
        None => {
            let message = format!(
                "no producer of `{}` sets `keys`: the operator finds the message by key",
                topic.name
            );
            return Err(
                Refusal::new("topic", message).hint("give a producer of the topic `keys = 500`")
            );
        }
        Some(keys) if key >= keys => {
            let message = format!(
                "the producers of `{}` use keys key-0 to key-{}",
                topic.name,
                keys - 1
            );
            return Err(Refusal::new("key", message));
        }
        Some(_) => {}
    }
    let client = match r.nodes_of("node", &r.fault.node)? {
        None => group.nodes[0],
        Some(nodes) => match nodes[..] {
            [node] if group.nodes.contains(&node) => node,
            _ => {
                let message = format!("must name one instance of `{}`", group.group);
                return Err(Refusal::new("node", message));
            }
        },
    };
    let brokers = super::topic::targets(r, topic)?;
    Ok(FaultSpec::Operator(OperatorCall::ConsumeDirectly(
        DirectConsume {
            group: group.group.clone(),
            topic: topic.name.clone(),
            client: r.name(client).to_string(),
            key,
            brokers: brokers.into_iter().map(|target| target.group).collect(),
        },
    )))
}

/// The consumer group `group` names.
fn group<'a>(r: &Resolve<'a>) -> Result<&'a ConsumerGroup, Refusal> {
    let Some(name) = &r.fault.group else {
        return Err(r.missing("group"));
    };
    let names = r.consumers.iter().map(|c| c.group.as_str());
    r.consumers
        .iter()
        .find(|c| &c.group == name)
        .ok_or_else(|| {
            let refusal = Refusal::new("group", format!("no consumer group named `{name}`"));
            match did_you_mean(name, names) {
                Some(near) => refusal.hint(format!("did you mean `{near}`?")),
                None => refusal,
            }
        })
}

/// The topic `topic` names, or the group's own.
fn topic_of<'a>(
    r: &Resolve<'a>,
    group: &ConsumerGroup,
) -> Result<&'a crate::scenario::resolved::Topic, Refusal> {
    if r.fault.topic.is_some() {
        return super::topic::topic(r);
    }
    let topic = r.topics.iter().find(|t| t.name == group.topic);
    topic.ok_or_else(|| {
        Refusal::new(
            "group",
            format!("`{}` reads no declared topic", group.group),
        )
    })
}

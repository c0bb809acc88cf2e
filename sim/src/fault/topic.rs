//! An operator's change of a topic: `update-topic` sends UPDATE_AND_CREATE_TOPIC (what
//! `mqadmin updateTopic` does) to the master of each broker group hosting the topic, with new
//! read and write queue numbers and permission. It does not heal. The classic mistake it
//! shows: shrinking read queues before their messages are consumed strands them.

use super::{Kind, Planning, Refusal, Resolve, Swarmed};
use crate::runtime::{Action, Effect};
use crate::scenario::error::did_you_mean;
use crate::scenario::limits;
use crate::scenario::resolved::{FaultSpec, NodeRole, Topic};
use model::NodeId;
use model::protocol::TopicConfig;
use model::protocol::route::perm;

pub const UPDATE_TOPIC: Kind = Kind {
    name: "update-topic",
    effect: "an operator sets `topic`'s `read_queues`, `write_queues` and `perm` (6 read-write, 4 read-only, 2 write-only) on the masters of `brokers` (default: every group hosting it); clients learn it at their next route refresh",
    fields: &["topic", "read_queues", "write_queues", "perm", "brokers"],
    resolve,
    swarm: Swarmed::Never("an operator's action, not a fault seeds draw: declare it as [[fault]]"),
};

/// What the operator sends, and where.
#[derive(Clone, Debug)]
pub struct TopicUpdate {
    /// The machine the admin tool runs on (the auditor's).
    pub operator: NodeId,
    pub targets: Vec<TopicTarget>,
    pub config: TopicConfig,
}

/// A broker group the update goes to: its declared master, or a DLedger group's leader when
/// the update is sent (`master` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicTarget {
    pub group: String,
    pub master: Option<NodeId>,
}

/// One UPDATE_AND_CREATE_TOPIC the supervisor sends when the fault starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSend {
    pub fault: usize,
    pub description: String,
    pub operator: NodeId,
    pub target: TopicTarget,
    pub config: TopicConfig,
}

/// The permissions a topic may have: `PermName`'s read and write bits (the inherit bit is
/// for system topics).
pub fn check_perm(value: u8) -> Result<(), String> {
    match value {
        perm::READ_WRITE | perm::READ | perm::WRITE => Ok(()),
        _ => Err(format!(
            "`{value}` is no topic permission: 6 (read and write), 4 (read only) or 2 (write only)"
        )),
    }
}

fn resolve(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    r.lasts_forever("a topic update stays")?;
    let topic = topic(r)?;
    let f = r.fault;
    if f.read_queues.is_none() && f.write_queues.is_none() && f.perm.is_none() {
        let message = "changes nothing: give `read_queues`, `write_queues` or `perm`";
        return Err(Refusal::new("kind", message));
    }
    for (field, value) in [
        ("read_queues", f.read_queues),
        ("write_queues", f.write_queues),
    ] {
        let value = u64::from(value.unwrap_or(1));
        if value == 0 || value > limits::MAX_QUEUES {
            let most = limits::render(limits::MAX_QUEUES, limits::Unit::Count);
            return Err(Refusal::new(field, format!("must be 1 to {most}")));
        }
    }
    let perm = f.perm.unwrap_or(topic.perm);
    check_perm(perm).map_err(|message| Refusal::new("perm", message))?;
    let config = TopicConfig {
        name: topic.name.clone(),
        read_queue_nums: f.read_queues.unwrap_or(topic.read_queues),
        write_queue_nums: f.write_queues.unwrap_or(topic.write_queues),
        perm,
    };
    let auditor = r.nodes.iter().position(|n| n.role == NodeRole::Auditor);
    let operator = NodeId(auditor.expect("every scenario has an auditor") as u16);
    let targets = targets(r, topic)?;
    Ok(FaultSpec::UpdateTopic(TopicUpdate {
        operator,
        targets,
        config,
    }))
}

/// The topic the fault names, as the file declares it.
pub(super) fn topic<'a>(r: &Resolve<'a>) -> Result<&'a Topic, Refusal> {
    let Some(name) = &r.fault.topic else {
        return Err(r.missing("topic"));
    };
    let names = r.topics.iter().map(|t| t.name.as_str());
    r.topics.iter().find(|t| &t.name == name).ok_or_else(|| {
        let refusal = Refusal::new("topic", format!("no topic named `{name}`"));
        match did_you_mean(name, names) {
            Some(near) => refusal.hint(format!("did you mean `{near}`?")),
            None => refusal,
        }
    })
}

/// The groups `brokers` names (each hosting the topic), or every group hosting it.
pub(super) fn targets(r: &Resolve<'_>, topic: &Topic) -> Result<Vec<TopicTarget>, Refusal> {
    let hosting: Vec<&str> = (topic.groups.iter())
        .map(|g| r.groups[*g].name.as_str())
        .collect();
    let named: Vec<&str> = match &r.fault.brokers {
        None => hosting.clone(),
        Some(list) if list.is_empty() => {
            return Err(
                Refusal::new("brokers", "must name at least one broker group")
                    .hint("leave `brokers` out for every group hosting the topic"),
            );
        }
        Some(list) => list.iter().map(String::as_str).collect(),
    };
    let mut targets = Vec::new();
    for name in named {
        if !hosting.contains(&name) {
            let message = format!("`{name}` is no broker group hosting `{}`", topic.name);
            let hint = format!("groups hosting it: {}", hosting.join(", "));
            return Err(Refusal::new("brokers", message).hint(hint));
        }
        let group = r
            .groups
            .iter()
            .find(|g| g.name == name)
            .expect("a hosting group");
        let master = (!group.is_dledger()).then(|| group.nodes[0]);
        targets.push(TopicTarget {
            group: name.to_string(),
            master,
        });
    }
    Ok(targets)
}

/// The update, sent to every target at the fault's start.
pub fn plan(planning: &mut Planning<'_>, update: &TopicUpdate) {
    for target in &update.targets {
        let effect = Effect::UpdateTopic(TopicSend {
            fault: planning.fault.index,
            description: planning.fault.description.clone(),
            operator: update.operator,
            target: target.clone(),
            config: update.config.clone(),
        });
        planning.push(planning.at, Action::Effect(effect));
    }
}

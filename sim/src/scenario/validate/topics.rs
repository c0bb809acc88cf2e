//! Topics: their names, the broker groups hosting them, and their queue numbers and
//! permission (`readQueueNums`, `writeQueueNums`, `perm`).

use super::{Checker, at};
use crate::fault::topic::check_perm;
use crate::scenario::error::{ScenarioError, Step, did_you_mean};
use crate::scenario::resolved::{BrokerGroup, Fault, FaultSpec, Topic};
use crate::scenario::schema::ScenarioFile;
use model::protocol::route::perm;

pub(super) fn topics(
    check: &Checker<'_>,
    raw: &ScenarioFile,
    broker_groups: &[BrokerGroup],
) -> Result<Vec<Topic>, Box<ScenarioError>> {
    let mut topics = Vec::new();
    for (index, topic) in raw.topics.iter().enumerate() {
        if topic.name.is_empty() || topic.name.len() > 127 || topic.name.contains(['/', ' ']) {
            return Err(check.error(
                &at("topic", index, "name"),
                "must be 1 to 127 characters without `/` or spaces",
                None,
            ));
        }
        if topics.iter().any(|t: &Topic| t.name == topic.name) {
            return Err(check.error(
                &at("topic", index, "name"),
                format!("`{}` is declared twice", topic.name),
                None,
            ));
        }
        let read_queues = topic.read_queues.unwrap_or(topic.queues);
        let write_queues = topic.write_queues.unwrap_or(topic.queues);
        let numbers = [
            ("queues", topic.queues),
            ("read_queues", read_queues),
            ("write_queues", write_queues),
        ];
        if let Some((field, _)) = numbers.iter().find(|(_, n)| *n == 0) {
            return Err(check.error(&at("topic", index, field), "must be at least 1", None));
        }
        let perm = topic.perm.unwrap_or(perm::READ_WRITE);
        if let Err(message) = check_perm(perm) {
            return Err(check.error(&at("topic", index, "perm"), message, None));
        }
        let groups = match &topic.brokers {
            None => (0..broker_groups.len()).collect(),
            Some(names) if names.is_empty() => {
                return Err(check.error(
                    &at("topic", index, "brokers"),
                    "must name at least one broker group",
                    Some("leave `brokers` out for every group".into()),
                ));
            }
            Some(names) => {
                let mut groups = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    let Some(group) = broker_groups.iter().position(|g| &g.name == name) else {
                        let hint =
                            did_you_mean(name, broker_groups.iter().map(|g| g.name.as_str()))
                                .map(|near| format!("did you mean `{near}`?"));
                        let mut path = at("topic", index, "brokers");
                        path.push(Step::Index(i));
                        return Err(check.error(
                            &path,
                            format!("no broker group named `{name}`"),
                            hint,
                        ));
                    };
                    groups.push(group);
                }
                groups
            }
        };
        topics.push(Topic {
            name: topic.name.clone(),
            queues: read_queues.max(write_queues),
            read_queues,
            write_queues,
            perm,
            groups,
        });
    }
    Ok(topics)
}

/// The topics with as many queues to read back as any `update-topic` gives them.
pub(super) fn with_updates(mut topics: Vec<Topic>, faults: &[Fault]) -> Vec<Topic> {
    for fault in faults {
        let FaultSpec::UpdateTopic(update) = &fault.spec else {
            continue;
        };
        let config = &update.config;
        if let Some(topic) = topics.iter_mut().find(|t| t.name == config.name) {
            let most = config.read_queue_nums.max(config.write_queue_nums);
            topic.queues = topic.queues.max(most);
        }
    }
    topics
}

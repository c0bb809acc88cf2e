//! An operator's query: `query-keys` looks every key of a topic's producers up on the masters
//! of the groups hosting it (QUERY_MESSAGE, what `mqadmin queryMsgByKey` does), from the
//! operator's machine (`workload::operator`). It changes nothing; the checker holds each
//! answer against what those brokers had stored by then (`index_missing`).

use super::{Kind, Planning, Refusal, Resolve, Swarmed};
use crate::runtime::{Action, Effect};
use crate::scenario::resolved::{FaultSpec, OperatorCall};

pub const QUERY_KEYS: Kind = Kind {
    name: "query-keys",
    effect: "an operator looks every key of `topic`'s producers (their `keys`) up on the masters of `brokers` (default: every group hosting it), as `mqadmin queryMsgByKey` does; each stored message the index does not find is `index_missing`",
    fields: &["topic", "brokers"],
    resolve,
    swarm: Swarmed::Never("an operator's action, not a fault seeds draw: declare it as [[fault]]"),
};

/// The operator's queries: a topic, how many keys its producers use, and the groups to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysQuery {
    pub topic: String,
    pub keys: u32,
    pub brokers: Vec<String>,
}

fn resolve(r: &Resolve<'_>) -> Result<FaultSpec, Refusal> {
    r.lasts_forever("a query is a moment")?;
    let topic = super::topic::topic(r)?;
    let keys = (r.producers.iter())
        .filter(|p| p.topic == topic.name)
        .filter_map(|p| p.keys)
        .max();
    let Some(keys) = keys else {
        let message = format!(
            "no producer of `{}` sets `keys`: there is nothing to look up",
            topic.name
        );
        return Err(
            Refusal::new("topic", message).hint("give a producer of the topic `keys = 500`")
        );
    };
    let brokers = super::topic::targets(r, topic)?;
    Ok(FaultSpec::Operator(OperatorCall::QueryKeys(KeysQuery {
        topic: topic.name.clone(),
        keys,
        brokers: brokers.into_iter().map(|target| target.group).collect(),
    })))
}

/// The moment is recorded; the operator's machine makes its calls at the same time.
pub fn plan(planning: &mut Planning<'_>) {
    let moment = Effect::Moment {
        fault: planning.fault.index,
        description: planning.fault.description.clone(),
    };
    planning.push(planning.at, Action::Effect(moment));
}

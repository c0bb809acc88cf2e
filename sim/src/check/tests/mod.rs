//! Unit tests of the checker on hand-built histories: one per anomaly kind and per branch of
//! each explanation. `Story` writes a history the way a run would record it, against one small
//! scenario (`SCENARIO`), and checks it.

mod consumers;
mod elections;
mod logs;
mod promises;
mod redeliveries;
mod sends;
mod transactions;

use super::{Anomaly, AnomalyKind, Report, check};
use crate::history::{Digest, Ending, Entry, History, Recorded, SimEvent, Stop};
use crate::scenario::{self, Scenario};
use model::event::{Event, ListenedMessage, QueueEntry, SendMode, SendStatus};
use model::{MessageId, NodeId, Time};

/// broker-a (a master and a slave) stores the unconsumed `audit` topic, the `orders` topic of
/// the clustering group `billing`, the `prices` topic of the broadcasting group `cache`, and
/// the `ledger` topic of the orderly group `books`.
const SCENARIO: &str = r#"
name = "checker-unit"
summary = "hand-built histories"
teaches = "nothing"
duration = "60s"

[cluster]
name_servers = 1

[[cluster.broker_group]]
name = "broker-a"
slaves = 1

[[topic]]
name = "audit"
queues = 2

[[topic]]
name = "orders"
queues = 2

[[topic]]
name = "prices"
queues = 1

[[topic]]
name = "ledger"
queues = 1

[[producer]]
group = "p"
topic = "audit"
messages = 10

[[consumer]]
group = "billing"
instances = 2
topic = "orders"

[[consumer]]
group = "cache"
instances = 2
topic = "prices"
model = "broadcasting"

[[consumer]]
group = "books"
instances = 2
topic = "ledger"
listener = "orderly"

[expect]
lost = "observe"
"#;

/// The master of broker-a stores every message at commitlog offset `100 * seq`, 100 bytes.
const SIZE: u32 = 100;

/// A history being written, against `SCENARIO`.
pub(super) struct Story {
    pub scenario: Scenario,
    history: History,
    digest: Digest,
}

pub(super) fn ms(ms: u64) -> Time {
    Time::from_ms(ms)
}

pub(super) fn id(seq: u32) -> MessageId {
    MessageId { producer: 0, seq }
}

/// The auditor read, on broker-a's `replica`, through `entry`, a record of queue offset
/// `offset` of the entry's topic and queue (commitlog `100 * offset`).
pub(super) fn read_back(
    replica: NodeId,
    entry: QueueEntry,
    offset: u64,
    id: Option<MessageId>,
    body_crc: u32,
) -> Event {
    Event::ReadBack {
        broker: "broker-a".into(),
        replica,
        topic: entry.topic.clone(),
        queue_id: entry.queue_id,
        entry,
        queue_offset: offset,
        commit_log_offset: offset * u64::from(SIZE),
        id,
        key: None,
        size: SIZE,
        body_crc,
    }
}

impl Story {
    pub fn new() -> Story {
        let scenario = scenario::parse(SCENARIO, "checker-unit.toml").expect("the test scenario");
        Story {
            scenario,
            history: History::default(),
            digest: Digest::default(),
        }
    }

    pub fn node(&self, name: &str) -> NodeId {
        let index = self.scenario.nodes.iter().position(|n| n.name == name);
        NodeId(index.unwrap_or_else(|| panic!("no node {name}")) as u16)
    }

    fn push(&mut self, at: u64, node: Option<NodeId>, event: Recorded) {
        let entry = Entry {
            at: ms(at),
            node,
            event,
        };
        self.history.record(&mut self.digest, entry);
    }

    pub fn model(&mut self, at: u64, node: &str, event: Event) -> &mut Story {
        let node = self.node(node);
        self.push(at, Some(node), Recorded::Model(event));
        self
    }

    /// A harness event on `node`.
    pub fn sim(&mut self, at: u64, node: &str, event: SimEvent) -> &mut Story {
        let node = self.node(node);
        self.push(at, Some(node), Recorded::Sim(event));
        self
    }

    pub fn stop(&mut self, at: u64, node: &str, how: Stop) -> &mut Story {
        let node = self.node(node);
        self.push(at, Some(node), Recorded::Sim(SimEvent::Stopped { how }));
        self
    }

    /// An operator switches `node`'s role (promotes a slave, demotes a master).
    pub fn switched(&mut self, at: u64, node: &str) -> &mut Story {
        let node = self.node(node);
        self.push(at, Some(node), Recorded::Sim(SimEvent::RoleSwitched));
        self
    }

    /// broker-a's slave reports holding the master's log up to `offset`.
    pub fn replicated(&mut self, at: u64, offset: u64) -> &mut Story {
        let slave = self.node("broker-a-s1");
        let event = Event::Replicated {
            broker: "broker-a".into(),
            slave,
            offset,
            master_offset: offset,
        };
        self.model(at, "broker-a", event)
    }

    /// The producer invokes a send of message `seq` to `topic`.
    pub fn invoke(&mut self, at: u64, seq: u32, topic: &str, key: Option<&str>) -> &mut Story {
        let event = Event::SendInvoke {
            id: id(seq),
            topic: topic.into(),
            key: key.map(Into::into),
            tags: None,
            mode: SendMode::Sync,
            body_crc: seq,
        };
        self.model(at, "p-0", event)
    }

    /// broker-a's master answers message `seq` with `status`, at queue 0 offset `seq`.
    pub fn answer(&mut self, at: u64, seq: u32, status: SendStatus) -> &mut Story {
        let store_host = self.node("broker-a");
        let event = Event::SendOk {
            id: id(seq),
            status,
            broker: "broker-a".into(),
            store_host,
            queue_id: 0,
            queue_offset: u64::from(seq),
            commit_log_offset: u64::from(seq) * u64::from(SIZE),
            size: SIZE,
            attempts: 1,
        };
        self.model(at, "p-0", event)
    }

    /// Message `seq` sent at `at` and acknowledged SEND_OK 5 ms later.
    pub fn sent(&mut self, at: u64, seq: u32, topic: &str) -> &mut Story {
        self.invoke(at, seq, topic, None)
            .answer(at + 5, seq, SendStatus::SendOk)
    }

    pub fn failed(&mut self, at: u64, seq: u32) -> &mut Story {
        let event = Event::SendFail {
            id: id(seq),
            error: "SYSTEM_BUSY".into(),
            attempts: 3,
        };
        self.model(at, "p-0", event)
    }

    pub fn flushed(&mut self, at: u64, node: &str, offset: u64) -> &mut Story {
        let event = Event::Flushed {
            broker: "broker-a".into(),
            offset,
        };
        self.model(at, node, event)
    }

    /// `replica` holds `(topic, queue 0, offset)` with message `id` (commitlog `100 * offset`).
    pub fn held(
        &mut self,
        at: u64,
        replica: &str,
        topic: &str,
        offset: u64,
        id: Option<MessageId>,
        body_crc: u32,
    ) -> &mut Story {
        let entry = QueueEntry {
            topic: topic.into(),
            queue_id: 0,
            offset,
        };
        let event = read_back(self.node(replica), entry, offset, id, body_crc);
        self.model(at, "auditor", event)
    }

    /// `replica` holds message `seq` (queue 0 offset `seq` of `topic`) at entry `entry`: a
    /// misplaced entry.
    pub fn misplaced(
        &mut self,
        at: u64,
        replica: &str,
        topic: &str,
        entry: u64,
        seq: u32,
    ) -> &mut Story {
        let at_entry = QueueEntry {
            topic: topic.into(),
            queue_id: 0,
            offset: entry,
        };
        let event = read_back(
            self.node(replica),
            at_entry,
            u64::from(seq),
            Some(id(seq)),
            seq,
        );
        self.model(at, "auditor", event)
    }

    /// `consumer` of billing turns to broker-a's slave for `orders` queue 0.
    pub fn slave_read(&mut self, at: u64, consumer: &str) -> &mut Story {
        let event = Event::PullReplica {
            group: "billing".into(),
            consumer: consumer.into(),
            broker: "broker-a".into(),
            topic: "orders".into(),
            queue_id: 0,
            slave: true,
        };
        self.model(at, consumer, event)
    }

    /// The master holds message `seq` as sent, at queue 0 offset `seq` of `topic`.
    pub fn stored(&mut self, at: u64, seq: u32, topic: &str) -> &mut Story {
        self.held(at, "broker-a", topic, u64::from(seq), Some(id(seq)), seq)
    }

    pub fn read_back_done(&mut self, at: u64) -> &mut Story {
        self.model(at, "auditor", Event::ReadBackDone { queues: 8 })
    }

    /// `consumer` of `group` is done with message `seq` from `queue_topic` queue 0 offset
    /// `offset`, handed over `took` ms before `at`.
    #[allow(clippy::too_many_arguments)]
    pub fn delivered(
        &mut self,
        at: u64,
        consumer: &str,
        group: &str,
        seq: u32,
        (topic, queue_topic): (&str, &str),
        offset: u64,
        reconsume_times: u32,
        consumed: bool,
    ) -> &mut Story {
        let event = Event::Delivered {
            group: group.into(),
            consumer: consumer.into(),
            id: Some(id(seq)),
            topic: topic.into(),
            broker: "broker-a".into(),
            queue_topic: queue_topic.into(),
            queue_id: 0,
            queue_offset: offset,
            reconsume_times,
            body_crc: seq,
            consumed,
            took_ms: 1,
        };
        self.model(at, consumer, event)
    }

    /// `billing` consumed message `seq` of `orders` at offset `seq`.
    pub fn consumed(&mut self, at: u64, consumer: &str, seq: u32) -> &mut Story {
        let topics = ("orders", "orders");
        self.delivered(
            at,
            consumer,
            "billing",
            seq,
            topics,
            u64::from(seq),
            0,
            true,
        )
    }

    pub fn assigned(
        &mut self,
        at: u64,
        consumer: &str,
        group: &str,
        topic: &str,
        offset: u64,
    ) -> &mut Story {
        let event = Event::QueueAssigned {
            group: group.into(),
            consumer: consumer.into(),
            broker: "broker-a".into(),
            topic: topic.into(),
            queue_id: 0,
            offset,
        };
        self.model(at, consumer, event)
    }

    /// `consumer`'s rebalance allocated it these queues of `orders` on broker-a (of two).
    pub fn allocated(&mut self, at: u64, consumer: &str, queues: &[u32]) -> &mut Story {
        let event = Event::Allocated {
            group: "billing".into(),
            consumer: consumer.into(),
            topic: "orders".into(),
            mine: queues
                .iter()
                .map(|q| ("broker-a".to_string(), *q))
                .collect(),
            consumers: 2,
            queues: 2,
        };
        self.model(at, consumer, event)
    }

    pub fn dropped(&mut self, at: u64, consumer: &str, group: &str, topic: &str) -> &mut Story {
        let event = Event::QueueDropped {
            group: group.into(),
            consumer: consumer.into(),
            broker: "broker-a".into(),
            topic: topic.into(),
            queue_id: 0,
            reason: "rebalanced away".into(),
        };
        self.model(at, consumer, event)
    }

    /// The application's listener of `consumer` was called with messages `seqs` of `topic`
    /// (queue 0, offset = seq) for `duration` ms.
    pub fn listened(
        &mut self,
        at: u64,
        consumer: &str,
        (topic, seqs): (&str, &[u32]),
        duration: u64,
        success: bool,
    ) -> &mut Story {
        let store_host = self.node("broker-a");
        let messages = seqs
            .iter()
            .map(|seq| ListenedMessage {
                id: Some(id(*seq)),
                topic: topic.into(),
                queue_id: 0,
                queue_offset: u64::from(*seq),
                store_host,
                reconsume_times: 0,
            })
            .collect();
        let event = Event::ListenerCall {
            messages,
            duration_ms: duration,
            success,
            crashed: false,
        };
        self.model(at, consumer, event)
    }

    pub fn check(&self) -> Report {
        check(&self.scenario, &self.history, Ending::Complete)
    }
}

/// The anomalies of one kind.
pub(super) fn of(report: &Report, kind: AnomalyKind) -> Vec<&Anomaly> {
    report.anomalies.iter().filter(|a| a.kind == kind).collect()
}

/// The one anomaly of `kind`, whose story must contain `text`.
pub(super) fn only<'a>(report: &'a Report, kind: AnomalyKind, text: &str) -> &'a Anomaly {
    let found = of(report, kind);
    assert_eq!(
        found.len(),
        1,
        "one {} expected: {:#?}",
        kind.name(),
        report.anomalies
    );
    assert!(
        found[0].explanation.contains(text),
        "{} should say `{text}`: {}",
        kind.name(),
        found[0].explanation
    );
    found[0]
}

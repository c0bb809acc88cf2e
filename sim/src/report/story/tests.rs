//! Life stories of hand-built histories: when a message became durable or copied, and when a
//! loss found it neither.

use super::{Lives, StepKind, parse_id};
use crate::history::{Digest, Entry, History, Recorded, SimEvent, Stop};
use crate::scenario::{self, Scenario};
use model::event::{Event, SendMode, SendStatus};
use model::{MessageId, NodeId, Time};

const SCENARIO: &str = r#"
name = "story-unit"
summary = "hand-built histories"
teaches = "nothing"
duration = "60s"

[cluster]
name_servers = 1

[[cluster.broker_group]]
name = "broker-a"
slaves = 1

[[topic]]
name = "orders"
queues = 1

[[producer]]
group = "p"
topic = "orders"
messages = 10
"#;

struct Built {
    scenario: Scenario,
    history: History,
    digest: Digest,
}

impl Built {
    fn new() -> Built {
        Built {
            scenario: scenario::parse(SCENARIO, "story-unit.toml").expect("valid"),
            history: History::default(),
            digest: Digest::default(),
        }
    }

    fn node(&self, name: &str) -> NodeId {
        let index = self.scenario.nodes.iter().position(|n| n.name == name);
        NodeId(index.unwrap_or_else(|| panic!("no node {name}")) as u16)
    }

    fn push(&mut self, at: u64, node: &str, event: Recorded) -> &mut Built {
        let entry = Entry {
            at: Time::from_ms(at),
            node: Some(self.node(node)),
            event,
        };
        self.history.record(&mut self.digest, entry);
        self
    }

    /// Message `seq` is sent at `at` and acked 2 ms later, stored at bytes `100 * seq`, 100 long.
    fn send(&mut self, at: u64, seq: u32) -> &mut Built {
        let id = MessageId { producer: 0, seq };
        let invoke = Event::SendInvoke {
            id,
            topic: "orders".into(),
            key: None,
            tags: None,
            mode: SendMode::Sync,
            body_crc: 0,
        };
        let ok = Event::SendOk {
            id,
            status: SendStatus::SendOk,
            broker: "broker-a".into(),
            store_host: self.node("broker-a"),
            queue_id: 0,
            queue_offset: u64::from(seq),
            commit_log_offset: 100 * u64::from(seq),
            size: 100,
            attempts: 1,
        };
        self.push(at, "p-0", Recorded::Model(invoke))
            .push(at + 2, "p-0", Recorded::Model(ok))
    }

    fn flushed(&mut self, at: u64, offset: u64) -> &mut Built {
        let event = Event::Flushed {
            broker: "broker-a".into(),
            offset,
        };
        self.push(at, "broker-a", Recorded::Model(event))
    }

    fn replicated(&mut self, at: u64, offset: u64) -> &mut Built {
        let event = Event::Replicated {
            broker: "broker-a".into(),
            slave: self.node("broker-a-s1"),
            offset,
            master_offset: offset,
        };
        self.push(at, "broker-a", Recorded::Model(event))
    }

    fn power_off(&mut self, at: u64) -> &mut Built {
        let stop = SimEvent::Stopped {
            how: Stop::PowerOff,
        };
        self.push(at, "broker-a", Recorded::Sim(stop))
    }

    /// The kinds and times of message `seq`'s steps.
    fn steps(&self, seq: u32) -> Vec<(StepKind, u64)> {
        let lives = Lives::build(&self.scenario, &self.history, None, &[]);
        let steps = lives
            .story(MessageId { producer: 0, seq })
            .expect("a story");
        steps.iter().map(|s| (s.kind, s.at_ms)).collect()
    }
}

#[test]
fn a_message_is_durable_at_the_first_flush_past_its_end_and_copied_at_the_first_report() {
    let mut run = Built::new();
    run.send(10, 0)
        .flushed(20, 50)
        .replicated(25, 100)
        .flushed(30, 100);
    let steps = run.steps(0);
    assert!(steps.contains(&(StepKind::Flush, 30)), "{steps:?}");
    assert!(steps.contains(&(StepKind::Replicate, 25)), "{steps:?}");
    assert!(
        !steps.iter().any(|(kind, _)| *kind == StepKind::Lost),
        "{steps:?}"
    );
}

#[test]
fn a_power_loss_before_the_flush_puts_the_message_at_risk_and_later_flushes_do_not_count() {
    let mut run = Built::new();
    run.send(10, 0)
        .send(40, 1)
        .flushed(45, 100)
        .power_off(50)
        .flushed(60, 300);
    let steps = run.steps(1);
    assert!(steps.contains(&(StepKind::Lost, 50)), "{steps:?}");
    assert!(
        !steps.iter().any(|(kind, _)| *kind == StepKind::Flush),
        "{steps:?}"
    );
    assert!(run.steps(0).contains(&(StepKind::Flush, 45)));
}

#[test]
fn ids_parse_as_reports_print_them_and_nothing_else() {
    assert_eq!(
        parse_id("p3-12"),
        Some(MessageId {
            producer: 3,
            seq: 12
        })
    );
    for bad in ["", "p", "p1", "3-12", "p-1", "p1-x", "p1-2-3"] {
        assert_eq!(parse_id(bad), None, "{bad}");
    }
}

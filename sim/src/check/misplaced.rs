//! Misplaced ConsumeQueue entries, judged from the read-back alone.
//!
//! A record in the commitlog carries its own topic, queue id and queue offset. The auditor
//! reports each record it read back with the ConsumeQueue entry it found it through
//! (`ReadBack::entry`), and the entries that led to no record at all (`ReadBackNoRecord`). An
//! entry whose record names another queue position, or no record, is *misplaced*: a consumer
//! reading that queue position gets another message, or nothing. Neither the broker's word
//! nor the durability model enters this fact; only the auditor's pulls and the records' bytes.
//!
//! One cause is RocketMQ's own behaviour: when dispatch meets a record whose queue offset is
//! past the queue's end (the entries between are missing), 4.9.8 writes its entry where the
//! queue ends ("[BUG]logic queue order maybe wrong"). A slave whose master lost power, cut its
//! log and handed the cut queue offsets out again drifts this way. The store reports each such
//! write (`ConsumeQueueMisplaced`); an entry it names, holding the record it names, is
//! explained. The other is bit rot, which the harness records (`Corrupted`): the body CRC is
//! all recovery checks, so a rotted byte in a record's header (its queue id or offset) stays,
//! and a record with a rotted byte is explained by it; an entry that leads to no record is
//! explained by a rotted byte anywhere in that replica's commitlog. Every other misplaced
//! entry is unexplained, and always a bug: a ConsumeQueue entry that recovery should have cut
//! with the commitlog, for instance.

use super::index::{Index, MisplacedFacts};
use super::{Anomaly, AnomalyKind, SendCounts};
use model::NodeId;
use model::event::{Event, QueueEntry};

/// What the read-back shows of misplaced entries.
#[derive(Clone, Debug, Default)]
struct Misplaced {
    /// Entries that lead to a record of another queue position, or to no record.
    misplaced: u64,
    /// Of those, the ones no misplaced dispatch explains (always a bug).
    unexplained: u64,
    /// One witness per misplaced entry (or run of entries without a record).
    anomalies: Vec<Anomaly>,
}

/// The cause named for a misplaced entry the store reported writing.
const DISPATCH_OUT_OF_ORDER: &str = "dispatch out of order";
/// The cause named for a misplaced entry where a byte of the commitlog rotted.
const BIT_ROT: &str = "bit rot";
/// The cause named for a misplaced entry of a DLedger member whose log a leader's TRUNCATE cut
/// below what it had dispatched: 4.9.8 cuts ConsumeQueues at recovery only.
const TRUNCATED_AFTER_DISPATCH: &str = "truncated after dispatch";
/// The cause named for an entry of a DLedger member whose recovery kept an entry torn at a
/// power loss: 0.3.1.2 checks no CRC of an entry, so its record may be no record at all.
const TORN_ENTRY: &str = "torn entry";

/// The story of an entry a DLedger TRUNCATE left behind.
const TRUNCATED_STORY: &str = "a leader's TRUNCATE cut this member's log below what it had \
     dispatched, and 4.9.8 cuts ConsumeQueues only at recovery: its entries point where other \
     records, or none, now lie";

/// Judges every entry the auditor read.
pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    let name = |node: NodeId| index.name(node).to_string();
    let rotted = |node, range| index.brokers.rotted(node, range);
    let truncated = |node| (index.logs.truncated_after_dispatch).contains_key(index.name(node));
    let dledger = |node: NodeId| {
        let groups = index.scenario.broker_groups.iter();
        groups
            .filter(|g| g.is_dledger())
            .any(|g| g.nodes.contains(&node))
    };
    let torn = |node| dledger(node) && index.brokers.kept_unflushed_tail(node);
    let causes = Causes {
        rotted: &rotted,
        truncated: &truncated,
        torn: &torn,
    };
    let out = judge_facts(&index.misplaced, &causes, &name);
    counts.misplaced = out.misplaced;
    counts.misplaced_unexplained = out.unexplained;
    anomalies.extend(out.anomalies);
}

/// Whether a byte of a node's commitlog rotted in a range (any byte: `None`).
type Rotted<'a> = dyn Fn(NodeId, Option<(u64, u64)>) -> bool + 'a;

/// What explains a misplaced entry on a replica, besides the dispatches the store reported.
struct Causes<'a> {
    rotted: &'a Rotted<'a>,
    /// Whether the replica is a DLedger member a leader's TRUNCATE cut below its dispatch.
    truncated: &'a dyn Fn(NodeId) -> bool,
    /// Whether the replica is a DLedger member whose recovery kept an unflushed tail.
    torn: &'a dyn Fn(NodeId) -> bool,
}

fn judge_facts(
    facts: &MisplacedFacts,
    causes: &Causes<'_>,
    name: &dyn Fn(NodeId) -> String,
) -> Misplaced {
    let mut out = Misplaced::default();
    for (at, event) in &facts.read {
        let at_ms = at.as_ms();
        let witness = match event {
            Event::ReadBack { .. } => misplaced_record(at_ms, event, (facts, causes), name),
            Event::ReadBackNoRecord { .. } => no_record(at_ms, event, causes, name),
            _ => None,
        };
        if let Some(witness) = witness {
            out.add(witness);
        }
    }
    out
}

/// One misplaced entry, before it becomes an anomaly.
struct Witness {
    at_ms: u64,
    message: Option<String>,
    /// How many entries it stands for.
    entries: u64,
    cause: Option<&'static str>,
    explanation: String,
}

impl Misplaced {
    fn add(&mut self, witness: Witness) {
        self.misplaced += witness.entries;
        if witness.cause.is_none() {
            self.unexplained += witness.entries;
        }
        self.anomalies.push(Anomaly {
            kind: AnomalyKind::Misplaced,
            message: witness.message,
            at_ms: witness.at_ms,
            cause: witness.cause,
            explanation: witness.explanation,
        });
    }
}

/// A record read through an entry of another queue position, if this one is.
fn misplaced_record(
    at_ms: u64,
    event: &Event,
    (facts, causes): (&MisplacedFacts, &Causes<'_>),
    name: &dyn Fn(NodeId) -> String,
) -> Option<Witness> {
    let Event::ReadBack {
        broker,
        replica,
        entry,
        topic,
        queue_id,
        queue_offset,
        commit_log_offset,
        id,
        size,
        ..
    } = event
    else {
        return None;
    };
    let own = QueueEntry {
        topic: topic.clone(),
        queue_id: *queue_id,
        offset: *queue_offset,
    };
    if *entry == own {
        return None;
    }
    let found = format!(
        "{broker}/{}/{}@{} on {} leads to commitlog {commit_log_offset}, a record of {}/{}@{}",
        entry.topic,
        entry.queue_id,
        entry.offset,
        name(*replica),
        own.topic,
        own.queue_id,
        own.offset
    );
    let record = (*commit_log_offset, commit_log_offset + u64::from(*size));
    let (cause, story) =
        if facts
            .dispatched
            .contains(&(*replica, entry.clone(), *commit_log_offset))
        {
            (
                Some(DISPATCH_OUT_OF_ORDER),
                "its dispatch met that record past the queue's end and wrote the entry where the \
             queue ended, as 4.9.8 does (\"[BUG]logic queue order maybe wrong\")",
            )
        } else if (causes.rotted)(*replica, Some(record)) {
            (
                Some(BIT_ROT),
                "a byte of that record rotted; recovery checks only the body's CRC, so a record \
             whose header rotted stays, naming another queue position",
            )
        } else if (causes.truncated)(*replica) {
            (Some(TRUNCATED_AFTER_DISPATCH), TRUNCATED_STORY)
        } else {
            (
                None,
                "no dispatch wrote it there: an entry that points where another record now lies \
             (one recovery should have cut with the commitlog, for instance)",
            )
        };
    Some(Witness {
        at_ms,
        message: id.map(|id| id.to_string()),
        entries: 1,
        cause,
        explanation: format!("{found}: {story}"),
    })
}

/// Entries that led to no record (for a `ReadBackNoRecord`).
fn no_record(
    at_ms: u64,
    event: &Event,
    causes: &Causes<'_>,
    name: &dyn Fn(NodeId) -> String,
) -> Option<Witness> {
    let Event::ReadBackNoRecord {
        broker,
        replica,
        topic,
        queue_id,
        from,
        to,
    } = event
    else {
        return None;
    };
    let count = to.saturating_sub(*from);
    let (cause, story) = if (causes.rotted)(*replica, None) {
        let story = "; a byte of that replica's commitlog rotted, and a record with a rotted \
                     header is no record";
        (Some(BIT_ROT), story.to_string())
    } else if (causes.truncated)(*replica) {
        (
            Some(TRUNCATED_AFTER_DISPATCH),
            format!("; {TRUNCATED_STORY}"),
        )
    } else if (causes.torn)(*replica) {
        let story = "; this member lost power with its log unflushed and its recovery kept the \
                     tail: 0.3.1.2 checks no CRC of an entry, so a torn one stays, its record no \
                     record";
        (Some(TORN_ENTRY), story.to_string())
    } else {
        (None, String::new())
    };
    Some(Witness {
        at_ms,
        message: None,
        entries: count,
        cause,
        explanation: format!(
            "{broker}/{topic}/{queue_id}@{from}..{to} on {}: {count} entr{} that lead to no \
             record (past the commitlog's end, or onto bytes that are no record){story}",
            name(*replica),
            if count == 1 { "y" } else { "ies" }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::index::rotted_offset;
    use crate::history::{Entry, Recorded, SimEvent};
    use model::Time;

    const SLAVE: NodeId = NodeId(2);

    fn at(topic: &str, queue_id: u32, offset: u64) -> QueueEntry {
        QueueEntry {
            topic: topic.into(),
            queue_id,
            offset,
        }
    }

    fn recorded(ms: u64, event: Event) -> Entry {
        Entry {
            at: Time::from_ms(ms),
            node: Some(SLAVE),
            event: Recorded::Model(event),
        }
    }

    /// The record of orders/1@`own`, stored at commitlog 5000, read through orders/1@`read`.
    fn read_back(read: u64, own: u64) -> Entry {
        recorded(
            9_000,
            Event::ReadBack {
                broker: "broker-a".into(),
                replica: SLAVE,
                entry: at("orders", 1, read),
                topic: "orders".into(),
                queue_id: 1,
                queue_offset: own,
                commit_log_offset: 5_000,
                id: None,
                key: None,
                size: 100,
                body_crc: 0,
            },
        )
    }

    fn judged(entries: &[Entry]) -> Misplaced {
        let mut facts = MisplacedFacts::default();
        let mut rotted_bytes = Vec::new();
        for entry in entries {
            let node = entry.node.expect("on a node");
            match &entry.event {
                Recorded::Sim(SimEvent::Corrupted { file, position }) => {
                    rotted_bytes.extend(rotted_offset(file, *position));
                }
                Recorded::Sim(_) => {}
                Recorded::Model(event) => facts.observe(entry.at, node, event),
            }
        }
        let rotted = |_, range: Option<(u64, u64)>| {
            let (from, to) = range.unwrap_or((0, u64::MAX));
            rotted_bytes
                .iter()
                .any(|offset| (from..to).contains(offset))
        };
        let causes = Causes {
            rotted: &rotted,
            truncated: &|_| false,
            torn: &|_| false,
        };
        judge_facts(&facts, &causes, &|_| "broker-a-s1".to_string())
    }

    #[test]
    fn an_entry_at_its_records_position_is_not_misplaced() {
        let out = judged(&[read_back(7, 7)]);
        assert_eq!((out.misplaced, out.unexplained), (0, 0));
    }

    #[test]
    fn an_entry_of_another_position_is_misplaced_and_unexplained() {
        let out = judged(&[read_back(7, 12)]);
        assert_eq!((out.misplaced, out.unexplained), (1, 1));
        let story = &out.anomalies[0].explanation;
        assert!(story.contains("orders/1@7 on broker-a-s1"), "{story}");
        assert!(story.contains("a record of orders/1@12"), "{story}");
    }

    #[test]
    fn a_reported_misplaced_dispatch_explains_its_entry_only() {
        let dispatched = recorded(
            1_000,
            Event::ConsumeQueueMisplaced {
                broker: "broker-a".into(),
                entry: at("orders", 1, 7),
                queue_offset: 12,
                commit_log_offset: 5_000,
            },
        );
        let out = judged(&[dispatched.clone(), read_back(7, 12)]);
        assert_eq!((out.misplaced, out.unexplained), (1, 0));
        assert_eq!(out.anomalies[0].cause, Some(DISPATCH_OUT_OF_ORDER));
        // Another entry holding the same record is not explained by it.
        let out = judged(&[dispatched, read_back(6, 12)]);
        assert_eq!(out.unexplained, 1);
    }

    fn rotted(ms: u64, position: u64) -> Entry {
        Entry {
            at: Time::from_ms(ms),
            node: Some(SLAVE),
            event: Recorded::Sim(SimEvent::Corrupted {
                file: "store/commitlog/00000000000000004096".into(),
                position,
            }),
        }
    }

    #[test]
    fn a_rotted_byte_in_the_record_explains_it() {
        // The record is at 5000..5100; the rotted byte at 4096 + 930 = 5026 is inside it.
        let out = judged(&[rotted(1_000, 930), read_back(7, 12)]);
        assert_eq!((out.misplaced, out.unexplained), (1, 0));
        assert_eq!(out.anomalies[0].cause, Some(BIT_ROT));
        // A rotted byte elsewhere does not.
        let out = judged(&[rotted(1_000, 1_100), read_back(7, 12)]);
        assert_eq!(out.unexplained, 1);
    }

    #[test]
    fn entries_without_a_record_are_unexplained() {
        let hole = recorded(
            9_000,
            Event::ReadBackNoRecord {
                broker: "broker-a".into(),
                replica: SLAVE,
                topic: "orders".into(),
                queue_id: 0,
                from: 40,
                to: 43,
            },
        );
        let out = judged(&[hole]);
        assert_eq!((out.misplaced, out.unexplained), (3, 3));
        assert!(out.anomalies[0].explanation.contains("@40..43"));
    }
}

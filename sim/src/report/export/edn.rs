//! `history.edn`: every client operation as a Jepsen history, in the shape of Jepsen's queue
//! workloads (`jepsen.checker/total-queue`), one EDN map per line:
//!
//! - `:enqueue`: a producer's send, `{:type :invoke, :f :enqueue, :value "p0-12", ...}`, then
//!   its completion: `:ok` with the status and where it was stored, `:fail` (certainly not
//!   stored) or `:info` (unknown). A transactional send completes with its local transaction's
//!   decision, not its half message's SEND_OK: `:ok` for a commit, `:fail` for a rollback (the
//!   message must never be seen), `:info` for an unknown decision.
//! - `:dequeue`: a message a consumer's listener consumed, as an invoke and its `:ok` with the
//!   message and the queue and offset it came from (`:queue "broker-a/orders/3"`).
//!
//! Every line has `:index` (its position, from 0), `:process` (the client's node number) and
//! `:time` (simulated nanoseconds). A message resent by the application keeps its id, as in the
//! run. An async producer has several sends in flight at once on one process, which Jepsen's
//! single-threaded processes do not; checkers that count values (total-queue) read it as is.

use crate::history::History;
use model::MessageId;
use model::event::{Event, SendMode, TransactionState};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// The writer's state: the next index, which sends are open and transactional, and each
/// message's topic.
struct Writer<'a, W: Write> {
    out: &'a mut W,
    index: usize,
    open: BTreeSet<MessageId>,
    transactional: BTreeSet<MessageId>,
    topics: BTreeMap<MessageId, String>,
}

impl<W: Write> Writer<'_, W> {
    fn line(
        &mut self,
        kind: &str,
        f: &str,
        (process, time): (u16, u64),
        value: &str,
    ) -> std::io::Result<()> {
        writeln!(
            self.out,
            "{{:index {}, :type :{kind}, :f :{f}, :process {process}, :time {time}, :value {value}}}",
            self.index
        )?;
        self.index += 1;
        Ok(())
    }

    /// A send's completion, if it is open.
    fn complete(
        &mut self,
        id: MessageId,
        kind: &str,
        at: (u16, u64),
        value: &str,
    ) -> std::io::Result<()> {
        if self.open.remove(&id) {
            self.line(kind, "enqueue", at, value)?;
        }
        Ok(())
    }

    fn event(&mut self, event: &Event, at: (u16, u64)) -> std::io::Result<()> {
        match event {
            Event::SendInvoke {
                id, mode, topic, ..
            } => {
                if *mode == SendMode::Transaction {
                    self.transactional.insert(*id);
                }
                self.topics.insert(*id, topic.clone());
                self.open.insert(*id);
                self.line("invoke", "enqueue", at, &string(&id.to_string()))
            }
            Event::SendOk { id, .. } if self.transactional.contains(id) => Ok(()),
            Event::SendOk {
                id,
                status,
                broker,
                queue_id,
                queue_offset,
                ..
            } => {
                let topic = self.topics.get(id).map_or("", String::as_str);
                let queue = format!("{broker}/{topic}/{queue_id}");
                let value = format!(
                    "{}, :status :{}, :queue {}, :offset {queue_offset}",
                    string(&id.to_string()),
                    status.name(),
                    string(&queue)
                );
                self.complete(*id, "ok", at, &value)
            }
            Event::SendFail { id, error, .. } => {
                self.complete(*id, "fail", at, &with_error(*id, error))
            }
            Event::SendInfo { id, error, .. } => {
                self.complete(*id, "info", at, &with_error(*id, error))
            }
            Event::TransactionDecided { id, state } => {
                let kind = match state {
                    TransactionState::Commit => "ok",
                    TransactionState::Rollback => "fail",
                    TransactionState::Unknown => "info",
                };
                let value = format!(
                    "{}, :transaction :{}",
                    string(&id.to_string()),
                    state.name()
                );
                self.complete(*id, kind, at, &value)
            }
            Event::Delivered {
                id: Some(id),
                broker,
                queue_topic,
                queue_id,
                queue_offset,
                consumed: true,
                ..
            } => {
                let queue = format!("{broker}/{queue_topic}/{queue_id}");
                self.line("invoke", "dequeue", at, "nil")?;
                let value = format!(
                    "{}, :queue {}, :offset {queue_offset}",
                    string(&id.to_string()),
                    string(&queue)
                );
                self.line("ok", "dequeue", at, &value)
            }
            _ => Ok(()),
        }
    }
}

/// Writes the history; returns how many lines it wrote.
pub fn write(history: &History, out: &mut impl Write) -> std::io::Result<usize> {
    let mut writer = Writer {
        out,
        index: 0,
        open: BTreeSet::new(),
        transactional: BTreeSet::new(),
        topics: BTreeMap::new(),
    };
    for entry in history.entries() {
        let (Some(node), Some(event)) = (entry.node, entry.model()) else {
            continue;
        };
        writer.event(event, (node.0, entry.at.as_ms() * 1_000_000))?;
    }
    Ok(writer.index)
}

fn with_error(id: MessageId, error: &str) -> String {
    format!("{}, :error {}", string(&id.to_string()), string(error))
}

/// An EDN string literal.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

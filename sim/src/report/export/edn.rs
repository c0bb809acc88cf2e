//! `history.edn`: the producers' operations as a Jepsen-style history, one EDN map per line:
//! `{:type :invoke, :f :send, :process 4, :value "p0-12", :time 32141000000}`, then its
//! completion, `:ok` (with the status and where it was stored), `:fail` (certainly not
//! stored) or `:info` (unknown). `:process` is the producer's node number; `:time` is
//! simulated nanoseconds. A message resent by the application keeps its id, as in the run.

use crate::history::History;
use model::event::Event;
use std::io::Write;

/// Writes the history; returns how many operations (lines) it wrote.
pub fn write(history: &History, out: &mut impl Write) -> std::io::Result<usize> {
    let mut lines = 0;
    for entry in history.entries() {
        let (Some(node), Some(event)) = (entry.node, entry.model()) else {
            continue;
        };
        let Some((kind, value)) = operation(event) else {
            continue;
        };
        let time = entry.at.as_ms() * 1_000_000;
        writeln!(
            out,
            "{{:type :{kind}, :f :send, :process {}, :value {value}, :time {time}}}",
            node.0
        )?;
        lines += 1;
    }
    Ok(lines)
}

fn operation(event: &Event) -> Option<(&'static str, String)> {
    Some(match event {
        Event::SendInvoke { id, .. } => ("invoke", string(&id.to_string())),
        Event::SendOk {
            id,
            status,
            broker,
            queue_id,
            queue_offset,
            ..
        } => (
            "ok",
            format!(
                "{{:id {}, :status :{}, :broker {}, :queue {queue_id}, :offset {queue_offset}}}",
                string(&id.to_string()),
                status.name(),
                string(broker)
            ),
        ),
        Event::SendFail { id, error, .. } => ("fail", with_error(&id.to_string(), error)),
        Event::SendInfo { id, error, .. } => ("info", with_error(&id.to_string(), error)),
        _ => return None,
    })
}

fn with_error(id: &str, error: &str) -> String {
    format!("{{:id {}, :error {}}}", string(id), string(error))
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

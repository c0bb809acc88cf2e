//! `shiviz.log`: a log ShiViz (https://bestchai.bitbucket.io/shiviz/) reads as uploaded. The
//! first line is the regular expression that parses the events, the second the delimiter of
//! several executions in one file (empty: one execution), then one event per line:
//! `<ms> <node> <vector clock as JSON> <what happened>`.
//!
//! Events are each packet's send and receipt (a dropped packet only its send), every process
//! stop, start, pause and fault, and the producers' and consumers' operations. The clocks count
//! only the events written here; a run with more packets than `MAX_PACKETS` keeps an even
//! share of each request code (as the HTML diagram does), so its clocks carry fewer edges.

use crate::history::{History, Recorded, SimEvent};
use crate::report::html::packets;
use crate::runtime::PacketRecord;
use model::event::Event;
use std::collections::BTreeMap;
use std::io::Write;

/// The header: ShiViz's parser for the lines below it.
pub const REGEX: &str = r"(?<date>\d+) (?<host>\S+) (?<clock>\{[^}]*\}) (?<event>.*)";
/// At most this many packets are written.
pub const MAX_PACKETS: usize = 20_000;

/// One event before its clock: when, where, what, and how it joins the packets.
struct Pending {
    at: u64,
    node: u16,
    text: String,
    link: Link,
}

enum Link {
    Local,
    Send(usize),
    Receive(usize),
}

/// Writes the log; returns how many events it wrote.
pub fn write(
    names: &[String],
    history: &History,
    packets: &[PacketRecord],
    out: &mut impl Write,
) -> std::io::Result<usize> {
    let events = events(names, history, packets);
    writeln!(out, "{REGEX}")?;
    writeln!(out)?;
    let mut clocks: Vec<Vec<u64>> = vec![vec![0; names.len()]; names.len()];
    let mut in_flight: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for event in &events {
        let node = usize::from(event.node);
        if let Link::Receive(packet) = event.link
            && let Some(sent) = in_flight.remove(&packet)
        {
            for (mine, theirs) in clocks[node].iter_mut().zip(sent) {
                *mine = (*mine).max(theirs);
            }
        }
        clocks[node][node] += 1;
        if let Link::Send(packet) = event.link {
            in_flight.insert(packet, clocks[node].clone());
        }
        let clock: BTreeMap<&str, u64> = (clocks[node].iter().enumerate())
            .filter(|(_, count)| **count > 0)
            .map(|(i, count)| (names[i].as_str(), *count))
            .collect();
        let clock = serde_json::to_string(&clock).map_err(std::io::Error::other)?;
        writeln!(out, "{} {} {clock} {}", event.at, names[node], event.text)?;
    }
    Ok(events.len())
}

/// Every event, in time order; at the same millisecond in the order they were recorded, and a
/// packet's send before its receipt (latency is at least 1 ms).
fn events(names: &[String], history: &History, packets: &[PacketRecord]) -> Vec<Pending> {
    let mut events = local_events(history);
    let rows = packets::thinned(packets, MAX_PACKETS);
    for (i, row) in rows.rows.iter().enumerate() {
        let [sent, arrives, from, to, code, response] = *row;
        let (from, to) = (from as u16, to as u16);
        let what = format!(
            "{}{}",
            rows.codes[code as usize],
            if response == 1 { " response" } else { "" }
        );
        let fate = if arrives < 0 { " (dropped)" } else { "" };
        events.push(Pending {
            at: sent as u64,
            node: from,
            text: format!("send {what} to {}{fate}", names[usize::from(to)]),
            link: Link::Send(i),
        });
        if arrives >= 0 {
            events.push(Pending {
                at: arrives as u64,
                node: to,
                text: format!("receive {what} from {}", names[usize::from(from)]),
                link: Link::Receive(i),
            });
        }
    }
    events.sort_by_key(|e| e.at);
    events
}

fn local_events(history: &History) -> Vec<Pending> {
    let mut events = Vec::new();
    for entry in history.entries() {
        let Some(node) = entry.node else { continue };
        let text = match &entry.event {
            Recorded::Sim(SimEvent::Stopped { how }) => format!("stopped ({})", how.name()),
            Recorded::Sim(SimEvent::Started) => "started".to_string(),
            Recorded::Sim(SimEvent::Paused) => "paused".to_string(),
            Recorded::Sim(SimEvent::Resumed) => "resumed".to_string(),
            Recorded::Sim(SimEvent::FaultOn { description, .. }) => format!("fault: {description}"),
            Recorded::Model(event) => match client_op(event) {
                Some(text) => text,
                None => continue,
            },
            Recorded::Sim(_) => continue,
        };
        events.push(Pending {
            at: entry.at.as_ms(),
            node: node.0,
            text,
            link: Link::Local,
        });
    }
    events
}

fn client_op(event: &Event) -> Option<String> {
    Some(match event {
        Event::SendInvoke { id, topic, .. } => format!("invoke send {id} ({topic})"),
        Event::SendOk { id, status, .. } => format!("{id} {}", status.name()),
        Event::SendFail { id, error, .. } => format!("{id} failed: {error}"),
        Event::SendInfo { id, error, .. } => format!("{id} unknown: {error}"),
        Event::Delivered { id: Some(id), .. } => format!("consumed {id}"),
        _ => return None,
    })
}

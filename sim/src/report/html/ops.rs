//! The operation timeline: every client operation as a bar on its client's row, as Maelstrom's
//! timeline shows them: a send from its invoke to its answer (ok, info when the outcome is
//! unknown, fail), and a delivery for the time the listener held it (consumed, or handed
//! back to be retried). A long run keeps an even share of the bars, failures and unknowns
//! first.

use crate::history::History;
use model::event::Event;
use model::{MessageId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many bars are drawn.
pub const MAX_OPS: usize = 20_000;

/// A bar's outcome, as the page colours it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Fail,
    Info,
    Ok,
    Consumed,
    Retried,
}

/// The bars: `[node, from ms, to ms, outcome, message]`, and how many there were in all.
#[derive(Serialize)]
pub struct Operations {
    pub rows: Vec<(u16, u64, u64, Outcome, String)>,
    pub total: usize,
}

pub fn operations(history: &History) -> Operations {
    let mut rows = Vec::new();
    let mut open: BTreeMap<(u16, MessageId), Time> = BTreeMap::new();
    for entry in history.entries() {
        let (Some(node), Some(event)) = (entry.node, entry.model()) else {
            continue;
        };
        let node = node.0;
        let mut end = |id: &MessageId, outcome| {
            if let Some(from) = open.remove(&(node, *id)) {
                rows.push((
                    node,
                    from.as_ms(),
                    entry.at.as_ms(),
                    outcome,
                    id.to_string(),
                ));
            }
        };
        match event {
            Event::SendInvoke { id, .. } => {
                open.insert((node, *id), entry.at);
            }
            Event::SendOk { id, .. } => end(id, Outcome::Ok),
            Event::SendFail { id, .. } => end(id, Outcome::Fail),
            Event::SendInfo { id, .. } => end(id, Outcome::Info),
            Event::Delivered {
                id: Some(id),
                consumed,
                took_ms,
                ..
            } => {
                let outcome = if *consumed {
                    Outcome::Consumed
                } else {
                    Outcome::Retried
                };
                let to = entry.at.as_ms();
                rows.push((
                    node,
                    to.saturating_sub(*took_ms),
                    to,
                    outcome,
                    id.to_string(),
                ));
            }
            _ => {}
        }
    }
    let total = rows.len();
    Operations {
        rows: thinned(rows),
        total,
    }
}

/// At most `MAX_OPS` bars: every failure and unknown first, then an even share of the rest,
/// in time order.
fn thinned(
    mut rows: Vec<(u16, u64, u64, Outcome, String)>,
) -> Vec<(u16, u64, u64, Outcome, String)> {
    if rows.len() <= MAX_OPS {
        return rows;
    }
    let (mut kept, rest): (Vec<_>, Vec<_>) = rows
        .drain(..)
        .partition(|r| matches!(r.3, Outcome::Fail | Outcome::Info));
    kept.truncate(MAX_OPS / 2);
    let room = MAX_OPS - kept.len();
    let stride = rest.len().div_ceil(room.max(1));
    kept.extend(rest.into_iter().step_by(stride.max(1)));
    kept.sort_by_key(|r| (r.1, r.0));
    kept
}

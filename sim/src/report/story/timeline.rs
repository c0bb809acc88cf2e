//! Each broker node's flushed and replicated positions over time, split at its power and disk
//! losses (which reset them), so a story can ask when a byte became durable or copied.

use crate::history::Stop;
use model::event::Event;
use model::{NodeId, Time};

/// A position's history on one node: (time, the highest position so far in its segment).
#[derive(Clone, Debug, Default)]
struct Positions {
    marks: Vec<(Time, u64, NodeId)>,
    /// The last mark belongs to a segment a loss ended.
    reset: bool,
}

impl Positions {
    fn push(&mut self, at: Time, offset: u64, by: NodeId) {
        let best = match self.marks.last() {
            Some((_, last, by_last)) if !self.reset && *last >= offset => (*last, *by_last),
            _ => (offset, by),
        };
        self.reset = false;
        self.marks.push((at, best.0, best.1));
    }

    /// The first mark in `[since, until)` at or past `end`.
    fn first_past(&self, since: Time, until: Time, end: u64) -> Option<(Time, NodeId)> {
        let lo = self.marks.partition_point(|m| m.0 < since);
        let hi = self.marks.partition_point(|m| m.0 < until);
        let range = &self.marks[lo..hi.max(lo)];
        let found = range.partition_point(|m| m.1 < end);
        range.get(found).map(|m| (m.0, m.2))
    }
}

#[derive(Clone, Debug, Default)]
struct NodeLine {
    losses: Vec<(Time, Stop)>,
    flushed: Positions,
    replicated: Positions,
}

/// Every broker node's timelines, indexed by node.
#[derive(Clone, Debug, Default)]
pub(super) struct Timelines {
    nodes: Vec<NodeLine>,
}

impl Timelines {
    fn node(&mut self, node: NodeId) -> &mut NodeLine {
        if self.nodes.len() <= node.index() {
            self.nodes.resize_with(node.index() + 1, NodeLine::default);
        }
        &mut self.nodes[node.index()]
    }

    pub fn stop(&mut self, node: NodeId, at: Time, how: Stop) {
        if matches!(how, Stop::PowerOff | Stop::DiskLoss) {
            let line = self.node(node);
            line.losses.push((at, how));
            line.flushed.reset = true;
            line.replicated.reset = true;
        }
    }

    pub fn observe(&mut self, at: Time, node: NodeId, event: &Event) {
        match event {
            Event::Flushed { offset, .. } => self.node(node).flushed.push(at, *offset, node),
            Event::Replicated { slave, offset, .. } => {
                self.node(node).replicated.push(at, *offset, *slave);
            }
            _ => {}
        }
    }

    /// The first power or disk loss of `node` at or after `since`.
    pub fn loss_after(&self, node: NodeId, since: Time) -> Option<(Time, Stop)> {
        let line = self.nodes.get(node.index())?;
        line.losses.iter().find(|(at, _)| *at >= since).copied()
    }

    fn until(&self, node: NodeId, since: Time) -> Time {
        self.loss_after(node, since)
            .map_or(Time::from_ms(u64::MAX), |(at, _)| at.plus_ms(1))
    }

    /// When `node`'s flushed position first passed `end` after `since`, before any loss.
    pub fn flushed(&self, node: NodeId, since: Time, end: u64) -> Option<Time> {
        let line = self.nodes.get(node.index())?;
        let until = self.until(node, since);
        line.flushed.first_past(since, until, end).map(|(at, _)| at)
    }

    /// When a slave of `node` first reported holding `end` after `since`, and which slave.
    pub fn replicated(&self, node: NodeId, since: Time, end: u64) -> Option<(Time, NodeId)> {
        let line = self.nodes.get(node.index())?;
        let until = self.until(node, since);
        line.replicated.first_past(since, until, end)
    }
}

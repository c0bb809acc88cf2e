//! The trace: each handled event added to the digest (and the trace log, if kept), the
//! run's event budget, and each event's one-line description.

use super::*;

impl World {
    /// Adds a handled event to the digest (and the trace log, if kept).
    pub fn trace_event(&mut self, at: Time, node: NodeId, event: &NodeEvent) {
        self.events_handled += 1;
        if self.events_handled >= self.event_budget && self.over_budget.is_none() {
            self.over_budget = Some(format!(
                "the run exceeded its event budget of {} events at {at}",
                self.event_budget
            ));
        }
        let (kind, peer, code, id) = match event {
            NodeEvent::Request { from, id, request } => {
                (1, from.0, request.code().number(), id.map_or(0, |id| id.0))
            }
            NodeEvent::Response { id, response } => (2, 0, response.code.number(), id.0),
            NodeEvent::Refused { id } => (3, 0, 0, id.0),
            NodeEvent::Closed { id } => (8, 0, 0, id.0),
            NodeEvent::Timeout { id } => (4, 0, 0, id.0),
            NodeEvent::Timer(_) => (5, 0, 0, 0),
            NodeEvent::Flushed(flush) => (6, 0, 0, flush.0),
            NodeEvent::ConnectionClosed { peer, .. } => (7, peer.0, 0, 0),
            NodeEvent::Shutdown => (9, 0, 0, 0),
        };
        self.digest.add(&TraceItem {
            at,
            node,
            kind,
            peer,
            code,
            id,
        });
        if let Some(kinds) = &mut self.event_kinds {
            *kinds.entry(kind_name(event)).or_default() += 1;
        }
        if self.trace.is_some() {
            let line = self.describe(at, node, event);
            if let Some(trace) = &mut self.trace {
                trace.push(line);
            }
        }
    }

    fn describe(&self, at: Time, node: NodeId, event: &NodeEvent) -> String {
        let me = self.name(node);
        match event {
            NodeEvent::Request { from, id, request } => {
                let id = id.map_or("oneway".to_string(), |id| format!("#{}", id.0));
                format!("{at} {me} <- {} {} {id}", self.name(*from), request.code())
            }
            NodeEvent::Response { id, response } => {
                format!("{at} {me} <- response #{} {}", id.0, response.code)
            }
            NodeEvent::Refused { id } => format!("{at} {me} request #{} refused", id.0),
            NodeEvent::Closed { id } => {
                format!("{at} {me} request #{} failed: connection closed", id.0)
            }
            NodeEvent::Timeout { id } => format!("{at} {me} request #{} timeout due", id.0),
            NodeEvent::Timer(timer) => format!("{at} {me} timer {timer:?}"),
            NodeEvent::Flushed(flush) => format!("{at} {me} flush {} done", flush.0),
            NodeEvent::ConnectionClosed { peer, .. } => {
                format!("{at} {me} connection to {} closed", self.name(*peer))
            }
            NodeEvent::Shutdown => format!("{at} {me} shutdown"),
        }
    }
}

/// An event's kind, for counting: a request or response by its code, a timer by its path of
/// variant names (without their fields), and the transport's and disk's own events.
pub(crate) fn kind_name(event: &NodeEvent) -> String {
    match event {
        NodeEvent::Request { request, .. } => format!("request {}", request.code()),
        NodeEvent::Response { response, .. } => format!("response {}", response.code),
        NodeEvent::Refused { .. } => "request refused".to_string(),
        NodeEvent::Closed { .. } => "request closed".to_string(),
        NodeEvent::Timeout { .. } => "request timeout".to_string(),
        NodeEvent::Timer(timer) => format!("timer {}", timer_path(&format!("{timer:?}"))),
        NodeEvent::Flushed(_) => "flush done".to_string(),
        NodeEvent::ConnectionClosed { .. } => "connection closed".to_string(),
        NodeEvent::Shutdown => "shutdown".to_string(),
    }
}

/// `Broker(Store(FlushCommitLog))` as `Broker::Store::FlushCommitLog`; fields and numbers
/// (`Pull { queue: .. }`, `Schedule(3)`) left out.
fn timer_path(debug: &str) -> String {
    let mut path = Vec::new();
    for part in debug.split('(') {
        let name: String = part
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            break;
        }
        let whole = name.len() == part.trim_end_matches(')').len();
        path.push(name);
        if !whole {
            break;
        }
    }
    path.join("::")
}

#[cfg(test)]
mod tests {
    #[test]
    fn timer_paths_leave_fields_out() {
        use super::timer_path;
        assert_eq!(
            timer_path("Broker(Store(FlushCommitLog))"),
            "Broker::Store::FlushCommitLog"
        );
        assert_eq!(timer_path("Broker(Schedule(3))"), "Broker::Schedule");
        assert_eq!(
            timer_path("Client(Consumer(Pull { queue: q, pq: 3 }))"),
            "Client::Consumer::Pull"
        );
        assert_eq!(timer_path("App(7)"), "App");
    }
}

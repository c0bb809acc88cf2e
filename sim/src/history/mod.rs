//! The history of a run: every operation, model event and fault, stamped with simulated time.
//!
//! The checker reads nothing else. Written out as JSON Lines (`history.jsonl`), one entry per
//! line: `{"at_ms": .., "node": "..", "event": "..", ...}`.

pub mod digest;

use model::NodeId;
use model::Time;
use model::event::Event;
use serde::Serialize;

pub use digest::Digest;

/// Which phase of the run this is: faults run, then heal, then drain, then the read-back.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Run,
    Heal,
    Drain,
    ReadBack,
    Done,
}

/// How a process stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// `kill -9`: process memory gone, the OS page cache survives, connections reset.
    Kill,
    /// The machine lost power: dirty pages gone, the last page may be torn, peers hear nothing.
    PowerOff,
    /// The machine lost its disk: it comes back empty.
    DiskLoss,
    /// A clean stop: the process ran its shutdown hooks, then exited.
    Shutdown,
}

impl Stop {
    /// The fault kind's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Kill => "kill",
            Stop::PowerOff => "power-off",
            Stop::DiskLoss => "disk-loss",
            Stop::Shutdown => "shutdown",
        }
    }
}

/// How a run ended: the last fact of its history, which the checker reads with the rest.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Drained and read back.
    Complete,
    /// The drain did not finish in time.
    DrainTimeout,
    /// The read-back did not finish in time.
    ReadBackTimeout,
}

/// What the harness itself records.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum SimEvent {
    Phase {
        phase: Phase,
    },
    Stopped {
        how: Stop,
    },
    Started,
    Paused,
    Resumed,
    /// A network or disk fault rule took effect.
    FaultOn {
        fault: usize,
        description: String,
    },
    FaultOff {
        fault: usize,
    },
    /// A fault action that could not apply, and why (a kill of a process already down, the
    /// restart of a machine lost for good, ...): every action of the plan leaves a trace.
    Skipped {
        action: String,
        reason: String,
    },
    /// A byte of a file on this node's disk rotted.
    Corrupted {
        file: String,
        position: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Recorded {
    Model(Event),
    Sim(SimEvent),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub at: Time,
    /// The node it happened at, or `None` for the harness itself.
    pub node: Option<NodeId>,
    pub event: Recorded,
}

impl Entry {
    pub fn model(&self) -> Option<&Event> {
        match &self.event {
            Recorded::Model(event) => Some(event),
            Recorded::Sim(_) => None,
        }
    }

    pub fn sim(&self) -> Option<&SimEvent> {
        match &self.event {
            Recorded::Sim(event) => Some(event),
            Recorded::Model(_) => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct History {
    entries: Vec<Entry>,
}

impl History {
    pub fn record(&mut self, digest: &mut Digest, entry: Entry) {
        digest.add(&entry);
        self.entries.push(entry);
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the history as JSON Lines, naming nodes by `names`.
    pub fn write_jsonl(
        &self,
        names: &[String],
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Line<'a> {
            at_ms: u64,
            node: &'a str,
            #[serde(flatten)]
            event: &'a Recorded,
        }
        for entry in &self.entries {
            let node = entry
                .node
                .map_or("harness", |id| names[id.index()].as_str());
            let line = Line {
                at_ms: entry.at.as_ms(),
                node,
                event: &entry.event,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

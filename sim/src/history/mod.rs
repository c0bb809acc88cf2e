//! The history of a run: every operation, model event and fault, stamped with simulated time.
//!
//! The checker reads nothing else. Written out as JSON Lines (`history.jsonl`), one entry per
//! line: `{"at_ms": .., "node": "..", "event": "..", ...}`.

mod codec;
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
    /// The machine's OS crashed (a kernel panic) and rebooted: dirty pages gone, but the disk
    /// controller, still powered, completes the writes it had received: no torn page.
    OsCrash,
    /// The machine lost its disk: it comes back empty.
    DiskLoss,
    /// A clean stop: the process ran its shutdown hooks, then exited.
    Shutdown,
}

impl Stop {
    /// Whether the machine's page cache died with it (not only the process).
    pub fn loses_page_cache(self) -> bool {
        matches!(self, Stop::PowerOff | Stop::OsCrash | Stop::DiskLoss)
    }

    /// The fault kind's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Kill => "kill",
            Stop::PowerOff => "power-off",
            Stop::OsCrash => "os-crash",
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
    /// An operator switched this broker's role (promoted a slave to master, or demoted a
    /// master to slave); the process restarts with its new configuration.
    RoleSwitched,
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
    /// What the disks held of a record when this broker answered SEND_OK for it (read off
    /// the simulated disks by the harness, `runtime::promises`): the commitlog range
    /// `offset..end`, how far into it this machine's media matched its page cache, and how far
    /// each other machine of its group held the same bytes.
    Held {
        offset: u64,
        end: u64,
        media: u64,
        replicas: Vec<ReplicaHeld>,
    },
    /// This node deleted a file (read off its disk by the harness): the file's length and
    /// mtime, the node's wall clock then, how full the disk was before the step's first
    /// deletion, whether it was the oldest file of its directory, and how many remain there.
    FileDeleted {
        file: String,
        len: u64,
        modified_ms: u64,
        wall_ms: u64,
        used: u64,
        capacity: u64,
        oldest: bool,
        remaining: u32,
    },
    /// What a broker's disk held for its recovery as its process started after a crash (read
    /// by the harness before the process ran): the checkpoint's physic and logics timestamps
    /// and the first offset and first record's store timestamp of each CommitLog file.
    RecoveryInputs {
        physic_ms: u64,
        logics_ms: u64,
        files: Vec<(u64, u64)>,
    },
    /// This node's wall clock stepped by `by_ms`; it now stands `offset_ms` from true time.
    ClockStepped {
        by_ms: i64,
        offset_ms: i64,
    },
    /// A byte of a file on this node's disk rotted.
    Corrupted {
        file: String,
        position: u64,
    },
}

/// How far another machine of a broker group held a record's bytes when it was answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ReplicaHeld {
    pub node: NodeId,
    /// The end of the prefix of the record it held byte for byte.
    pub upto: u64,
    /// It held other bytes where the record's were missing: its log went another way.
    pub diverged: bool,
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

/// The recorded entries, encoded compactly (`codec`) in chunks of about `CHUNK_BYTES`, so
/// that the history grows without ever copying what it holds. Read back in order, one entry
/// at a time.
#[derive(Clone, Debug, Default)]
pub struct History {
    chunks: Vec<Vec<u8>>,
    strings: codec::Strings,
    len: usize,
    /// When the last entry happened.
    end: Time,
    /// The entry being encoded.
    scratch: Vec<u8>,
}

const CHUNK_BYTES: usize = 1 << 20;

impl History {
    pub fn record(&mut self, digest: &mut Digest, entry: Entry) {
        digest.add(&entry);
        self.encode(&entry, self.end);
        let full = self
            .chunks
            .last()
            .is_none_or(|chunk| chunk.len() + self.scratch.len() > chunk.capacity());
        if full {
            // A chunk's first entry counts its time from zero, so each chunk decodes alone.
            self.encode(&entry, Time::ZERO);
            let capacity = CHUNK_BYTES.max(self.scratch.len());
            self.chunks.push(Vec::with_capacity(capacity));
        }
        let chunk = self.chunks.last_mut().expect("a chunk");
        chunk.extend_from_slice(&self.scratch);
        self.len += 1;
        self.end = entry.at;
    }

    /// Encodes `entry` into `scratch`, its time counted from `previous`.
    fn encode(&mut self, entry: &Entry, previous: Time) {
        self.scratch.clear();
        let mut writer = codec::Writer {
            bytes: &mut self.scratch,
            strings: &mut self.strings,
        };
        codec::put_entry(entry, previous, &mut writer);
    }

    /// Every entry, in the order recorded, decoded one at a time.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.chunks.iter().flat_map(move |chunk| {
            let mut previous = Time::ZERO;
            let mut reader = codec::Reader {
                bytes: chunk,
                strings: &self.strings,
            };
            std::iter::from_fn(move || {
                if reader.bytes.is_empty() {
                    return None;
                }
                let entry = codec::take_entry(previous, &mut reader);
                previous = entry.at;
                Some(entry)
            })
        })
    }

    /// When the last entry happened (`Time::ZERO` if there is none).
    pub fn end(&self) -> Time {
        self.end
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
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
        for entry in self.entries() {
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

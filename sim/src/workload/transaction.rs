//! The local transactions of a transactional producer application (`TransactionListener`):
//! after a half message's SEND_OK, the application runs its local transaction (its outcome
//! and length drawn from the node's stream), writes the decision to its own database (a file
//! on the producer machine's disk, fsynced like a database commit), and only then sends
//! END_TRANSACTION. A check from a broker is answered from that file, so a restarted process
//! answers truthfully, and a decision it never wrote is UNKNOW.

use model::disk::FlushId;
use model::event::{Event, TransactionState};
use model::ids::MessageId;
use model::node::Context;
use model::protocol::SendResult;
use std::collections::BTreeMap;

/// The application's database: one byte per sequence number (0 = no decision).
const STATES_PATH: &str = "app/transactions";

/// How the application's local transactions turn out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionSpec {
    /// Odds of each outcome, out of their sum.
    pub commit: u32,
    pub rollback: u32,
    pub unknown: u32,
    /// How long a local transaction takes: at least, at most.
    pub duration_ms: (u64, u64),
}

/// Where a half message was stored: what END_TRANSACTION names.
#[derive(Clone, Debug)]
pub struct HalfStored {
    pub broker: String,
    pub result: SendResult,
}

/// A local transaction running or being written.
#[derive(Clone, Debug)]
struct Running {
    half: HalfStored,
    state: Option<TransactionState>,
}

/// The application's transactions in progress.
pub struct LocalTransactions {
    spec: TransactionSpec,
    client: u32,
    running: BTreeMap<u32, Running>,
    writing: BTreeMap<FlushId, u32>,
}

fn encode(state: TransactionState) -> u8 {
    match state {
        TransactionState::Commit => 1,
        TransactionState::Rollback => 2,
        TransactionState::Unknown => 3,
    }
}

fn decode(byte: u8) -> Option<TransactionState> {
    match byte {
        1 => Some(TransactionState::Commit),
        2 => Some(TransactionState::Rollback),
        3 => Some(TransactionState::Unknown),
        _ => None,
    }
}

impl LocalTransactions {
    pub fn new(spec: TransactionSpec, client: u32) -> LocalTransactions {
        LocalTransactions {
            spec,
            client,
            running: BTreeMap::new(),
            writing: BTreeMap::new(),
        }
    }

    /// Transactions not yet ended.
    pub fn in_progress(&self) -> usize {
        self.running.len()
    }

    /// The half of `seq` is stored: the local transaction starts; returns how long it takes.
    pub fn begin(&mut self, ctx: &mut Context<'_>, seq: u32, half: HalfStored) -> u64 {
        self.running.insert(seq, Running { half, state: None });
        let (min, max) = self.spec.duration_ms;
        min + ctx.random_below(max - min + 1)
    }

    /// `executeLocalTransaction` returned: draws the outcome and writes it.
    pub fn finish(&mut self, ctx: &mut Context<'_>, seq: u32) {
        let spec = &self.spec;
        let total = u64::from(spec.commit + spec.rollback + spec.unknown).max(1);
        let draw = ctx.random_below(total) as u32;
        let state = if draw < spec.commit {
            TransactionState::Commit
        } else if draw < spec.commit + spec.rollback {
            TransactionState::Rollback
        } else {
            TransactionState::Unknown
        };
        self.decide(ctx, seq, state);
    }

    /// The half was stored with a weaker status: ROLLBACK without running it (#3885).
    pub fn refuse(&mut self, ctx: &mut Context<'_>, seq: u32, half: HalfStored) {
        self.running.insert(seq, Running { half, state: None });
        self.decide(ctx, seq, TransactionState::Rollback);
    }

    fn decide(&mut self, ctx: &mut Context<'_>, seq: u32, state: TransactionState) {
        let Some(running) = self.running.get_mut(&seq) else {
            return;
        };
        running.state = Some(state);
        let id = MessageId {
            producer: self.client,
            seq,
        };
        ctx.emit(Event::TransactionDecided { id, state });
        let disk = ctx.disk();
        disk.write(STATES_PATH, u64::from(seq), &[encode(state)]);
        let flush = disk.flush(STATES_PATH);
        self.writing.insert(flush, seq);
    }

    /// A decision is durable: it may be announced. Returns (seq, half, state).
    pub fn on_flushed(&mut self, flush: FlushId) -> Option<(u32, HalfStored, TransactionState)> {
        let seq = self.writing.remove(&flush)?;
        let running = self.running.remove(&seq)?;
        Some((seq, running.half, running.state?))
    }

    /// `checkLocalTransaction`: what the database says of a message; UNKNOW for one it does
    /// not hold (another instance's, or one whose decision was never written).
    pub fn check(&self, ctx: &mut Context<'_>, id: MessageId) -> TransactionState {
        if id.producer != self.client {
            return TransactionState::Unknown;
        }
        let byte = ctx.disk().read(STATES_PATH, u64::from(id.seq), 1);
        let held = byte.first().and_then(|b| decode(*b));
        if held.is_some() {
            model::probe!(TXN_CHECK_FROM_DISK);
        }
        held.unwrap_or(TransactionState::Unknown)
    }
}

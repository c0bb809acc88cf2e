//! Classic master/slave replication (`HAService`, `HAConnection`, `HAClient`, 4.9.x).
//!
//! The slave pulls in effect: it reports how far its commitlog reaches (`HA_REPORT`), and the
//! master pushes commitlog bytes from there (`HA_TRANSFER`), flushed or not, 32 KiB at a time
//! and never across a file's end. The slave appends them at the same offsets and dispatches
//! its own ConsumeQueues. A SYNC_MASTER answers a send only when some slave has reported past
//! it (see `send`), and the master trusts those reports.
//!
//! - [`master`]: the master's side: one connection per slave, the transfer loop, housekeeping.
//! - [`slave`]: the slave's side: connect, report, append, refuse what does not line up.

pub mod master;
pub mod slave;

/// An idle transfer loop looks for new data this often (`allWaitForRunning(100)`).
pub const IDLE_WAIT_MS: u64 = 100;
/// How many bytes may be on their way to a slave, unacknowledged: the sockets' buffers. A
/// slow or stopped slave fills them, and the master waits.
pub const WINDOW_BYTES: u64 = 256 * 1024;
/// The slave's loop wakes at least this often (`selector.select(1000)`).
pub const SLAVE_TICK_MS: u64 = 1_000;
/// The master checks its connections' silence this often (its read loop's `select(1000)`).
pub const HOUSEKEEPING_CHECK_MS: u64 = 1_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HaTimer {
    /// The master's transfer loop for one slave connection (`generation` tells stale wakeups).
    Transfer {
        slave: crate::ids::NodeId,
        generation: u64,
    },
    /// The master's housekeeping of silent connections.
    Housekeeping,
    /// The slave's loop.
    SlaveTick,
}

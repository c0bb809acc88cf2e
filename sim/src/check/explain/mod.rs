//! Causal text shared by the checkers: for each anomaly with more than one possible mechanism,
//! which one the facts show, and the story that proves it.
//!
//! - `loss`: why an acknowledged message is gone (the durability model); `entry_loss` in a
//!   DLedger group (its entry's holders).
//! - `sends`: the stories of a message's sends (attempts, duplicates, recoveries).
//! - `redelivery`: why a copy reached an audience twice.
//! - `reuse`: why a stored message was never read by a group already past its offset.
//! - `passed_over`: records an abnormal recovery passed over (a clock stepped back).
//! - `slave_entries`: a queue read from a slave whose entries run behind its records.

mod entry_loss;
mod loss;
mod passed_over;
mod redelivery;
mod reuse;
mod sends;
mod slave_entries;

pub(super) use entry_loss::truncated_member;
pub(super) use loss::{describe_ack, explain_loss, loss_cause};
pub(super) use redelivery::{Cause, explain_redelivery, explain_retry_copy};
pub(super) use reuse::reused_offset;
pub(super) use sends::{
    TIMED_OUT_APPEND_COMMITTED, explain_duplicate, explain_recovered, quorum_timeout,
};
pub(super) use slave_entries::behind_on_slave;

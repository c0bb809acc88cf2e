//! The RocketMQ model: every process of a RocketMQ 4.9.x cluster as a plain state machine.
//!
//! No runtime, no clock, no randomness of its own: a node gets all of that through the
//! [`node::Context`] the harness passes in, so the model is ordinary, testable Rust and each
//! handler reads like the protocol it implements.
//!
//! Map:
//! - [`node`]: the [`node::Node`] trait and the [`node::Context`] a node acts through.
//! - [`protocol`]: requests and responses by RocketMQ request code; route data.
//! - [`namesrv`]: the name server (route tables, registration, expiry).
//! - [`broker`]: the broker (registration, store, flush, recovery, replication).
//! - [`client`]: the client library (route cache, producer, consumer).
//! - [`event`]: what nodes report for the history.
//! - [`filter`]: subscriptions and tag filtering.
//! - [`probe`]: coverage probes at the branches of each mechanism, counted per run.
//! - [`invariant`]: invariants asserted in every build, named, told apart by the harness.
//! - [`disk`]: the file interface a broker stores through.
//! - [`message`], [`ids`], [`time`], [`timer`]: shared vocabulary.

#[cfg(not(madsim))]
compile_error!("build with --cfg madsim (see .cargo/config.toml)");

pub mod broker;
pub mod client;
pub mod disk;
pub mod dledger;
pub mod event;
pub mod filter;
pub mod ids;
pub mod invariant;
pub mod message;
pub mod namesrv;
pub mod node;
pub mod probe;
pub mod protocol;
#[cfg(test)]
pub mod testing;
pub mod time;
pub mod timer;

pub use ids::{MessageId, NodeId, RequestId};
pub use time::Time;

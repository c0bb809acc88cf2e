//! The simulation harness.

#[cfg(not(madsim))]
compile_error!("build with --cfg madsim (see .cargo/config.toml)");

pub mod baseline;
pub mod check;
pub mod cluster;
pub mod disk;
pub mod exit;
pub mod fault;
pub mod history;
pub mod memory;
pub mod net;
pub mod ratio;
pub mod report;
pub mod rng;
pub mod run;
pub mod runtime;
pub mod scenario;
pub mod shrink;
pub mod swarm;
pub mod workload;

//! The applications that drive the cluster: producers sending the scenario's messages, the
//! operator's admin tool (queries by key), and the auditor that reads everything back at the
//! end. They are nodes like any other, built on the
//! model's client library.

pub mod auditor;
pub mod consumer;
pub mod operator;
pub mod producer;
pub mod roles;
pub mod transaction;

pub use auditor::{AuditTarget, Auditor, Watched};
pub use consumer::{ConsumerApp, ListenerSpec};
pub use producer::{ProducerApp, ProducerWorkload};

/// The applications' timers, packed into the model's opaque `Timer::App(u64)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum App {
    SendNext,
    RetryQueue(u32),
    Watch,
    /// A producer's local transaction of this sequence number returns.
    LocalTransaction(u32),
    /// The operator's query round of this index is due.
    Query(u32),
}

impl App {
    fn encode(self) -> u64 {
        match self {
            App::SendNext => 0,
            App::RetryQueue(index) => (1 << 32) | u64::from(index),
            App::Watch => 2 << 32,
            App::LocalTransaction(seq) => (3 << 32) | u64::from(seq),
            App::Query(round) => (4 << 32) | u64::from(round),
        }
    }

    fn decode(code: u64) -> Option<App> {
        match code >> 32 {
            0 => Some(App::SendNext),
            1 => Some(App::RetryQueue(code as u32)),
            2 => Some(App::Watch),
            3 => Some(App::LocalTransaction(code as u32)),
            4 => Some(App::Query(code as u32)),
            _ => None,
        }
    }
}

fn app_timer(app: App) -> model::timer::Timer {
    model::timer::Timer::App(app.encode())
}

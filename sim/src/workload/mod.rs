//! The applications that drive the cluster: producers sending the scenario's messages, and the
//! auditor that reads everything back at the end. They are nodes like any other, built on the
//! model's client library.

pub mod auditor;
pub mod producer;

pub use auditor::{AuditTarget, Auditor};
pub use producer::{ProducerApp, ProducerWorkload};

/// The applications' timers, packed into the model's opaque `Timer::App(u64)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum App {
    SendNext,
    RetryQueue(u32),
}

impl App {
    fn encode(self) -> u64 {
        match self {
            App::SendNext => 0,
            App::RetryQueue(index) => (1 << 32) | u64::from(index),
        }
    }

    fn decode(code: u64) -> Option<App> {
        match code >> 32 {
            0 => Some(App::SendNext),
            1 => Some(App::RetryQueue(code as u32)),
            _ => None,
        }
    }
}

fn app_timer(app: App) -> model::timer::Timer {
    model::timer::Timer::App(app.encode())
}

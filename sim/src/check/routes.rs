//! Route figures: how fast name servers drop a broker, and clients' routes follow.
//!
//! - `removal_after_kill`: from a broker process's kill to a name server dropping it because
//!   its connection closed.
//! - `removal_after_silence`: from a broker's last registration reaching a name server to that
//!   name server dropping it for silence (RocketMQ: more than 120 s, checked every 10 s).
//! - `route_catch_up`: from the name server that answered a client dropping a broker to the
//!   client's cached route dropping it (one refresh interval, 30 s, at most).
//!
//! The samples are measured as the index folds the history (`index::routes`).

use super::index::Index;
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct RouteFigures {
    pub removal_after_kill_ms: Vec<u64>,
    pub removal_after_silence_ms: Vec<u64>,
    pub route_catch_up_ms: Vec<u64>,
}

pub(super) fn judge(index: &Index<'_>) -> RouteFigures {
    let facts = &index.routes;
    RouteFigures {
        removal_after_kill_ms: facts.removal_after_kill_ms.clone(),
        removal_after_silence_ms: facts.removal_after_silence_ms.clone(),
        route_catch_up_ms: facts.route_catch_up_ms.clone(),
    }
}

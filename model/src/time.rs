//! Simulated time as the model sees it: whole milliseconds since the run began.
//!
//! RocketMQ reasons in milliseconds everywhere (timeouts, intervals, timestamps), so the model
//! does too. Durations are plain `u64` fields whose names end in `_ms`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An instant of simulated time, in milliseconds since the start of the run.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(u64);

impl Time {
    pub const ZERO: Time = Time(0);

    pub const fn from_ms(ms: u64) -> Time {
        Time(ms)
    }

    pub const fn as_ms(self) -> u64 {
        self.0
    }

    /// This instant moved `ms` milliseconds later.
    pub const fn plus_ms(self, ms: u64) -> Time {
        Time(self.0 + ms)
    }

    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub const fn ms_since(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Time {
    /// Seconds with millisecond precision, e.g. `12.345s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

/// Broker and client clocks read `WALL_CLOCK_EPOCH_MS + now` (ms since the Unix epoch), so
/// stored timestamps look like real ones and are never 0 (RocketMQ treats 0 as "unset").
pub const WALL_CLOCK_EPOCH_MS: u64 = 1_700_000_000_000;

impl Time {
    /// What a node's wall clock shows at this instant.
    pub const fn wall_clock_ms(self) -> u64 {
        WALL_CLOCK_EPOCH_MS + self.0
    }

    /// What a wall clock standing `offset_ms` from true time shows at this instant.
    pub const fn wall_clock_off_by(self, offset_ms: i64) -> u64 {
        self.wall_clock_ms().saturating_add_signed(offset_ms)
    }
}

/// Formats a span of milliseconds the way reports show it (`1.500s`, `250ms`).
pub fn format_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_seconds_with_milliseconds() {
        assert_eq!(Time::from_ms(12_345).to_string(), "12.345s");
        assert_eq!(Time::from_ms(7).to_string(), "0.007s");
        assert_eq!(format_ms(250), "250ms");
        assert_eq!(format_ms(1500), "1.500s");
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Time::from_ms(100);
        assert_eq!(t.plus_ms(50).ms_since(t), 50);
        assert_eq!(t.ms_since(t.plus_ms(50)), 0);
    }
}

//! Latency fault tolerance (`MQFaultStrategy`, `LatencyFaultToleranceImpl`): with
//! `sendLatencyFaultEnable`, a broker that answered slowly or failed is avoided for a while.

use crate::time::Time;
use std::collections::BTreeMap;

/// 4.9.x thresholds: a call taking at least `LATENCY_MAX_MS[i]` makes the broker unavailable
/// for `NOT_AVAILABLE_MS[i]`; a failure counts as 30 s.
const LATENCY_MAX_MS: [u64; 7] = [50, 100, 550, 1_000, 2_000, 3_000, 15_000];
const NOT_AVAILABLE_MS: [u64; 7] = [0, 0, 30_000, 60_000, 120_000, 180_000, 600_000];
const ISOLATION_LATENCY_MS: u64 = 30_000;

#[derive(Clone, Debug)]
struct FaultItem {
    latency_ms: u64,
    available_from: Time,
}

#[derive(Clone, Debug, Default)]
pub struct LatencyFaultTolerance {
    items: BTreeMap<String, FaultItem>,
    which_item_worst: u64,
}

impl LatencyFaultTolerance {
    /// `updateFaultItem`: records a call's latency, or a failure (`isolation`).
    pub fn update(&mut self, broker: &str, now: Time, latency_ms: u64, isolation: bool) {
        let latency_ms = if isolation {
            ISOLATION_LATENCY_MS
        } else {
            latency_ms
        };
        let duration = LATENCY_MAX_MS
            .iter()
            .zip(NOT_AVAILABLE_MS)
            .rev()
            .find(|(max, _)| latency_ms >= **max)
            .map_or(0, |(_, duration)| duration);
        self.items.insert(
            broker.to_string(),
            FaultItem {
                latency_ms,
                available_from: now.plus_ms(duration),
            },
        );
    }

    pub fn is_available(&self, broker: &str, now: Time) -> bool {
        self.items
            .get(broker)
            .is_none_or(|item| now >= item.available_from)
    }

    /// `pickOneAtLeast`: the least bad broker, rotating among the better half.
    pub fn pick_one_at_least(&mut self, now: Time) -> Option<String> {
        let mut items: Vec<(&String, &FaultItem)> = self.items.iter().collect();
        items.sort_by_key(|(_, item)| {
            (
                now < item.available_from,
                item.latency_ms,
                item.available_from,
            )
        });
        let half = items.len() / 2;
        let pick = if half == 0 {
            items.first()
        } else {
            self.which_item_worst += 1;
            items.get((self.which_item_worst % half as u64) as usize)
        };
        pick.map(|(name, _)| (*name).clone())
    }

    pub fn remove(&mut self, broker: &str) {
        self.items.remove(broker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_or_failed_brokers_are_avoided_for_a_while() {
        let mut tolerance = LatencyFaultTolerance::default();
        let now = Time::from_ms(1_000);
        tolerance.update("fast", now, 20, false);
        tolerance.update("slow", now, 600, false);
        tolerance.update("dead", now, 5, true);
        assert!(tolerance.is_available("fast", now));
        assert!(!tolerance.is_available("slow", now.plus_ms(29_999)));
        assert!(tolerance.is_available("slow", now.plus_ms(30_000)));
        assert!(!tolerance.is_available("dead", now.plus_ms(599_999)));
        assert_eq!(tolerance.pick_one_at_least(now).as_deref(), Some("fast"));
    }
}

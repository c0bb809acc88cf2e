//! The diagram's arrows: every packet sent, as compact rows, thinned evenly per request code
//! when a run sent more than the page can draw. Dropped packets are kept first: they are rare
//! and they are what a reader looks for.

use crate::net::Direction;
use crate::runtime::PacketRecord;
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many arrows are embedded.
pub const MAX_ARROWS: usize = 40_000;
/// Of which at most this many dropped packets.
const MAX_DROPPED: usize = 10_000;

#[derive(Serialize, Default)]
pub struct Arrows {
    /// Request code names; a row's `code` indexes this.
    pub codes: Vec<&'static str>,
    /// `[sent_ms, arrives_ms or -1 if dropped, from, to, code, 1 if a response]`.
    pub rows: Vec<[i64; 6]>,
    /// Packets the run sent, and how many of them were dropped.
    pub total: usize,
    pub dropped: usize,
}

pub fn arrows(packets: &[PacketRecord]) -> Arrows {
    thinned(packets, MAX_ARROWS)
}

/// The packets as rows, at most about `max` of them.
pub fn thinned(packets: &[PacketRecord], max: usize) -> Arrows {
    let mut codes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for p in packets {
        *codes.entry(p.code.name()).or_default() += 1;
    }
    let names: Vec<&'static str> = codes.keys().copied().collect();
    let index = |name: &str| names.iter().position(|n| *n == name).unwrap_or(0) as i64;
    let dropped = packets.iter().filter(|p| p.arrives.is_none()).count();
    let max_dropped = MAX_DROPPED.min(max / 4);
    let dropped_stride = dropped.div_ceil(max_dropped.max(1)).max(1);
    let strides = strides(&codes, max - dropped.min(max_dropped));
    let mut seen_per_code: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut seen_dropped: usize = 0;
    let mut rows = Vec::new();
    for p in packets {
        let keep = match p.arrives {
            None => {
                seen_dropped += 1;
                (seen_dropped - 1).is_multiple_of(dropped_stride)
            }
            Some(_) => {
                let seen = seen_per_code.entry(p.code.name()).or_default();
                *seen += 1;
                (*seen - 1).is_multiple_of(strides[p.code.name()])
            }
        };
        if keep {
            rows.push([
                p.sent.as_ms() as i64,
                p.arrives.map_or(-1, |a| a.as_ms() as i64),
                i64::from(p.from.0),
                i64::from(p.to.0),
                index(p.code.name()),
                i64::from(p.direction == Direction::Response),
            ]);
        }
    }
    Arrows {
        codes: names,
        rows,
        total: packets.len(),
        dropped,
    }
}

/// Per code, keep one packet in `stride`: rare codes whole, frequent ones thinned to share
/// `budget` evenly.
fn strides(counts: &BTreeMap<&'static str, usize>, budget: usize) -> BTreeMap<&'static str, usize> {
    let mut sorted: Vec<(&'static str, usize)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
    sorted.sort_by_key(|(name, count)| (*count, *name));
    let mut left = budget;
    let mut out = BTreeMap::new();
    for (i, (name, count)) in sorted.iter().enumerate() {
        let share = (left / (sorted.len() - i)).max(1);
        let stride = count.div_ceil(share).max(1);
        left = left.saturating_sub(count.div_ceil(stride));
        out.insert(*name, stride);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_codes_stay_whole_and_frequent_ones_share_the_rest() {
        let counts = BTreeMap::from([("A", 10), ("B", 1_000_000), ("C", 50_000)]);
        let strides = strides(&counts, 1000);
        assert_eq!(strides["A"], 1);
        let kept: usize = counts.iter().map(|(k, v)| v.div_ceil(strides[k])).sum();
        assert!(kept <= 1000 + 3, "kept {kept}");
    }
}

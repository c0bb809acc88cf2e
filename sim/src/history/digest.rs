//! The run's trace digest: FNV-1a over everything the run did, in order.
//!
//! Fed through `std::hash::Hash` impls of plain data (no `usize`, no pointers), so the same run
//! gives the same digest in any process on the same architecture.

use crate::rng::{FNV_OFFSET, FNV_PRIME};
use std::hash::{Hash, Hasher};

#[derive(Clone, Debug)]
pub struct Digest {
    hash: u64,
    items: u64,
}

impl Default for Digest {
    fn default() -> Digest {
        Digest {
            hash: FNV_OFFSET,
            items: 0,
        }
    }
}

impl Digest {
    /// Adds one item of the trace.
    pub fn add(&mut self, item: &impl Hash) {
        item.hash(self);
        self.items += 1;
    }

    /// How many items were added.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// The digest as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

impl Hasher for Digest {
    fn finish(&self) -> u64 {
        self.hash
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.hash ^= u64::from(*byte);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matters() {
        let mut a = Digest::default();
        a.add(&1u64);
        a.add(&2u64);
        let mut b = Digest::default();
        b.add(&2u64);
        b.add(&1u64);
        assert_ne!(a.hex(), b.hex());
        assert_eq!(a.items(), 2);
    }
}

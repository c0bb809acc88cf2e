//! Named random streams split from the run's seed.
//!
//! Every subsystem draws from its own stream (`network`, `disk`, `faults`, `node/<name>`, ...),
//! so adding a draw in one place never shifts the decisions of another. A stream is ChaCha8
//! keyed by the seed, on the ChaCha stream number derived from the stream's name.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A deterministic random stream.
#[derive(Clone, Debug)]
pub struct Stream {
    rng: ChaCha8Rng,
}

impl Stream {
    /// The stream called `name` of the run with `seed`.
    pub fn new(seed: u64, name: &str) -> Stream {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(fnv1a(name.as_bytes()));
        Stream { rng }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform draw from `0..bound` (`bound` > 0), without modulo bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below needs a positive bound");
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let draw = self.next_u64();
            if draw < zone {
                return draw % bound;
            }
        }
    }

    /// A uniform draw from `min..=max`.
    pub fn between(&mut self, min: u64, max: u64) -> u64 {
        assert!(min <= max, "between needs min <= max");
        min + self.below(max - min + 1)
    }

    /// True with the probability `ratio`.
    pub fn chance(&mut self, ratio: crate::ratio::Ratio) -> bool {
        ratio.numerator() > 0 && self.below(ratio.denominator()) < ratio.numerator()
    }
}

/// FNV-1a, 64 bit: the project's stable hash for names and digests.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = FNV_OFFSET;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_name_give_the_same_stream() {
        let mut a = Stream::new(7, "network");
        let mut b = Stream::new(7, "network");
        assert_eq!(
            (0..8).map(|_| a.next_u64()).collect::<Vec<_>>(),
            (0..8).map(|_| b.next_u64()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn names_and_seeds_separate_streams() {
        let first = |seed, name| Stream::new(seed, name).next_u64();
        assert_ne!(first(7, "network"), first(7, "disk"));
        assert_ne!(first(7, "network"), first(8, "network"));
    }

    #[test]
    fn draws_stay_in_range() {
        let mut stream = Stream::new(1, "t");
        for _ in 0..1000 {
            assert!((3..=5).contains(&stream.between(3, 5)));
            assert!(stream.below(7) < 7);
        }
    }
}

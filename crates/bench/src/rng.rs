//! A small deterministic random number generator (SplitMix64), so that a seed gives the same data
//! on every machine, database and Rust version — no dependency whose algorithm may change.

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit state, a Weyl step and a mixing function.
#[derive(Clone, Debug)]
pub struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for one record: the same (seed, stream, index) always gives the same
    /// values, whatever was generated before.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Rng {
        Rng(mix(seed ^ mix(stream.wrapping_mul(GOLDEN) ^ mix(index))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-shift; the bias is below 2^-32 for the
    /// small ranges used here.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An index chosen with the given weights (not all zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut r = self.below(total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if r < u64::from(*w) {
                return i;
            }
            r -= u64::from(*w);
        }
        weights.len().saturating_sub(1)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A bijection of `0..size` (an affine map modulo `size`): distinct inputs below `size` give
/// distinct outputs, which is how names, phone numbers and mobiles stay unique without a lookup.
#[derive(Clone, Copy, Debug)]
pub struct Permutation {
    size: u64,
    mul: u64,
    add: u64,
}

impl Permutation {
    pub fn new(size: u64, seed: u64, stream: u64) -> Permutation {
        let size = size.max(1);
        let mut r = Rng::for_item(seed, stream, 0);
        // A multiplier near the golden ratio of the size scatters neighbours far apart.
        let mut mul = (size as f64 * 0.618_033_988_75) as u64 | 1;
        mul = mul.max(1) % size;
        while gcd(mul.max(1), size) != 1 {
            mul += 1;
        }
        Permutation {
            size,
            mul: mul.max(1),
            add: r.below(size),
        }
    }

    pub fn apply(&self, i: u64) -> u64 {
        ((u128::from(i % self.size) * u128::from(self.mul) + u128::from(self.add))
            % u128::from(self.size)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let a: Vec<u64> = (0..5).map(|i| Rng::for_item(7, 1, i).next_u64()).collect();
        let b: Vec<u64> = (0..5).map(|i| Rng::for_item(7, 1, i).next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(
            Rng::for_item(7, 1, 0).next_u64(),
            Rng::for_item(8, 1, 0).next_u64()
        );
        // The reference value of SplitMix64 seeded with 0 (first output).
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn permutations_are_bijections() {
        for size in [1, 2, 10, 97, 1000, 1024, 12_345] {
            let p = Permutation::new(size, 42, 3);
            let mut seen = vec![false; size as usize];
            for i in 0..size {
                let v = p.apply(i) as usize;
                assert!(!seen[v], "size {size}: {v} twice");
                seen[v] = true;
            }
        }
    }

    #[test]
    fn weighted_and_below_stay_in_range() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
            assert!(r.weighted(&[1, 0, 3]) != 1);
        }
    }
}

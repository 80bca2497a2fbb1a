//! Durations of one source: count, total, maximum and quantiles, in constant
//! memory per source whatever the number of occurrences.
//!
//! The first [`EXACT`] durations are kept as they are, so small samples (the
//! usual case for pauses) get exact medians; beyond that a log-linear
//! histogram with 16 buckets per power of two (about 6 % wide) answers.

/// How many durations are kept exactly before only the histogram answers.
pub const EXACT: usize = 64;

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

/// Running statistics of durations in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Durations {
    count: u64,
    total_us: u64,
    max_us: u64,
    exact: Vec<u32>,
    buckets: Vec<u32>,
}

/// The bucket of a duration.
fn bucket(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let msb = 63 - us.leading_zeros();
    let shift = msb - SUB_BITS;
    let mantissa = (us >> shift) & (SUB - 1);
    ((u64::from(msb - SUB_BITS + 1) << SUB_BITS) + mantissa) as usize
}

/// The lowest duration of bucket `index` and its width.
fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB {
        return (index, 1);
    }
    let octave = (index >> SUB_BITS) - 1;
    let mantissa = index & (SUB - 1);
    let shift = octave as u32;
    (((SUB + mantissa) << shift), 1 << shift)
}

impl Durations {
    /// Adds one duration.
    pub fn add(&mut self, us: u64) {
        self.count += 1;
        self.total_us = self.total_us.saturating_add(us);
        self.max_us = self.max_us.max(us);
        if self.exact.len() < EXACT {
            self.exact.push(u32::try_from(us).unwrap_or(u32::MAX));
        }
        let b = bucket(us);
        if self.buckets.len() <= b {
            self.buckets.resize(b + 1, 0);
        }
        if let Some(slot) = self.buckets.get_mut(b) {
            *slot = slot.saturating_add(1);
        }
    }

    /// How many durations were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their sum, in microseconds.
    pub fn total_us(&self) -> u64 {
        self.total_us
    }

    /// The longest, in microseconds.
    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// The `q` quantile (0..=1), nearest rank, in microseconds; `None`
    /// before the first duration.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if self.count as usize <= self.exact.len() {
            let mut sorted = self.exact.clone();
            sorted.sort_unstable();
            return sorted
                .get(rank as usize - 1)
                .map(|&v| u64::from(v).min(self.max_us));
        }
        let mut seen = 0u64;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                let (low, width) = bucket_range(i);
                return Some((low + width / 2).min(self.max_us));
            }
        }
        Some(self.max_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut previous = 0;
        for us in [
            0u64,
            1,
            15,
            16,
            17,
            31,
            32,
            100,
            1000,
            50_000,
            3_600_000_000,
        ] {
            let b = bucket(us);
            assert!(b >= previous, "{us}");
            previous = b;
            let (low, width) = bucket_range(b);
            assert!(low <= us && us < low + width, "{us} in [{low}, +{width})");
        }
    }

    #[test]
    fn small_samples_are_exact() {
        let mut d = Durations::default();
        assert_eq!(d.quantile_us(0.5), None);
        for us in [300_000, 100_000, 200_000] {
            d.add(us);
        }
        assert_eq!(d.count(), 3);
        assert_eq!(d.total_us(), 600_000);
        assert_eq!(d.max_us(), 300_000);
        assert_eq!(d.quantile_us(0.5), Some(200_000));
        assert_eq!(d.quantile_us(0.95), Some(300_000));
        assert_eq!(d.quantile_us(0.0), Some(100_000));
    }

    #[test]
    fn large_samples_are_within_the_bucket_width() {
        let mut d = Durations::default();
        for us in 1..=10_000u64 {
            d.add(us * 10);
        }
        let p50 = d.quantile_us(0.5).unwrap_or(0) as f64;
        let p95 = d.quantile_us(0.95).unwrap_or(0) as f64;
        assert!((p50 / 50_000.0 - 1.0).abs() < 0.07, "{p50}");
        assert!((p95 / 95_000.0 - 1.0).abs() < 0.07, "{p95}");
        assert_eq!(d.quantile_us(1.0), Some(100_000));
    }
}

//! Robust statistics over a handful of runs.
//!
//! Start-up times are skewed and noisy (a loaded machine, a cold cache), and
//! a profile has ten runs, not ten thousand, so everything here is
//! distribution-free: medians and percentiles, the median absolute deviation
//! as the spread, an order-statistic confidence interval of the median,
//! outliers by the modified z-score, and the Mann-Whitney U test (exact for
//! small samples without ties) with Benjamini-Hochberg control of the false
//! discovery rate when many nodes are tested at once.

/// Sorts a copy of `samples`, dropping NaNs.
fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// The `q`-quantile (0..=1) of sorted data, linearly interpolated (R's type 7).
fn quantile_sorted(v: &[f64], q: f64) -> Option<f64> {
    match v.len() {
        0 => None,
        1 => v.first().copied(),
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let (a, b) = (*v.get(lo)?, *v.get(hi)?);
            Some(a + (h - lo as f64) * (b - a))
        }
    }
}

/// The median of `samples`, or `None` when there are none.
pub fn median(samples: &[f64]) -> Option<f64> {
    quantile_sorted(&sorted(samples), 0.5)
}

/// The `p`-th percentile (0..=100) of `samples`, linearly interpolated.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    quantile_sorted(&sorted(samples), p / 100.0)
}

/// The median absolute deviation from the median (unscaled).
pub fn mad(samples: &[f64]) -> Option<f64> {
    let m = median(samples)?;
    let deviations: Vec<f64> = samples.iter().map(|x| (x - m).abs()).collect();
    median(&deviations)
}

/// A distribution-free confidence interval of the median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianCi {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// The interval's actual coverage (at least the requested one when the
    /// sample is large enough, otherwise that of `[min, max]`).
    pub coverage: f64,
}

/// Binomial(n, 1/2) cumulative probability P(X <= k).
fn binom_half_cdf(n: usize, k: usize) -> f64 {
    // Sum of C(n, i) / 2^n, computed in floating point without overflow.
    let mut term = 0.5f64.powi(n as i32); // C(n, 0) / 2^n
    let mut total = term;
    for i in 1..=k.min(n) {
        term *= (n - i + 1) as f64 / i as f64;
        total += term;
    }
    total.min(1.0)
}

/// The order-statistic confidence interval of the median at `level` (e.g.
/// 0.95): the widest symmetric pair of order statistics `(x_(j), x_(n-j+1))`
/// whose coverage `1 - 2 P(X < j)` for X ~ Binomial(n, 1/2) is at least
/// `level`.  With fewer than six samples no pair reaches 95 %, and the
/// interval is `[min, max]` with its real (lower) coverage.
pub fn median_ci(samples: &[f64], level: f64) -> Option<MedianCi> {
    let v = sorted(samples);
    let n = v.len();
    if n == 0 {
        return None;
    }
    // j is 1-based: the interval is [x_(j), x_(n-j+1)] = [v[j-1], v[n-j]],
    // with coverage 1 - 2 P(X <= j-1).
    let coverage_of = |j: usize| 1.0 - 2.0 * binom_half_cdf(n, j - 1);
    let mut best_j = 1;
    for j in 2..=n.div_ceil(2) {
        if coverage_of(j) >= level {
            best_j = j;
        } else {
            break;
        }
    }
    let coverage = coverage_of(best_j);
    Some(MedianCi {
        low: *v.get(best_j - 1)?,
        high: *v.get(n - best_j)?,
        coverage: coverage.max(0.0),
    })
}

/// Indices of outliers by the modified z-score (Iglewicz and Hoaglin):
/// `0.6745 |x - median| / MAD > 3.5`.  When the MAD is zero (most samples
/// equal), a sample is an outlier when it is more than 20 % away from the
/// median.  Needs at least four samples.
pub fn outliers(samples: &[f64]) -> Vec<usize> {
    if samples.len() < 4 {
        return Vec::new();
    }
    let (Some(m), Some(d)) = (median(samples), mad(samples)) else {
        return Vec::new();
    };
    samples
        .iter()
        .enumerate()
        .filter(|(_, x)| {
            if d > 0.0 {
                0.6745 * (*x - m).abs() / d > 3.5
            } else {
                m.abs() > 0.0 && (*x - m).abs() > 0.2 * m.abs()
            }
        })
        .map(|(i, _)| i)
        .collect()
}

/// The one-sided p-value of the Mann-Whitney U test for "values in `b` tend
/// to be larger than values in `a`".
///
/// Exact (by counting rank arrangements) when there are no ties and both
/// samples have at most 30 values; otherwise the normal approximation with
/// tie and continuity corrections.  Returns 1.0 when a sample is empty.
pub fn mann_whitney_greater(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    // U counts the pairs where b beats a (ties count one half).
    let mut u: f64 = 0.0;
    let mut ties = false;
    for x in a {
        for y in b {
            if y > x {
                u += 1.0;
            } else if y == x {
                u += 0.5;
                ties = true;
            }
        }
    }
    // Ties within a sample matter for the normal approximation too.
    let mut all: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
    all.sort_by(|x, y| x.total_cmp(y));
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all.get(j) == all.get(i) {
            j += 1;
        }
        let t = (j - i) as f64;
        if t > 1.0 {
            ties = true;
            tie_term += t * t * t - t;
        }
        i = j;
    }
    if !ties && n1 <= 30 && n2 <= 30 {
        // P(U >= u) under H0, from the distribution of the number of pairs.
        let u_int = u.round() as usize;
        let tail = with_u_tail(n1, n2, |tail| tail.get(u_int).copied().unwrap_or(0.0));
        return tail.clamp(0.0, 1.0);
    }
    let (fn1, fn2) = (n1 as f64, n2 as f64);
    let n = fn1 + fn2;
    let mean = fn1 * fn2 / 2.0;
    let var = fn1 * fn2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        return if u > mean { 0.0 } else { 1.0 };
    }
    let z = (u - mean - 0.5) / var.sqrt();
    1.0 - normal_cdf(z)
}

thread_local! {
    /// Upper tails of the distribution of U by sample sizes: a comparison
    /// tests every node of two profiles with the same sizes, and computing
    /// the distribution for 30 runs takes about a million steps.
    static U_TAILS: std::cell::RefCell<std::collections::HashMap<(usize, usize), Vec<f64>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Calls `f` with `P(U >= u)` for u = 0..=n1*n2, computed once per sizes.
fn with_u_tail<R>(n1: usize, n2: usize, f: impl FnOnce(&[f64]) -> R) -> R {
    U_TAILS.with(|cell| {
        let mut tails = cell.borrow_mut();
        let tail = tails.entry((n1, n2)).or_insert_with(|| {
            let dist = u_distribution(n1, n2);
            let total: f64 = dist.iter().sum();
            let mut tail = vec![0.0; dist.len()];
            let mut acc = 0.0;
            for (u, count) in dist.iter().enumerate().rev() {
                acc += count;
                if let Some(cell) = tail.get_mut(u) {
                    *cell = acc / total;
                }
            }
            tail
        });
        f(tail)
    })
}

/// Frequencies of U = 0..=n1*n2 for samples of sizes n1 and n2 without ties.
fn u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    // f[i][j][u]: arrangements of i values of one sample and j of the other
    // with statistic u.  Rolling over i keeps memory at O(n2 * n1 * n2).
    let max_u = n1 * n2;
    let mut prev: Vec<Vec<f64>> = (0..=n2)
        .map(|_| {
            let mut row = vec![0.0; max_u + 1];
            if let Some(first) = row.first_mut() {
                *first = 1.0;
            }
            row
        })
        .collect();
    for i in 1..=n1 {
        let mut cur: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
        if let Some(row) = cur.first_mut() {
            if let Some(first) = row.first_mut() {
                *first = 1.0;
            }
        }
        for j in 1..=n2 {
            for u in 0..=max_u {
                // The largest value is from sample b (adds i pairs) or from a.
                let from_b = if u >= i {
                    cur.get(j - 1).and_then(|r| r.get(u - i)).copied()
                } else {
                    None
                };
                let from_a = prev.get(j).and_then(|r| r.get(u)).copied();
                let value = from_b.unwrap_or(0.0) + from_a.unwrap_or(0.0);
                if let Some(cell) = cur.get_mut(j).and_then(|r| r.get_mut(u)) {
                    *cell = value;
                }
            }
        }
        prev = cur;
    }
    prev.pop().unwrap_or_default()
}

/// The standard normal cumulative distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' erfcc, |error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Benjamini-Hochberg: which of `p_values` are discoveries at false
/// discovery rate `q`.
pub fn benjamini_hochberg(p_values: &[f64], q: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| {
        let pi = p_values.get(i).copied().unwrap_or(1.0);
        let pj = p_values.get(j).copied().unwrap_or(1.0);
        pi.total_cmp(&pj)
    });
    let mut cutoff = 0;
    for (rank, &i) in order.iter().enumerate() {
        let p = p_values.get(i).copied().unwrap_or(1.0);
        if p <= q * (rank + 1) as f64 / m as f64 {
            cutoff = rank + 1;
        }
    }
    let mut out = vec![false; m];
    for &i in order.iter().take(cutoff) {
        if let Some(o) = out.get_mut(i) {
            *o = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for noise (xorshift).
    pub(crate) struct Rng(u64);
    impl Rng {
        pub(crate) fn new(seed: u64) -> Self {
            Rng(seed.max(1))
        }
        pub(crate) fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Roughly normal (sum of uniforms).
        pub(crate) fn normal(&mut self) -> f64 {
            (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
        }
    }

    #[test]
    fn median_percentile_and_mad() {
        let xs = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(median(&xs), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), Some(2.5));
        assert_eq!(percentile(&xs, 100.0), Some(5.0));
        assert_eq!(percentile(&xs, 0.0), Some(1.0));
        assert_eq!(percentile(&xs, 90.0), Some(4.6));
        assert_eq!(mad(&xs), Some(1.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn median_ci_grows_with_level_and_covers_the_median() {
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        let ci = median_ci(&xs, 0.95).unwrap();
        assert!(ci.low <= 10.5 && ci.high >= 10.5);
        assert!(ci.coverage >= 0.95, "{ci:?}");
        // For n = 20 the 95 % interval is (x_6, x_15).
        assert_eq!((ci.low, ci.high), (6.0, 15.0));
        // Few samples: [min, max] with its true coverage.
        let small = median_ci(&[3.0, 1.0, 2.0], 0.95).unwrap();
        assert_eq!((small.low, small.high), (1.0, 3.0));
        assert!((small.coverage - 0.75).abs() < 1e-9);
    }

    #[test]
    fn outliers_are_found_by_the_modified_z_score() {
        let xs = [100.0, 102.0, 99.0, 101.0, 100.5, 180.0, 98.5];
        assert_eq!(outliers(&xs), vec![5]);
        assert!(outliers(&[100.0, 101.0, 99.0, 100.0]).is_empty());
        assert!(outliers(&[1.0, 100.0]).is_empty(), "too few samples");
    }

    #[test]
    fn mann_whitney_exact_matches_known_values() {
        // Complete separation, 3 vs 3: p = 1 / C(6, 3) = 0.05.
        let p = mann_whitney_greater(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert!((p - 0.05).abs() < 1e-12, "{p}");
        // 5 vs 5: 1 / 252.
        let p = mann_whitney_greater(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 1.0 / 252.0).abs() < 1e-12, "{p}");
        // The other direction is not significant.
        let p = mann_whitney_greater(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0]);
        assert!((p - 1.0).abs() < 1e-12, "{p}");
        // Interleaved samples: about one half.
        let p = mann_whitney_greater(&[1.0, 3.0, 5.0, 7.0], &[2.0, 4.0, 6.0, 8.0]);
        assert!(p > 0.2 && p < 0.5, "{p}");
    }

    #[test]
    fn mann_whitney_exact_reaches_thirty_runs() {
        // Complete separation, 30 vs 30: p = 1 / C(60, 30), from the
        // distribution computed once for these sizes.
        let a: Vec<f64> = (0..30).map(f64::from).collect();
        let b: Vec<f64> = (100..130).map(f64::from).collect();
        let expected = 1.0 / 118_264_581_564_861_424.0;
        for _ in 0..3 {
            let p = mann_whitney_greater(&a, &b);
            assert!((p / expected - 1.0).abs() < 1e-9, "{p}");
        }
        assert!((mann_whitney_greater(&b, &a) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn mann_whitney_normal_approximation_handles_ties_and_large_samples() {
        let a: Vec<f64> = (0..40).map(|i| (i % 10) as f64).collect();
        let b: Vec<f64> = (0..40).map(|i| (i % 10) as f64 + 5.0).collect();
        assert!(mann_whitney_greater(&a, &b) < 1e-6);
        assert!(mann_whitney_greater(&a, &a) > 0.4);
        assert!(mann_whitney_greater(&[1.0, 1.0], &[1.0, 1.0]) > 0.4);
    }

    #[test]
    fn normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.644_854) - 0.05).abs() < 1e-6);
    }

    #[test]
    fn benjamini_hochberg_controls_discoveries() {
        let flags = benjamini_hochberg(&[0.001, 0.02, 0.03, 0.9], 0.05);
        assert_eq!(flags, vec![true, true, true, false]);
        // 0.04 alone would pass, but not as the second of four.
        let flags = benjamini_hochberg(&[0.001, 0.04, 0.03, 0.9], 0.05);
        assert_eq!(flags, vec![true, false, false, false]);
        let flags = benjamini_hochberg(&[0.02, 0.5, 0.6, 0.7], 0.05);
        assert_eq!(flags, vec![false, false, false, false]);
        assert!(benjamini_hochberg(&[], 0.05).is_empty());
    }

    #[test]
    fn pure_noise_is_rarely_significant() {
        let mut rng = Rng::new(42);
        let mut significant = 0;
        for _ in 0..400 {
            let a: Vec<f64> = (0..10).map(|_| 100.0 + 5.0 * rng.normal()).collect();
            let b: Vec<f64> = (0..10).map(|_| 100.0 + 5.0 * rng.normal()).collect();
            if mann_whitney_greater(&a, &b) < 0.05 {
                significant += 1;
            }
        }
        // About 5 % by construction.
        assert!(significant < 40, "{significant}");
    }
}

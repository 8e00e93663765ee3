//! Paired comparisons of a sampler against the baseline: a seeded randomisation (sign-flip)
//! test and a bootstrap confidence interval of the mean difference, plus Holm's correction for
//! several comparisons.
//!
//! The unit of pairing is (seed, query): the same seed gives both samplers the same initial
//! weights, and the same held-out query is ranked by both models. The randomisation test flips
//! the sign of each pair's difference (under the null hypothesis the sampler labels are
//! exchangeable within a pair). The bootstrap is hierarchical, resampling seeds and then queries
//! within each seed, so its interval carries the seed-to-seed noise as well as the query noise.

use sampler_api::rng::Rng;

/// Randomisation rounds of the sign-flip test; the smallest reportable p is 1 / (ROUNDS + 1).
pub const PERMUTATION_ROUNDS: usize = 10_000;
/// Bootstrap resamples for the confidence interval.
pub const BOOTSTRAP_ROUNDS: usize = 2_000;

/// Per-pair differences (sampler minus baseline), grouped by seed: `differences[s][q]`.
#[derive(Debug, Clone)]
pub struct PairedDifferences {
    pub by_seed: Vec<Vec<f64>>,
}

/// The outcome of one paired comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTest {
    /// Mean difference over all (seed, query) pairs: the MRR difference when the values are
    /// reciprocal ranks.
    pub mean_difference: f64,
    /// Hierarchical bootstrap 95% percentile interval of the mean difference.
    pub ci95: (f64, f64),
    /// Two-sided p-value of the sign-flip randomisation test (with the +1 correction, so never 0).
    pub p_value: f64,
    /// Seeds on which the sampler's mean beats the baseline's.
    pub seeds_won: usize,
    pub seeds: usize,
}

impl PairedDifferences {
    fn pairs(&self) -> impl Iterator<Item = f64> + '_ {
        self.by_seed.iter().flatten().copied()
    }

    fn count(&self) -> usize {
        self.by_seed.iter().map(Vec::len).sum()
    }

    /// Runs both procedures with generators derived from `seed` (results are reproducible).
    pub fn test(&self, seed: u64) -> PairedTest {
        let n = self.count();
        assert!(n > 0, "a paired test needs at least one pair");
        let observed = self.pairs().sum::<f64>() / n as f64;
        PairedTest {
            mean_difference: observed,
            ci95: self.bootstrap_ci(seed),
            p_value: self.sign_flip_p(observed, seed),
            seeds_won: self
                .by_seed
                .iter()
                .filter(|d| d.iter().sum::<f64>() > 0.0)
                .count(),
            seeds: self.by_seed.len(),
        }
    }

    fn sign_flip_p(&self, observed: f64, seed: u64) -> f64 {
        let differences: Vec<f64> = self.pairs().collect();
        let n = differences.len() as f64;
        let mut rng = Rng::for_stream(seed, &[u64::from_le_bytes(*b"signflip")]);
        // A tiny tolerance keeps rounding from deciding ties with the observed statistic.
        let threshold = observed.abs() - 1e-12;
        let mut extreme = 0usize;
        for _ in 0..PERMUTATION_ROUNDS {
            let mut sum = 0.0;
            let mut bits = 0u64;
            for (index, difference) in differences.iter().enumerate() {
                if index % 64 == 0 {
                    bits = rng.next_u64();
                }
                sum += if bits & 1 == 1 {
                    *difference
                } else {
                    -*difference
                };
                bits >>= 1;
            }
            if (sum / n).abs() >= threshold {
                extreme += 1;
            }
        }
        (extreme + 1) as f64 / (PERMUTATION_ROUNDS + 1) as f64
    }

    fn bootstrap_ci(&self, seed: u64) -> (f64, f64) {
        let mut rng = Rng::for_stream(seed, &[u64::from_le_bytes(*b"bootstrp")]);
        let seeds = self.by_seed.len();
        let mut means: Vec<f64> = (0..BOOTSTRAP_ROUNDS)
            .map(|_| {
                let (mut sum, mut count) = (0.0, 0usize);
                for _ in 0..seeds {
                    let queries = &self.by_seed[rng.below(seeds)];
                    for _ in 0..queries.len() {
                        sum += queries[rng.below(queries.len())];
                    }
                    count += queries.len();
                }
                sum / count.max(1) as f64
            })
            .collect();
        means.sort_by(f64::total_cmp);
        (percentile(&means, 0.025), percentile(&means, 0.975))
    }
}

/// Linear-interpolated percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// Holm's step-down adjustment: adjusted p-values in the input order, each at most 1 and never
/// below the adjusted p-value of a smaller raw p-value.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_max: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        running_max = running_max.max(((m - rank) as f64 * p_values[index]).min(1.0));
        adjusted[index] = running_max;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_matches_a_worked_example() {
        // Raw p = 0.01, 0.04, 0.03, 0.005 (m = 4): sorted 0.005, 0.01, 0.03, 0.04 get factors
        // 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
    }

    #[test]
    fn sign_flip_p_matches_the_exact_distribution() {
        // Differences 1, 2, 3 (one seed): the 8 sign patterns give |mean| 2 (twice), 4/3 (twice),
        // 2/3 (twice) and 0 (twice, from 1 + 2 - 3 and -1 - 2 + 3). |mean| >= 2 in 2 of 8: p = 0.25.
        let p = PairedDifferences {
            by_seed: vec![vec![1.0, 2.0, 3.0]],
        }
        .test(1)
        .p_value;
        assert!((p - 0.25).abs() < 0.015, "{p}");
    }

    #[test]
    fn a_clear_gain_is_significant_and_noise_is_not() {
        let mut rng = Rng::for_stream(9, &[]);
        let gain = PairedDifferences {
            by_seed: (0..5)
                .map(|_| (0..500).map(|_| 0.05 + 0.1 * rng.normal()).collect())
                .collect(),
        }
        .test(3);
        assert!(
            gain.p_value < 0.001 && gain.ci95.0 > 0.0 && gain.seeds_won == 5,
            "{gain:?}"
        );
        let noise = PairedDifferences {
            by_seed: (0..5)
                .map(|_| (0..500).map(|_| 0.1 * rng.normal()).collect())
                .collect(),
        }
        .test(3);
        assert!(
            noise.p_value > 0.01 && noise.ci95.0 < 0.0 && noise.ci95.1 > 0.0,
            "{noise:?}"
        );
    }

    #[test]
    fn the_bootstrap_interval_widens_with_seed_noise() {
        // Same query noise, but seeds that disagree: the hierarchical interval must be wider.
        let mut rng = Rng::for_stream(4, &[]);
        let steady: Vec<Vec<f64>> = (0..5)
            .map(|_| (0..300).map(|_| 0.02 + 0.05 * rng.normal()).collect())
            .collect();
        let shifts = [-0.06, 0.1, -0.02, 0.08, 0.0];
        let shaky: Vec<Vec<f64>> = steady
            .iter()
            .zip(shifts)
            .map(|(d, s)| d.iter().map(|x| x + s).collect())
            .collect();
        let width = |by_seed: Vec<Vec<f64>>| {
            let ci = PairedDifferences { by_seed }.test(2).ci95;
            ci.1 - ci.0
        };
        assert!(width(shaky) > 3.0 * width(steady));
    }

    #[test]
    fn results_are_reproducible_for_a_seed() {
        let d = PairedDifferences {
            by_seed: vec![vec![0.1, -0.05, 0.2, 0.0], vec![0.05, 0.1]],
        };
        assert_eq!(d.test(7), d.test(7));
    }
}

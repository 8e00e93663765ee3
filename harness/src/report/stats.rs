//! Summary statistics over seeds: mean, sample standard deviation and a Student-t 95%
//! confidence interval of the mean.

/// Mean, spread and 95% CI of one metric over runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` with fewer than 2 values.
    pub std: Option<f64>,
    /// `mean ± t(0.975, n-1) * std / sqrt(n)`; `None` with fewer than 2 values.
    pub ci95: Option<(f64, f64)>,
}

impl Summary {
    /// Summarises `values` (non-empty).
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        assert!(n > 0, "a summary needs at least one value");
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Summary {
                n,
                mean,
                std: None,
                ci95: None,
            };
        }
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std = variance.sqrt();
        let half_width = t_quantile_975(n - 1) * std / (n as f64).sqrt();
        Summary {
            n,
            mean,
            std: Some(std),
            ci95: Some((mean - half_width, mean + half_width)),
        }
    }

    /// Half the CI's width, if there is a CI.
    pub fn half_width(&self) -> Option<f64> {
        self.ci95.map(|(low, high)| (high - low) / 2.0)
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (two-sided 95%).
///
/// Exact table values to 3 decimals for df 1-30, then the standard 40/60/120 rows with linear
/// interpolation in 1/df, converging to the normal 1.960.
pub fn t_quantile_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    const TAIL: [(f64, f64); 4] = [(30.0, 2.042), (40.0, 2.021), (60.0, 2.000), (120.0, 1.980)];
    assert!(df > 0, "Student's t needs at least one degree of freedom");
    if df <= 30 {
        return TABLE[df - 1];
    }
    let inverse = 1.0 / df as f64;
    for pair in TAIL.windows(2) {
        let ((df_a, t_a), (df_b, t_b)) = (pair[0], pair[1]);
        if (df as f64) <= df_b {
            let fraction = (1.0 / df_a - inverse) / (1.0 / df_a - 1.0 / df_b);
            return t_a + fraction * (t_b - t_a);
        }
    }
    let fraction = (1.0 / 120.0 - inverse) / (1.0 / 120.0);
    1.980 + fraction * (1.960 - 1.980)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_case() {
        // values 1, 2, 3, 4, 5: mean 3, variance 2.5, std 1.5811, se 0.7071, t(4) 2.776.
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.mean, 3.0);
        assert!((s.std.unwrap() - 2.5f64.sqrt()).abs() < 1e-12);
        let (low, high) = s.ci95.unwrap();
        assert!((high - 3.0 - 2.776 * 2.5f64.sqrt() / 5f64.sqrt()).abs() < 1e-12);
        assert!((3.0 - low - (high - 3.0)).abs() < 1e-12);
    }

    #[test]
    fn one_value_has_no_spread() {
        let s = Summary::of(&[0.4]);
        assert_eq!((s.mean, s.std, s.ci95), (0.4, None, None));
    }

    #[test]
    fn t_quantiles_decrease_towards_the_normal() {
        assert_eq!(t_quantile_975(1), 12.706);
        assert_eq!(t_quantile_975(30), 2.042);
        assert_eq!(t_quantile_975(60), 2.000);
        let mut previous = f64::MAX;
        for df in 1..2000 {
            let t = t_quantile_975(df);
            assert!(t <= previous && t > 1.96, "df {df}: {t}");
            previous = t;
        }
    }
}

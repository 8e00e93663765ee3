//! `harness regress`: compares a comparison's summary with a committed baseline summary, metric
//! by metric within tolerances, and checks declared expectations such as "hard beats random on
//! text->item MRR by at least 10% with p < 0.05".
//!
//! The rules live in a TOML file beside the baseline (`<name>.toml` next to `<name>.csv`):
//!
//! ```toml
//! metrics = ["text_to_item_mrr", "item_to_text_mrr"]   # checked for every sampler
//! [tolerance]                  # a drop larger than max(absolute, relative * |baseline|) fails
//! absolute = 0.03
//! relative = 0.0
//! [tolerance.per_metric.text_to_item_r10]
//! absolute = 0.01
//! [[expect]]
//! sampler = "hard"             # against the run's baseline sampler (its first)
//! metric = "text_to_item_mrr"
//! min_gain_pct = 10.0
//! max_p = 0.05                 # Holm-corrected p of the paired test, for MRR metrics
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::report::csv_file::write_atomically;
use crate::report::runs::{Record, read_records};
use crate::report::schema::{
    BASELINE, ContextField, Metric, MetricColumn, N_SEEDS, PairedStat, SamplerField, SeedStat,
};
use crate::table::TextTable;

/// The rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub metrics: Vec<String>,
    #[serde(default)]
    pub tolerance: Tolerances,
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// How far a metric may move in the bad direction before it is a regression.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    #[serde(default)]
    pub absolute: f64,
    #[serde(default)]
    pub relative: f64,
}

/// The default tolerance and overrides per metric.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    #[serde(default)]
    pub absolute: f64,
    #[serde(default)]
    pub relative: f64,
    #[serde(default)]
    pub per_metric: BTreeMap<String, Tolerance>,
}

/// A declared gain of one sampler over the run's baseline sampler.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub sampler: String,
    pub metric: String,
    pub min_gain_pct: f64,
    pub max_p: Option<f64>,
}

impl Tolerances {
    fn allowed_drop(&self, metric: &str, baseline: f64) -> f64 {
        let t = self.per_metric.get(metric).copied().unwrap_or(Tolerance {
            absolute: self.absolute,
            relative: self.relative,
        });
        t.absolute.max(t.relative * baseline.abs())
    }
}

/// Whether a larger value of a rules metric is better, from its metric column.
fn higher_is_better(metric: &str) -> Result<bool> {
    let column = MetricColumn::parse(metric)
        .with_context(|| format!("{metric} is not a metric column of the summary"))?;
    Ok(column.metric.higher_is_better())
}

/// The verdict of a regression check.
#[derive(Debug, Clone)]
pub struct RegressReport {
    pub text: String,
    pub failures: Vec<String>,
}

/// The rules file beside a baseline CSV.
pub fn rules_path(baseline: &Path) -> PathBuf {
    baseline.with_extension("toml")
}

/// Accepts a run folder or a `summary.csv` path.
pub fn summary_path(current: &Path) -> PathBuf {
    if current.is_dir() {
        current.join("summary.csv")
    } else {
        current.to_path_buf()
    }
}

fn load_rules(path: &Path) -> Result<Rules> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the rules {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid rules", path.display()))
}

fn rows_by_sampler(path: &Path) -> Result<BTreeMap<String, Record>> {
    let records = read_records(path)?;
    if records.is_empty() {
        bail!(
            "{}: no sampler rows (is the comparison finished?)",
            path.display()
        );
    }
    records
        .into_iter()
        .map(|r| Ok((r.text(SamplerField::Label.name())?.to_string(), r)))
        .collect()
}

/// Checks `current` against `baseline` with the rules beside the baseline.
pub fn regress(baseline: &Path, current: &Path) -> Result<RegressReport> {
    let rules = load_rules(&rules_path(baseline))?;
    let old = rows_by_sampler(baseline)?;
    let new = rows_by_sampler(&summary_path(current))?;
    if let Some(sampler) = old.keys().find(|s| !new.contains_key(*s)) {
        bail!(
            "sampler '{sampler}' is in the baseline {} but not in the current run",
            baseline.display()
        );
    }
    if let Some(sampler) = new.keys().find(|s| !old.contains_key(*s)) {
        bail!(
            "sampler '{sampler}' is in the current run but not in the baseline {} (add it with --update)",
            baseline.display()
        );
    }
    for (sampler, old_row) in &old {
        let columns = ContextField::COMPARABLE.map(ContextField::name);
        for column in columns.iter().chain(&[N_SEEDS]) {
            let (was, is) = (old_row.text(column)?, new[sampler].text(column)?);
            if was != is {
                bail!(
                    "not comparable: {column} is {was} in the baseline but {is} in the current run ({sampler})"
                );
            }
        }
    }
    let mut failures = Vec::new();
    let mut table = TextTable::new([
        "Sampler",
        "Metric",
        "Baseline",
        "Current",
        "Delta",
        "Allowed drop",
        "Verdict",
    ]);
    for (sampler, old_row) in &old {
        for metric in &rules.metrics {
            let column = SeedStat::Mean.column(metric);
            let (was, is) = (old_row.number(&column)?, new[sampler].number(&column)?);
            let allowed = rules.tolerance.allowed_drop(metric, was);
            let drop = if higher_is_better(metric)? {
                was - is
            } else {
                is - was
            };
            let verdict = if drop > allowed {
                failures.push(format!("{sampler} {metric}: {was:.4} -> {is:.4} (drop {drop:.4} > allowed {allowed:.4})"));
                "REGRESSION"
            } else if -drop > allowed {
                "improved"
            } else {
                "ok"
            };
            table.row([
                sampler.clone(),
                metric.clone(),
                format!("{was:.4}"),
                format!("{is:.4}"),
                format!("{:+.4}", is - was),
                format!("{allowed:.4}"),
                verdict.into(),
            ]);
        }
    }
    let mut text = table.render();
    if !rules.expect.is_empty() {
        let mut expectations = TextTable::new(["Expectation", "Current", "Verdict"]);
        for expectation in &rules.expect {
            let (line, outcome) = check_expectation(expectation, &new)?;
            if !outcome.0 {
                failures.push(format!("expectation failed: {line} ({})", outcome.1));
            }
            expectations.row([
                line,
                outcome.1,
                if outcome.0 {
                    "ok".into()
                } else {
                    "FAILED".into()
                },
            ]);
        }
        text.push('\n');
        text.push_str(&expectations.render());
    }
    text.push_str(&if failures.is_empty() {
        "\nno regression\n".to_string()
    } else {
        format!(
            "\n{} regression(s):\n{}\n",
            failures.len(),
            failures
                .iter()
                .map(|f| format!("  {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    Ok(RegressReport { text, failures })
}

fn check_expectation(
    expectation: &Expectation,
    rows: &BTreeMap<String, Record>,
) -> Result<(String, (bool, String))> {
    let row = rows.get(&expectation.sampler).with_context(|| {
        format!(
            "expectation names sampler '{}', which the current run lacks",
            expectation.sampler
        )
    })?;
    let baseline = rows
        .values()
        .find(|r| r.text(BASELINE).is_ok_and(|b| b == "true"))
        .context("the current summary has no baseline row")?
        .text(SamplerField::Label.name())?
        .to_string();
    let gain = row.number(&SeedStat::GainPct.column(&expectation.metric))?;
    let mut line = format!(
        "{} beats {baseline} on {} by >= {}%",
        expectation.sampler, expectation.metric, expectation.min_gain_pct
    );
    let mut current = format!("{gain:+.1}%");
    let mut passed = gain >= expectation.min_gain_pct;
    if let Some(max_p) = expectation.max_p {
        let column = MetricColumn::parse(&expectation.metric)
            .filter(|column| column.metric == Metric::Mrr)
            .with_context(|| {
                format!(
                    "max_p needs an MRR metric (paired tests compare MRR), not {}",
                    expectation.metric
                )
            })?;
        let p = row.number(&PairedStat::PHolm.column(column.direction))?;
        line.push_str(&format!(" with p < {max_p}"));
        current.push_str(&format!(", p {p:.4}"));
        passed &= p < max_p;
    }
    Ok((line, (passed, current)))
}

/// Replaces the baseline with the current summary on purpose, returning the old -> new table.
pub fn update(baseline: &Path, current: &Path) -> Result<String> {
    let rules = load_rules(&rules_path(baseline))?;
    let source = summary_path(current);
    let new = rows_by_sampler(&source)?;
    let old = if baseline.exists() {
        rows_by_sampler(baseline)?
    } else {
        BTreeMap::new()
    };
    let mut table = TextTable::new(["Sampler", "Metric", "Old", "New"]);
    for (sampler, row) in &new {
        for metric in &rules.metrics {
            let column = SeedStat::Mean.column(metric);
            let was = old.get(sampler).map_or(Ok("-".to_string()), |r| {
                r.number(&column).map(|v| format!("{v:.4}"))
            })?;
            table.row([
                sampler.clone(),
                metric.clone(),
                was,
                format!("{:.4}", row.number(&column)?),
            ]);
        }
    }
    for sampler in old.keys().filter(|s| !new.contains_key(*s)) {
        table.row([sampler.clone(), "(removed)".into(), "".into(), "".into()]);
    }
    let bytes = std::fs::read(&source).with_context(|| format!("reading {}", source.display()))?;
    write_atomically(baseline, &bytes)?;
    Ok(format!(
        "{}baseline {} updated from {}\n",
        table.render(),
        baseline.display(),
        source.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_drop_takes_the_larger_tolerance_and_per_metric_overrides() {
        let rules: Rules = toml::from_str(
            "metrics = [\"a\"]\n[tolerance]\nabsolute = 0.01\nrelative = 0.1\n[tolerance.per_metric.b]\nabsolute = 0.5\n",
        )
        .unwrap();
        assert!((rules.tolerance.allowed_drop("a", 0.5) - 0.05).abs() < 1e-12);
        assert!((rules.tolerance.allowed_drop("a", 0.05) - 0.01).abs() < 1e-12);
        assert_eq!(rules.tolerance.allowed_drop("b", 100.0), 0.5);
        assert!(higher_is_better("text_to_item_mrr").unwrap());
        assert!(!higher_is_better("text_to_item_mean_rank").unwrap());
        assert!(higher_is_better("text_to_item_mean_rank_mean").is_err());
    }

    #[test]
    fn unknown_rule_keys_are_refused() {
        let error =
            toml::from_str::<Rules>("metrics = []\n[tolerance]\nabsolut = 0.1\n").unwrap_err();
        assert!(error.to_string().contains("absolut"), "{error}");
    }
}

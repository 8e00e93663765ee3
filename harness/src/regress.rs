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
//!
//! `--update` moves a baseline on purpose: only the rows of the samplers named with
//! `--samplers`, or every row with an explicit `--all`, showing each changed value.

use std::collections::{BTreeMap, BTreeSet};
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
            "sampler '{sampler}' is in the current run but not in the baseline {} (add only its row with --update --samplers {sampler}; --update --all replaces the whole baseline)",
            baseline.display()
        );
    }
    for (sampler, old_row) in &old {
        if let Some((column, was, is)) = incomparable(old_row, &new[sampler])? {
            bail!(
                "not comparable: {column} is {was} in the baseline but {is} in the current run ({sampler})"
            );
        }
    }
    let mut failures = Vec::new();
    let mut regressed = BTreeSet::new();
    let mut expectations_failed = false;
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
                regressed.insert(sampler.clone());
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
                expectations_failed = true;
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
    if failures.is_empty() {
        text.push_str("\nno regression\n");
    } else {
        text.push_str(&format!("\n{} regression(s):\n", failures.len()));
        for failure in &failures {
            text.push_str(&format!("  {failure}\n"));
        }
    }
    if !regressed.is_empty() {
        text.push_str(&format!(
            "If the change is intended, replace only these samplers' baseline rows: harness regress --baseline {} --current {} --update --samplers {} (--update --all replaces every row).\n",
            baseline.display(),
            current.display(),
            regressed.into_iter().collect::<Vec<_>>().join(",")
        ));
    }
    if expectations_failed {
        text.push_str(&format!(
            "Expectations compare samplers within the current run; they are rules in {} (--update does not change them).\n",
            rules_path(baseline).display()
        ));
    }
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

/// Which rows of a baseline `update` replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRows {
    /// The whole baseline becomes the current summary.
    All,
    /// Only these samplers' rows (added when the baseline lacks them); the others are kept.
    Samplers(Vec<String>),
}

/// Replaces baseline rows with the current summary's on purpose: every row, or only the named
/// samplers' rows. Returns each changed value as old -> new and what was kept.
pub fn update(baseline: &Path, current: &Path, rows: &UpdateRows) -> Result<String> {
    let rules = load_rules(&rules_path(baseline))?;
    let source = summary_path(current);
    let new = rows_by_sampler(&source)?;
    let old = if baseline.exists() {
        rows_by_sampler(baseline)?
    } else {
        BTreeMap::new()
    };
    let mut notes = String::new();
    let (replaced, bytes, what) = match rows {
        UpdateRows::All => {
            for sampler in old.keys().filter(|s| !new.contains_key(*s)) {
                notes.push_str(&format!(
                    "{sampler}: removed (not in the current summary)\n"
                ));
            }
            let bytes =
                std::fs::read(&source).with_context(|| format!("reading {}", source.display()))?;
            let replaced: Vec<String> = new.keys().cloned().collect();
            (replaced, bytes, "every row replaced".to_string())
        }
        UpdateRows::Samplers(names) => {
            let replaced = named_samplers(names, &new, &source)?;
            let kept: Vec<&str> = old
                .keys()
                .filter(|s| !replaced.contains(s))
                .map(String::as_str)
                .collect();
            for sampler in &kept {
                if let Some((column, was, is)) = incomparable(&old[*sampler], &new[&replaced[0]])? {
                    bail!(
                        "not comparable: {column} is {was} in the baseline rows kept but {is} in the current run; \
                         rerun the comparison as the baseline was made, or replace every row with --update --all"
                    );
                }
            }
            if !kept.is_empty() {
                notes.push_str(&format!(
                    "kept as they were: {} (not named in --samplers)\n",
                    kept.join(", ")
                ));
            }
            let bytes = merged_rows(baseline, &source, &replaced)?;
            let what = format!("rows of {} replaced", replaced.join(", "));
            (replaced, bytes, what)
        }
    };
    let changed = changes(&rules, &old, &new, &replaced)?;
    write_atomically(baseline, &bytes)?;
    Ok(format!(
        "{changed}{notes}baseline {} updated from {}: {what}\n",
        baseline.display(),
        source.display()
    ))
}

/// The samplers named with `--samplers`, trimmed and each once; all must be in `new`.
fn named_samplers(
    names: &[String],
    new: &BTreeMap<String, Record>,
    source: &Path,
) -> Result<Vec<String>> {
    let mut unique: Vec<String> = Vec::new();
    for name in names.iter().map(|n| n.trim().to_string()) {
        if !new.contains_key(&name) {
            bail!(
                "--samplers names '{name}', which the current summary {} lacks (it has {})",
                source.display(),
                new.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        bail!("--samplers names no sampler");
    }
    Ok(unique)
}

/// The first of the columns that must agree for two summary rows to be compared
/// ([`ContextField::COMPARABLE`] and the seed count) on which they differ, with both values.
fn incomparable<'a>(
    a: &'a Record,
    b: &'a Record,
) -> Result<Option<(&'static str, &'a str, &'a str)>> {
    let columns = ContextField::COMPARABLE.map(ContextField::name);
    for column in columns.into_iter().chain([N_SEEDS]) {
        let (in_a, in_b) = (a.text(column)?, b.text(column)?);
        if in_a != in_b {
            return Ok(Some((column, in_a, in_b)));
        }
    }
    Ok(None)
}

/// Two different values with 4 decimals, or as many more as it takes to tell them apart.
fn distinct_texts(before: f64, after: f64) -> (String, String) {
    (4..=17)
        .map(|decimals| {
            (
                format!("{before:.decimals$}"),
                format!("{after:.decimals$}"),
            )
        })
        .find(|(before, after)| before != after)
        .unwrap_or_else(|| (before.to_string(), after.to_string()))
}

/// The baseline's CSV text with the rows of `replaced` taken from `source` (in place, or
/// appended when the baseline lacks them); every other row is kept as it was.
fn merged_rows(baseline: &Path, source: &Path, replaced: &[String]) -> Result<Vec<u8>> {
    let (header, rows) = raw_rows(source)?;
    let label = header
        .iter()
        .position(|column| column == SamplerField::Label.name())
        .with_context(|| format!("{}: no `sampler` column", source.display()))?;
    let replacement = |sampler: &str| {
        rows.iter()
            .find(|row| &row[label] == sampler)
            .cloned()
            .with_context(|| format!("{}: no row of {sampler}", source.display()))
    };
    let mut merged = Vec::new();
    if baseline.exists() {
        let (old_header, old_rows) = raw_rows(baseline)?;
        if old_header != header {
            bail!(
                "the columns of {} differ from those of {} (the summary format changed): replace every row with --update --all",
                baseline.display(),
                source.display()
            );
        }
        for row in old_rows {
            if replaced.iter().any(|s| *s == row[label]) {
                merged.push(replacement(&row[label])?);
            } else {
                merged.push(row);
            }
        }
    }
    for sampler in replaced {
        if !merged.iter().any(|row| row[label] == *sampler) {
            merged.push(replacement(sampler)?);
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for row in &merged {
        writer.write_record(row)?;
    }
    writer.into_inner().context("finishing CSV text")
}

/// A CSV file's header and rows as text, exactly as written.
fn raw_rows(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>)> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader.headers()?.clone();
    let rows = reader
        .records()
        .collect::<std::result::Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    Ok((header, rows))
}

/// The values that replacing `replaced`'s rows changes, old -> new: the checked metrics' means
/// and every setting (plugin, configuration, seeds, protocol); other statistics are counted.
fn changes(
    rules: &Rules,
    old: &BTreeMap<String, Record>,
    new: &BTreeMap<String, Record>,
    replaced: &[String],
) -> Result<String> {
    let settings: Vec<&str> = SamplerField::SUMMARY
        .iter()
        .map(|field| field.name())
        .chain([BASELINE, N_SEEDS])
        .chain(ContextField::COMPARABLE.map(ContextField::name))
        .collect();
    let mut table = TextTable::new(["Sampler", "Value", "Old", "New"]);
    let mut changed = 0;
    let mut notes = String::new();
    for sampler in replaced {
        let row = &new[sampler];
        let Some(was) = old.get(sampler) else {
            for metric in &rules.metrics {
                let value = row.number(&SeedStat::Mean.column(metric))?;
                table.row([
                    sampler.clone(),
                    metric.clone(),
                    "-".into(),
                    format!("{value:.4}"),
                ]);
                changed += 1;
            }
            notes.push_str(&format!("{sampler}: added\n"));
            continue;
        };
        let mut shown = 0;
        for metric in &rules.metrics {
            let column = SeedStat::Mean.column(metric);
            let (before, after) = (was.number(&column)?, row.number(&column)?);
            if before != after {
                let (before, after) = distinct_texts(before, after);
                table.row([sampler.clone(), metric.clone(), before, after]);
                shown += 1;
            }
        }
        for column in &settings {
            let (before, after) = (was.text(column)?, row.text(column)?);
            if before != after {
                table.row([
                    sampler.clone(),
                    column.to_string(),
                    before.into(),
                    after.into(),
                ]);
                shown += 1;
            }
        }
        let others = row
            .fields
            .iter()
            .filter(|(column, value)| was.fields.get(*column) != Some(*value))
            .count()
            .saturating_sub(shown);
        notes.push_str(&match (shown, others) {
            (0, 0) => format!("{sampler}: no value changed\n"),
            (_, 0) => String::new(),
            (_, n) => format!(
                "{sampler}: {n} other statistics recomputed (spreads, CIs, gains, paired tests)\n"
            ),
        });
        changed += shown;
    }
    let table = if changed > 0 {
        table.render()
    } else {
        String::new()
    };
    Ok(format!("{table}{notes}"))
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
    fn changed_values_never_print_alike() {
        assert_eq!(
            distinct_texts(0.70841, 0.5788),
            ("0.7084".to_string(), "0.5788".to_string())
        );
        assert_eq!(
            distinct_texts(0.29941, 0.29938),
            ("0.29941".to_string(), "0.29938".to_string())
        );
        assert_eq!(
            distinct_texts(0.1, 0.1 + 1e-12),
            ("0.100000000000".to_string(), "0.100000000001".to_string())
        );
    }

    #[test]
    fn unknown_rule_keys_are_refused() {
        let error =
            toml::from_str::<Rules>("metrics = []\n[tolerance]\nabsolut = 0.1\n").unwrap_err();
        assert!(error.to_string().contains("absolut"), "{error}");
    }
}

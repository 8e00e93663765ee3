//! Reads a comparison's files back: `runs.csv`, `epochs.csv` and the per-query reciprocal ranks.
//! Everything a report shows is derived from these files, so `harness report` can regenerate it
//! from a folder alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::schema::{Direction, SEED, SamplerField};

/// One CSV row by column name.
#[derive(Debug, Clone)]
pub struct Record {
    pub file: PathBuf,
    pub line: usize,
    pub fields: BTreeMap<String, String>,
}

impl Record {
    /// A text field; a missing column is an error naming the file and line.
    pub fn text(&self, column: &str) -> Result<&str> {
        self.fields
            .get(column)
            .map(String::as_str)
            .with_context(|| {
                format!(
                    "{}:{}: no column `{column}`",
                    self.file.display(),
                    self.line
                )
            })
    }

    /// A numeric field.
    pub fn number(&self, column: &str) -> Result<f64> {
        let text = self.text(column)?;
        text.parse().with_context(|| {
            format!(
                "{}:{}: `{column}` is not a number: {text:?}",
                self.file.display(),
                self.line
            )
        })
    }

    /// A numeric field that may be empty (nothing measured) or absent (a column added after the
    /// folder was written); an unparsable value is still an error.
    pub fn optional_number(&self, column: &str) -> Result<Option<f64>> {
        match self.fields.get(column).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(_) => self.number(column).map(Some),
        }
    }
}

/// Every row of a CSV file with a header.
pub fn read_records(file: &Path) -> Result<Vec<Record>> {
    let mut reader =
        csv::Reader::from_path(file).with_context(|| format!("reading {}", file.display()))?;
    let header: Vec<String> = reader.headers()?.iter().map(String::from).collect();
    reader
        .records()
        .enumerate()
        .map(|(index, row)| {
            let row = row.with_context(|| format!("{}:{}", file.display(), index + 2))?;
            Ok(Record {
                file: file.to_path_buf(),
                line: index + 2,
                fields: header
                    .iter()
                    .cloned()
                    .zip(row.iter().map(String::from))
                    .collect(),
            })
        })
        .collect()
}

/// The finished runs of a comparison folder, grouped by sampler in first-appearance order (the
/// baseline first).
#[derive(Debug, Clone)]
pub struct RunSet {
    pub folder: PathBuf,
    pub samplers: Vec<String>,
    pub runs: Vec<Record>,
}

impl RunSet {
    /// Loads `runs.csv` from `folder`. The samplers come in the order the comparison planned
    /// them (its `plan.json`; else first appearance), so the baseline stays first even when
    /// some of its runs failed.
    pub fn load(folder: &Path) -> Result<Self> {
        let runs = read_records(&folder.join("runs.csv"))?;
        if runs.is_empty() {
            bail!("{}: no finished runs", folder.join("runs.csv").display());
        }
        let mut samplers: Vec<String> = planned_samplers(folder)?;
        for run in &runs {
            let label = run.text(SamplerField::Label.name())?;
            if !samplers.iter().any(|s| s == label) {
                samplers.push(label.to_string());
            }
        }
        samplers.retain(|label| {
            runs.iter()
                .any(|r| r.fields.get(SamplerField::Label.name()) == Some(label))
        });
        if let Some(baseline) = planned_samplers(folder)?.first()
            && samplers.first() != Some(baseline)
        {
            bail!(
                "{}: the baseline '{baseline}' has no finished run, so no sampler can be compared with it yet",
                folder.display()
            );
        }
        Ok(RunSet {
            folder: folder.to_path_buf(),
            samplers,
            runs,
        })
    }

    /// The runs of one sampler, in file order.
    pub fn of(&self, sampler: &str) -> Vec<&Record> {
        self.runs
            .iter()
            .filter(|r| {
                r.fields
                    .get(SamplerField::Label.name())
                    .is_some_and(|s| s == sampler)
            })
            .collect()
    }

    /// The seeds of one sampler's runs, in file order.
    pub fn seeds(&self, sampler: &str) -> Result<Vec<u64>> {
        self.of(sampler)
            .iter()
            .map(|r| r.number(SEED).map(|s| s as u64))
            .collect()
    }

    /// The first sampler: the baseline of every comparison.
    pub fn baseline(&self) -> &str {
        &self.samplers[0]
    }
}

/// The sampler labels of the folder's plan, baseline first (none without a plan).
fn planned_samplers(folder: &Path) -> Result<Vec<String>> {
    let path = folder.join(crate::compare::plan_file::PLAN_FILE);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let plan = crate::compare::plan_file::PlanFile::read(folder)?;
    Ok(plan.samplers.into_iter().map(|s| s.label).collect())
}

/// Folder of one run's files.
pub fn run_folder(folder: &Path, sampler: &str, seed: u64) -> PathBuf {
    folder.join(format!("{sampler}-seed{seed}"))
}

/// Name of the list of runs that did not finish (absent when every run finished).
pub const FAILED_RUNS_FILE: &str = "failed_runs.csv";

/// The rows of `failed_runs.csv`, if the folder has one.
pub fn read_failures(folder: &Path) -> Result<Vec<Record>> {
    let file = folder.join(FAILED_RUNS_FILE);
    if file.is_file() {
        read_records(&file)
    } else {
        Ok(Vec::new())
    }
}

/// Name of the per-query file in a run folder.
pub const RECIPROCAL_RANKS_FILE: &str = "reciprocal_ranks.csv";

/// Per-query reciprocal ranks of a run's final epoch, per direction.
pub fn read_reciprocal_ranks(
    folder: &Path,
    sampler: &str,
    seed: u64,
) -> Result<BTreeMap<Direction, Vec<f64>>> {
    let file = run_folder(folder, sampler, seed).join(RECIPROCAL_RANKS_FILE);
    let records = read_records(&file)?;
    Direction::ALL
        .iter()
        .map(|&direction| {
            let values = records
                .iter()
                .map(|r| r.number(direction.name()))
                .collect::<Result<Vec<f64>>>()?;
            Ok((direction, values))
        })
        .collect()
}

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
    /// Loads `runs.csv` from `folder`.
    pub fn load(folder: &Path) -> Result<Self> {
        let runs = read_records(&folder.join("runs.csv"))?;
        if runs.is_empty() {
            bail!("{}: no finished runs", folder.join("runs.csv").display());
        }
        let mut samplers: Vec<String> = Vec::new();
        for run in &runs {
            let label = run.text(SamplerField::Label.name())?;
            if !samplers.iter().any(|s| s == label) {
                samplers.push(label.to_string());
            }
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

/// Folder of one run's files.
pub fn run_folder(folder: &Path, sampler: &str, seed: u64) -> PathBuf {
    folder.join(format!("{sampler}-seed{seed}"))
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

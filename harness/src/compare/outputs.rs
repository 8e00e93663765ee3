//! The files of a comparison, created before training starts and rewritten atomically after
//! every finished run, so an interrupted comparison keeps what it finished.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::records::{
    EpochRecord, RunContext, RunRecord, epoch_columns, reciprocal_rank_columns, run_columns,
    training_log,
};
use crate::report::csv_file::{Columns, CsvTable, write_atomically};
use crate::report::runs::{RECIPROCAL_RANKS_FILE, run_folder};
use crate::report::summary::summary_columns;

/// `runs.csv`, `epochs.csv` and, per run, `training_logs.json` and the per-query reciprocal
/// ranks; the report files are generated from these at the end.
#[derive(Debug)]
pub struct Outputs {
    folder: PathBuf,
    runs: Option<CsvTable<RunRecord, RunContext>>,
    epochs: Option<CsvTable<EpochRecord, RunRecord>>,
}

impl Outputs {
    /// Creates the folder (it must be new or empty: earlier results are never overwritten) and
    /// a header-only `summary.csv`, so an unwritable location fails before any training.
    pub fn create(folder: &Path) -> Result<Self> {
        if folder.exists() {
            let mut entries =
                std::fs::read_dir(folder).with_context(|| format!("--out {}", folder.display()))?;
            if entries.next().is_some() {
                bail!(
                    "--out {}: the folder is not empty; choose a new one so earlier results stay intact",
                    folder.display()
                );
            }
        }
        std::fs::create_dir_all(folder)
            .with_context(|| format!("--out {}: cannot create the folder", folder.display()))?;
        CsvTable::create(folder.join("summary.csv"), summary_columns())
            .with_context(|| format!("--out {}", folder.display()))?;
        Ok(Outputs {
            folder: folder.to_path_buf(),
            runs: None,
            epochs: None,
        })
    }

    /// Adds a finished run to `runs.csv` and `epochs.csv` and writes its own files.
    pub fn record_run(&mut self, run: &RunRecord, context: &RunContext) -> Result<()> {
        let run_folder = run_folder(&self.folder, &run.sampler.label, run.seed);
        std::fs::create_dir_all(&run_folder)
            .with_context(|| format!("creating {}", run_folder.display()))?;
        let log = serde_json::to_vec_pretty(&training_log(run, context))?;
        write_atomically(&run_folder.join("training_logs.json"), &log)?;
        let evaluation = &run.last().evaluation;
        CsvTable::create(
            run_folder.join(RECIPROCAL_RANKS_FILE),
            reciprocal_rank_columns(),
        )?
        .append(
            evaluation,
            0..evaluation.text_to_item.reciprocal_ranks.len(),
        )?;
        table(&mut self.runs, self.folder.join("runs.csv"), run_columns)?.append(context, [run])?;
        table(
            &mut self.epochs,
            self.folder.join("epochs.csv"),
            epoch_columns,
        )?
        .append(run, &run.epochs)
    }
}

/// The table, created with its header on first use (when the first run finishes).
fn table<T: 'static, C: 'static>(
    table: &mut Option<CsvTable<T, C>>,
    path: PathBuf,
    columns: fn() -> Columns<T, C>,
) -> Result<&mut CsvTable<T, C>> {
    if table.is_none() {
        *table = Some(CsvTable::create(path, columns())?);
    }
    Ok(table.as_mut().expect("created above"))
}

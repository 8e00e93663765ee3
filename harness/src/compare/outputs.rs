//! The files of a comparison. Each run writes its own folder (its rows of `runs.csv` and
//! `epochs.csv`, its log and per-query ranks), its row file last, so a run folder with `run.csv`
//! is a finished run. After every finished or failed run the top-level tables are assembled
//! from the finished runs in plan order and rewritten atomically: an interrupted comparison
//! keeps everything it finished, and a resumed one ends with the same files as an
//! uninterrupted one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::plan_file::{PlanFile, PlannedRun};
use super::records::{
    RunContext, RunRecord, SamplerIdentity, epoch_columns, reciprocal_rank_columns, run_columns,
    training_log,
};
use crate::report::csv_file::{Columns, CsvTable, write_atomically};
use crate::report::runs::{FAILED_RUNS_FILE, RECIPROCAL_RANKS_FILE, read_records, run_folder};
use crate::report::schema::{ContextField, SEED, SamplerField};
use crate::report::summary::summary_columns;

/// A run's own row of `runs.csv` (with the header); written last, it marks the run finished.
const RUN_ROW_FILE: &str = "run.csv";
/// A run's own rows of `epochs.csv` (with the header).
const EPOCH_ROWS_FILE: &str = "epochs.csv";

/// Checks that `folder` may receive a new comparison (it must be new or empty: earlier results
/// are never overwritten), without creating anything.
pub fn check_new_folder(folder: &Path) -> Result<()> {
    if folder.is_file() {
        bail!("--out {}: this is a file, not a folder", folder.display());
    }
    if folder.exists() {
        let mut entries =
            std::fs::read_dir(folder).with_context(|| format!("--out {}", folder.display()))?;
        if entries.next().is_some() {
            bail!(
                "--out {}: the folder is not empty; choose a new one so earlier results stay intact (or continue it with --resume {})",
                folder.display(),
                folder.display()
            );
        }
    }
    Ok(())
}

/// Creates the folder of a new comparison with its plan and a header-only `summary.csv`.
pub fn create(folder: &Path, plan: &PlanFile) -> Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("--out {}: cannot create the folder", folder.display()))?;
    plan.write(folder)
        .with_context(|| format!("--out {}", folder.display()))?;
    CsvTable::create(folder.join("summary.csv"), summary_columns())
        .with_context(|| format!("--out {}", folder.display()))?;
    Ok(())
}

/// Whether a run of the plan has finished (its row file exists).
pub fn is_finished(folder: &Path, run: &PlannedRun) -> bool {
    run_folder(folder, &run.sampler, run.seed)
        .join(RUN_ROW_FILE)
        .is_file()
}

/// Writes a finished run's folder: into a folder of its own, renamed into place once complete
/// (its row file last), so no reader ever sees a partial run and two processes that execute the
/// same run at once (a requeued cluster task) cannot mix their files.
pub fn write_run(folder: &Path, run: &RunRecord, context: &RunContext) -> Result<()> {
    let final_folder = run_folder(folder, &run.sampler.label, run.seed);
    let name = final_folder
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("run");
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let partial = folder.join(format!(".{name}.partial-{}-{unique}", std::process::id()));
    let written = write_run_files(&partial, run, context)
        .and_then(|()| {
            std::fs::rename(&partial, &final_folder)
                .with_context(|| format!("moving the run's files to {}", final_folder.display()))
        })
        .or_else(|error| {
            // Another process finished the same run first: its files stand.
            if final_folder.join(RUN_ROW_FILE).is_file() {
                Ok(())
            } else {
                Err(error)
            }
        });
    if partial.exists() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    written
}

/// The files of a finished run in `target`; its row file comes last.
fn write_run_files(target: &Path, run: &RunRecord, context: &RunContext) -> Result<()> {
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    let log = serde_json::to_vec_pretty(&training_log(run, context))?;
    write_atomically(&target.join("training_logs.json"), &log)?;
    let evaluation = &run.last().evaluation;
    CsvTable::create(
        target.join(RECIPROCAL_RANKS_FILE),
        reciprocal_rank_columns(),
    )?
    .append(
        evaluation,
        0..evaluation.text_to_item.reciprocal_ranks.len(),
    )?;
    CsvTable::create(target.join(EPOCH_ROWS_FILE), epoch_columns())?.append(run, &run.epochs)?;
    CsvTable::create(target.join(RUN_ROW_FILE), run_columns())?.append(context, [run])
}

/// Checks that a finished run's row records what the plan asks of it: the sampler (label,
/// plugin, version, ABI, configuration), the seed and every context column (protocol, dataset
/// fingerprint, harness, libtorch, settings). `expected` is the plan's context.
pub fn check_finished_matches(
    folder: &Path,
    plan: &PlanFile,
    index: usize,
    expected: &RunContext,
) -> Result<()> {
    let run = &plan.runs[index];
    let planned = plan.sampler(&run.sampler)?;
    let identity = SamplerIdentity {
        label: planned.label.clone(),
        plugin: planned.plugin.clone(),
        version: planned.version.clone(),
        abi: planned.abi.clone(),
        config_json: planned.config.clone(),
    };
    let mut wanted: Vec<(&str, String)> = SamplerField::ALL
        .iter()
        .map(|&field| (field.name(), identity.value(field).to_string()))
        .collect();
    wanted.push((SEED, run.seed.to_string()));
    wanted.extend(
        ContextField::ALL
            .iter()
            .map(|&field| (field.name(), expected.value(field))),
    );
    let file = run_folder(folder, &run.sampler, run.seed).join(RUN_ROW_FILE);
    let rows = read_records(&file)?;
    let [row] = rows.as_slice() else {
        bail!("{}: {} rows, not one", file.display(), rows.len());
    };
    let differences: Vec<String> = wanted
        .iter()
        .filter_map(|(column, value)| {
            let found = row.fields.get(*column).map_or("(missing)", String::as_str);
            (found != value).then(|| format!("{column} is {found:?}, the plan says {value:?}"))
        })
        .collect();
    if !differences.is_empty() {
        bail!(
            "{}: this finished run does not match the plan in {}: {}; move the folder away to run it again",
            file.display(),
            folder.join(super::plan_file::PLAN_FILE).display(),
            differences.join("; ")
        );
    }
    Ok(())
}

/// Rewrites `runs.csv` and `epochs.csv` from the finished runs' folders, in plan order.
pub fn assemble(folder: &Path, plan: &PlanFile) -> Result<()> {
    let finished: Vec<PathBuf> = plan
        .runs
        .iter()
        .filter(|run| is_finished(folder, run))
        .map(|run| run_folder(folder, &run.sampler, run.seed))
        .collect();
    concatenate(
        &finished,
        RUN_ROW_FILE,
        run_columns(),
        &folder.join("runs.csv"),
    )?;
    concatenate(
        &finished,
        EPOCH_ROWS_FILE,
        epoch_columns(),
        &folder.join("epochs.csv"),
    )
}

/// One table holding the rows of `file` in every run folder, in order; each part must carry
/// the table's header.
fn concatenate<T: 'static, C: 'static>(
    run_folders: &[PathBuf],
    file: &str,
    columns: Columns<T, C>,
    out: &Path,
) -> Result<()> {
    let header = columns.header();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for run_folder in run_folders {
        let part = run_folder.join(file);
        let mut reader =
            csv::Reader::from_path(&part).with_context(|| format!("reading {}", part.display()))?;
        if reader
            .headers()?
            .iter()
            .ne(header.iter().map(String::as_str))
        {
            bail!(
                "{}: its columns are not this harness's; it was written by another version",
                part.display()
            );
        }
        for record in reader.records() {
            writer.write_record(&record.with_context(|| format!("reading {}", part.display()))?)?;
        }
    }
    write_atomically(out, &writer.into_inner().context("finishing CSV text")?)
}

/// A run that did not finish, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRun {
    pub sampler: String,
    /// The sampler as messages name it: label and library.
    pub described: String,
    pub seed: u64,
    /// The epoch it was in, if it had started one.
    pub epoch: Option<u32>,
    pub reason: String,
}

impl std::fmt::Display for FailedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, seed {}: {}", self.described, self.seed, self.reason)
    }
}

/// Rewrites `failed_runs.csv` (removed when no run failed).
pub fn write_failures(folder: &Path, failures: &[FailedRun]) -> Result<()> {
    let path = folder.join(FAILED_RUNS_FILE);
    if failures.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(error).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        };
    }
    let columns = Columns::new()
        .text("sampler", |f: &FailedRun, _: &()| f.sampler.clone())
        .text("seed", |f, _| f.seed)
        .text("epoch", |f, _| {
            f.epoch.map(|e| e.to_string()).unwrap_or_default()
        })
        .text("reason", |f, _| f.reason.clone());
    CsvTable::create(path, columns)?.append(&(), failures)
}

/// Removes what an unfinished run left in its folder, so a resumed run starts clean.
pub fn clear_unfinished(folder: &Path, run: &PlannedRun) -> Result<()> {
    let run_folder = run_folder(folder, &run.sampler, run.seed);
    match std::fs::remove_dir_all(&run_folder) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("clearing {}", run_folder.display()))
        }
        _ => Ok(()),
    }
}

//! A comparison's plan executed piece by piece: `harness run --plan DIR --index I` runs one run
//! (a Slurm array task, a Kubernetes indexed pod, a shell loop), writing only its own run folder,
//! so any number may run at once on shared storage; `harness report DIR` merges whatever
//! finished. `harness run --plan DIR --all` is the local executor: `compare --resume DIR`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::events::RunEvent;
use super::outputs;
use super::plan::{CompareArgs, RunSettings, RunTimeout};
use super::plan_file::PlanFile;
use super::single_run::run_context;
use crate::device::DeviceChoice;

/// Flags of `harness run`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["index", "all", "describe"])))]
pub struct RunArgs {
    /// A folder written by `harness compare --plan-only --out DIR`.
    #[arg(long, value_name = "DIR")]
    pub plan: PathBuf,
    /// Execute run I alone (0-based, in plan.json order); a finished run is skipped.
    #[arg(long, value_name = "I")]
    pub index: Option<usize>,
    /// Execute every unfinished run here, --jobs at a time (the same as `compare --resume DIR`).
    #[arg(long)]
    pub all: bool,
    /// With --all: runs at once.
    #[arg(long, default_value_t = 1, value_name = "N", requires = "all")]
    pub jobs: usize,
    /// Stop a run that takes longer than this (e.g. 90s, 30m, 2h).
    #[arg(long, value_name = "DURATION")]
    pub run_timeout: Option<RunTimeout>,
    /// Print only the final table (with --all) or nothing but errors (with --index).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print what a scheduler needs to know, as shell variables: RUNS, THREADS, GPUS.
    #[arg(long)]
    pub describe: bool,
}

/// How `harness run --index` ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Finished,
    /// Already finished, matching the plan: nothing done.
    AlreadyFinished,
    Failed(String),
}

impl RunArgs {
    /// `--all`: the comparison continued in this process, `--jobs` at a time.
    pub fn resume_args(&self) -> CompareArgs {
        CompareArgs {
            settings: RunSettings::defaults(),
            out: None,
            resume: Some(self.plan.clone()),
            jobs: self.jobs,
            run_timeout: self.run_timeout,
            quiet: self.quiet,
            in_process: false,
            plan_only: false,
        }
    }
}

/// `--describe`: the run count and the resources of one run, as shell assignments.
pub fn describe(folder: &Path) -> Result<String> {
    let plan = PlanFile::read(folder)?;
    let gpus = match plan.settings.device {
        DeviceChoice(tch::Device::Cpu) => 0,
        DeviceChoice(_) => 1,
    };
    Ok(format!(
        "RUNS={}\nTHREADS={}\nGPUS={gpus}\n",
        plan.runs.len(),
        plan.settings.threads
    ))
}

/// Executes run `index` of the plan in `folder` in a worker process, unless it has finished.
pub fn run_one(
    folder: &Path,
    index: usize,
    timeout: Option<RunTimeout>,
    quiet: bool,
) -> Result<RunOutcome> {
    let plan = PlanFile::read(folder)?;
    let Some(run) = plan.runs.get(index) else {
        bail!(
            "--index {index}: the plan in {} has {} runs (0 to {})",
            folder.display(),
            plan.runs.len(),
            plan.runs.len().saturating_sub(1)
        );
    };
    let settings = plan.settings.resolve()?;
    let context = run_context(&plan, &settings.protocol, &plan.dataset.fingerprint);
    let ours = env!("CARGO_PKG_VERSION");
    if plan.harness_version != ours || plan.protocol_version != context.protocol_version {
        bail!(
            "{}: written by harness {} (protocol {}); this is harness {ours} (protocol {}): run it with the harness that planned it",
            folder.join(super::plan_file::PLAN_FILE).display(),
            plan.harness_version,
            plan.protocol_version,
            context.protocol_version
        );
    }
    let tag = format!("run {index} ({} seed {})", run.sampler, run.seed);
    if outputs::is_finished(folder, run) {
        outputs::check_finished_matches(folder, &plan, index, &context)?;
        if !quiet {
            eprintln!("{tag}: already finished; nothing to do");
        }
        return Ok(RunOutcome::AlreadyFinished);
    }
    // A folder without its row file is what an older, interrupted harness left: start clean.
    outputs::clear_unfinished(folder, run)?;
    if !quiet {
        eprintln!("{tag}: starting");
    }
    let index_text = index.to_string();
    let command = crate::worker::command(&[
        "run".as_ref(),
        "--plan".as_ref(),
        folder.as_os_str(),
        "--index".as_ref(),
        index_text.as_ref(),
    ])?;
    let mut epoch = None;
    let end = crate::worker::run_to_end(command, timeout.map(|t| t.0), &mut |event| match event {
        RunEvent::Log { line } if !quiet => eprintln!("{line}"),
        RunEvent::EpochStarted { epoch: e } => epoch = Some(*e),
        _ => {}
    })?;
    let in_epoch = epoch.map(|e| format!(" in epoch {e}")).unwrap_or_default();
    Ok(match (end.finished, end.timed_out, end.error) {
        (true, _, _) => RunOutcome::Finished,
        (_, true, _) => {
            RunOutcome::Failed(format!("exceeded --run-timeout{in_epoch} and was stopped"))
        }
        (_, _, Some(error)) => RunOutcome::Failed(error),
        _ => RunOutcome::Failed(format!(
            "the worker process {}{in_epoch}",
            crate::signals::describe_exit(end.status)
        )),
    })
}

/// What `harness report` made of a plan folder.
#[derive(Debug)]
pub struct Merged {
    /// The results table of the finished runs.
    pub table: String,
    /// The planned runs without results, as "SAMPLER seed N (run I)".
    pub missing: Vec<String>,
}

/// Brings the tables of a plan folder up to date from its finished run folders (whoever ran
/// them), then writes the reports; `None` when `folder` holds no plan.
pub fn merge(folder: &Path) -> Result<Option<Merged>> {
    if !folder.join(super::plan_file::PLAN_FILE).is_file() {
        return Ok(None);
    }
    let plan = PlanFile::read(folder)?;
    outputs::assemble(folder, &plan)?;
    let missing: Vec<String> = plan
        .runs
        .iter()
        .enumerate()
        .filter(|(_, run)| !outputs::is_finished(folder, run))
        .map(|(index, run)| format!("{} seed {} (run {index})", run.sampler, run.seed))
        .collect();
    if missing.len() == plan.runs.len() {
        bail!(
            "{}: none of the {} planned runs has finished yet",
            folder.display(),
            plan.runs.len()
        );
    }
    match crate::report::generate(folder) {
        Ok(table) => Ok(Some(Merged { table, missing })),
        Err(error) => bail!(
            "{error:#} (no results yet from {} of {} planned runs: {})",
            missing.len(),
            plan.runs.len(),
            missing.join(", ")
        ),
    }
}

/// What `compare --plan-only` prints: the plan's size and the commands that execute it.
pub fn next_steps(folder: &Path, runs: usize) -> String {
    let dir = folder.display();
    format!(
        "planned {runs} runs in {dir} (nothing trained yet). Execute them with one of:\n  \
         harness run --plan {dir} --index I       one run, I = 0..{last} (e.g. a Slurm array task)\n  \
         harness run --plan {dir} --all --jobs N  every run here, N at a time\n  \
         scripts/slurm-submit {dir} [sbatch options]\n\
         then merge the finished runs: harness report {dir}\n",
        last = runs.saturating_sub(1)
    )
}

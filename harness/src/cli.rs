//! Command-line interface: clap definitions and the dispatch of each command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::compare::CompareOutcome;
use crate::compare::plan::{CompareArgs, ComparePlan, RunTimeout};
use crate::compare::plan_runs::{self, RunOutcome};
use crate::plugin::PluginRegistry;
use crate::regress::UpdateRows;
use crate::signals::InterruptFlag;
use crate::worker::WorkerArgs;
use crate::{conformance, selftest};

/// Test and benchmark harness for contrastive-retrieval batch samplers.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The plugin folders of the commands that load plugins (only those accept `--plugin-dir`).
#[derive(Debug, Clone, Default, Args)]
pub struct PluginDirs {
    /// Extra folder to search for sampler plugins (repeatable; searched before
    /// $SAMPLER_PLUGIN_PATH and the harness's own folder).
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

impl PluginDirs {
    /// The registry over these folders (it scans them lazily), loading each library only after
    /// a worker process survived loading it.
    fn registry(&self) -> PluginRegistry {
        PluginRegistry::isolated(&self.dirs)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the sampler plugins found, with version, ABI and parameters.
    List {
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Run the conformance suite against a plugin (a name or a path to a library).
    Check {
        /// Sampler name or path to a plugin library.
        sampler: String,
        /// The plugin's configuration as a JSON object.
        #[arg(long, default_value = "{}", value_name = "JSON")]
        config: String,
        /// Stop the suite (and fail it) when it takes longer than this (e.g. 90s, 5m).
        #[arg(long, default_value = "5m", value_name = "DURATION")]
        timeout: RunTimeout,
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Train and evaluate every sampler under one fixed protocol and report retrieval metrics.
    Compare {
        #[command(flatten)]
        args: CompareArgs,
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Compare one sampler under every combination of parameter values with random batches.
    Sweep {
        #[command(flatten)]
        args: crate::sweep::SweepArgs,
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Regenerate summary.csv, summary.md and the plots of a comparison folder from its CSV files
    /// (in a planned folder, first merging whatever runs have finished; exit 3 while some are missing).
    Report {
        /// A folder written by `harness compare`.
        folder: PathBuf,
    },
    /// Execute runs of a plan written by `harness compare --plan-only`: one (--index, e.g. a
    /// Slurm array task) or all of them here (--all).
    Run {
        #[command(flatten)]
        args: crate::compare::plan_runs::RunArgs,
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Set two comparison folders against each other: per sampler, B minus A, paired over the
    /// seeds both finished, with the reports' statistics.
    Diff {
        /// A folder written by `harness compare` (A).
        #[arg(value_name = "RUN_A")]
        a: PathBuf,
        /// Another such folder (B), on the same dataset.
        #[arg(value_name = "RUN_B")]
        b: PathBuf,
    },
    /// Compare a comparison's summary with a committed baseline; exit 1 on a regression.
    Regress {
        /// Baseline summary CSV; its rules are in the .toml file beside it.
        #[arg(long, value_name = "CSV")]
        baseline: PathBuf,
        /// Run folder (or its summary.csv) to check.
        #[arg(long, value_name = "DIR")]
        current: PathBuf,
        /// Replace baseline rows with the current summary's on purpose: those of --samplers, or
        /// every row with --all; prints each changed value old -> new.
        #[arg(long, requires = "rows")]
        update: bool,
        /// With --update: the samplers whose rows are replaced (comma-separated); other rows stay.
        #[arg(
            long,
            value_delimiter = ',',
            value_name = "LIST",
            requires = "update",
            group = "rows"
        )]
        samplers: Vec<String>,
        /// With --update: replace every row (the whole baseline).
        #[arg(long, requires = "update", group = "rows")]
        all: bool,
    },
    /// The guide's quick test: hard batches must show a dominant cluster, random ones must not.
    Selftest {
        /// Seed of the fixture and of the batches.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Exact top-k cosine neighbour table of an embedding file: time, peak memory, bound.
    Knn(crate::commands::knn::KnnArgs),
    /// Internal: a job the harness runs in a separate process (see `worker.rs`).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// MiniLM embeddings of a pairs table's descriptions, written as a float32 .npy.
    Embed(crate::commands::embed::EmbedArgs),
}

/// Exit code of a comparison in which some runs failed (the others' results are written).
pub const EXIT_RUNS_FAILED: u8 = 3;
/// Exit code of a comparison stopped by SIGINT or SIGTERM (128 + SIGINT, as shells do).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs a parsed command; the exit code says whether checks passed.
///
/// Only `list`, `check`, `compare`, `sweep`, `run` and `selftest` use plugins (and take
/// `--plugin-dir`); the others never scan a plugin folder, so a broken library there cannot
/// affect them. The registry itself scans lazily.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::List { plugins } => {
            print!("{}", crate::commands::list::render(&plugins.registry()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            sampler,
            config,
            timeout,
            plugins,
        } => {
            let plugin = plugins.registry().resolve(&sampler)?;
            let report = conformance::run_isolated(&plugin, &config, timeout.0)?;
            print!("{}", report.render());
            Ok(verdict(report.passed()))
        }
        Command::Compare { args, plugins } => compare(&args, &plugins.registry()),
        Command::Sweep { args, plugins } => {
            let registry = plugins.registry();
            let sweep = args.plan(&registry)?;
            let plan = &sweep.compare;
            if plan.plan_only {
                // `harness report DIR` writes sweep.csv once the runs have finished.
                let outcome = crate::compare::run(plan, &registry, &InterruptFlag::never())?;
                print!("{}", plan_runs::next_steps(&plan.out, outcome.runs));
                return Ok(ExitCode::SUCCESS);
            }
            let outcome = crate::compare::run(plan, &registry, &interrupt_flag(plan)?)?;
            if !outcome.table.is_empty() {
                print!(
                    "{}",
                    crate::sweep::report::write(&plan.out, &sweep.sampler, &sweep.grid)?
                );
            }
            eprint!("{}", outcome.notes(plan, "sweep"));
            println!("reports: {}", plan.out.display());
            Ok(comparison_exit(&outcome))
        }
        Command::Report { folder } => match plan_runs::merge(&folder)? {
            None => {
                print!("{}", crate::report::generate(&folder)?);
                Ok(ExitCode::SUCCESS)
            }
            Some(merged) => {
                print!("{}", merged.table);
                if let Some(sweep) = crate::sweep::report_if_sweep(&folder)? {
                    print!("{sweep}");
                }
                if merged.missing.is_empty() {
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!(
                    "{} planned run(s) have no results yet (the statistics use the finished runs only): {}",
                    merged.missing.len(),
                    merged.missing.join(", ")
                );
                Ok(ExitCode::from(EXIT_RUNS_FAILED))
            }
        },
        Command::Diff { a, b } => {
            print!("{}", crate::report::diff::diff(&a, &b)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { args, plugins } => {
            if args.describe {
                print!("{}", plan_runs::describe(&args.plan)?);
                return Ok(ExitCode::SUCCESS);
            }
            let Some(index) = args.index else {
                return compare(&args.resume_args(), &plugins.registry());
            };
            match plan_runs::run_one(&args.plan, index, args.run_timeout, args.quiet)? {
                RunOutcome::Finished | RunOutcome::AlreadyFinished => Ok(ExitCode::SUCCESS),
                RunOutcome::Failed(reason) => {
                    eprintln!("run {index} of {} failed: {reason}", args.plan.display());
                    Ok(ExitCode::from(EXIT_RUNS_FAILED))
                }
            }
        }
        Command::Regress {
            baseline,
            current,
            update,
            samplers,
            all,
        } => {
            if update {
                let rows = if all {
                    UpdateRows::All
                } else {
                    UpdateRows::Samplers(samplers)
                };
                print!("{}", crate::regress::update(&baseline, &current, &rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            let report = crate::regress::regress(&baseline, &current)?;
            print!("{}", report.text);
            Ok(verdict(report.failures.is_empty()))
        }
        Command::Selftest { seed, plugins } => {
            let report = selftest::run(&plugins.registry(), seed)?;
            print!("{}", report.text);
            Ok(verdict(report.passed))
        }
        Command::Knn(args) => {
            print!("{}", crate::commands::knn::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Embed(args) => {
            print!("{}", crate::commands::embed::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker(args) => Ok(crate::worker::serve(args)),
    }
}

/// `harness compare` (and `harness run --all`, which continues a planned comparison).
fn compare(args: &CompareArgs, registry: &PluginRegistry) -> Result<ExitCode> {
    let plan = args.plan()?;
    let interrupt = if plan.plan_only {
        InterruptFlag::never()
    } else {
        interrupt_flag(&plan)?
    };
    let outcome = crate::compare::run(&plan, registry, &interrupt)?;
    if plan.plan_only {
        print!("{}", plan_runs::next_steps(&plan.out, outcome.runs));
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", outcome.table);
    eprint!("{}", outcome.notes(&plan, "compare"));
    println!("reports: {}", plan.out.display());
    Ok(comparison_exit(&outcome))
}

/// Ctrl-C stops a comparison's worker processes; in-process runs cannot be stopped that way.
fn interrupt_flag(plan: &ComparePlan) -> Result<InterruptFlag> {
    if plan.in_process {
        Ok(InterruptFlag::never())
    } else {
        InterruptFlag::install().context("listening for Ctrl-C")
    }
}

/// A comparison's exit code: interrupted, some runs failed, or success.
fn comparison_exit(outcome: &CompareOutcome) -> ExitCode {
    if outcome.interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if !outcome.failures.is_empty() {
        ExitCode::from(EXIT_RUNS_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

fn verdict(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! Command-line interface: clap definitions and the dispatch of each command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::compare::plan::CompareArgs;
use crate::plugin::PluginRegistry;
use crate::regress::UpdateRows;
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
    /// The registry over these folders (it scans them lazily).
    fn registry(&self) -> PluginRegistry {
        PluginRegistry::new(&self.dirs)
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
    /// Regenerate summary.csv, summary.md and the plots of a comparison folder from its CSV files.
    Report {
        /// A folder written by `harness compare`.
        folder: PathBuf,
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
}

/// Runs a parsed command; the exit code says whether checks passed.
///
/// Only `list`, `check`, `compare` and `selftest` use plugins (and take `--plugin-dir`); the
/// others never scan a plugin folder, so a broken library there cannot affect them.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::List { plugins } => {
            print!("{}", crate::commands::list::render(&plugins.registry()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            sampler,
            config,
            plugins,
        } => {
            let plugin = plugins.registry().resolve(&sampler)?;
            let report = conformance::run(&plugin, &config);
            print!("{}", report.render());
            Ok(verdict(report.passed()))
        }
        Command::Compare { args, plugins } => {
            let plan = args.plan()?;
            let outcome = crate::compare::run(&plan, &plugins.registry())?;
            print!("{}", outcome.table);
            println!("reports: {}", plan.out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { folder } => {
            print!("{}", crate::report::generate(&folder)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { a, b } => {
            print!("{}", crate::report::diff::diff(&a, &b)?);
            Ok(ExitCode::SUCCESS)
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
    }
}

fn verdict(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

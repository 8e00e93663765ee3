//! Command-line interface: clap definitions and the dispatch of each command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::compare::plan::CompareArgs;
use crate::plugin::PluginRegistry;
use crate::{conformance, selftest};

/// Test and benchmark harness for contrastive-retrieval batch samplers.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Cli {
    /// Extra folder to search for sampler plugins (repeatable; searched before
    /// $SAMPLER_PLUGIN_PATH and the harness's own folder).
    #[arg(long = "plugin-dir", global = true, value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the sampler plugins found, with version, ABI and parameters.
    List,
    /// Run the conformance suite against a plugin (a name or a path to a library).
    Check {
        /// Sampler name or path to a plugin library.
        sampler: String,
        /// The plugin's configuration as a JSON object.
        #[arg(long, default_value = "{}", value_name = "JSON")]
        config: String,
    },
    /// Train and evaluate every sampler under one fixed protocol and report retrieval metrics.
    Compare(CompareArgs),
    /// Regenerate summary.csv, summary.md and the plots of a comparison folder from its CSV files.
    Report {
        /// A folder written by `harness compare`.
        folder: PathBuf,
    },
    /// Compare a comparison's summary with a committed baseline; exit 1 on a regression.
    Regress {
        /// Baseline summary CSV; its rules are in the .toml file beside it.
        #[arg(long, value_name = "CSV")]
        baseline: PathBuf,
        /// Run folder (or its summary.csv) to check.
        #[arg(long, value_name = "DIR")]
        current: PathBuf,
        /// Replace the baseline with the current summary (on purpose), showing old and new values.
        #[arg(long)]
        update: bool,
    },
    /// The guide's quick test: hard batches must show a dominant cluster, random ones must not.
    Selftest {
        /// Seed of the fixture and of the batches.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Exact top-k cosine neighbour table of an embedding file: time, peak memory, bound.
    Knn(crate::commands::knn::KnnArgs),
    /// MiniLM embeddings of a pairs table's descriptions, written as a float32 .npy.
    Embed(crate::commands::embed::EmbedArgs),
}

/// Runs a parsed command; the exit code says whether checks passed.
///
/// Only `list`, `check`, `compare` and `selftest` use plugins; the others never scan a plugin
/// folder, so a broken library there cannot affect them. The registry itself scans lazily.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let registry = || PluginRegistry::new(&cli.plugin_dirs);
    match cli.command {
        Command::List => {
            print!("{}", crate::commands::list::render(&registry()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { sampler, config } => {
            let plugin = registry().resolve(&sampler)?;
            let report = conformance::run(&plugin, &config);
            print!("{}", report.render());
            Ok(verdict(report.passed()))
        }
        Command::Compare(args) => {
            let plan = args.plan()?;
            let outcome = crate::compare::run(&plan, &registry())?;
            print!("{}", outcome.table);
            println!("reports: {}", plan.out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { folder } => {
            print!("{}", crate::report::generate(&folder)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Regress {
            baseline,
            current,
            update,
        } => {
            if update {
                print!("{}", crate::regress::update(&baseline, &current)?);
                return Ok(ExitCode::SUCCESS);
            }
            let report = crate::regress::regress(&baseline, &current)?;
            print!("{}", report.text);
            Ok(verdict(report.failures.is_empty()))
        }
        Command::Selftest { seed } => {
            let report = selftest::run(&registry(), seed)?;
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
    }
}

fn verdict(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

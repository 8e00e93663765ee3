//! `harness compare`: every sampler through the same training and evaluation protocol, with
//! only batch composition differing, and the reports that come out of it.
//!
//! Everything is checked before anything is written: the samplers (each created once in a worker
//! process, so a plugin that crashes on its configuration is named, not fatal), the dataset, the
//! batch size against it, and the output folder. Then the plan goes into the folder and every
//! sampler x seed run executes in its own worker process (see [`scheduler`]).

pub mod events;
mod outputs;
pub mod plan;
pub mod plan_file;
pub mod plan_runs;
pub mod records;
mod scheduler;
pub mod single_run;

use anyhow::{Context, Result, bail};

use crate::dataset;
use crate::plugin::PluginRegistry;
use crate::sampler_set::{ResolvedSampler, SamplerInputs, group_settings, resolve_samplers};
use crate::signals::InterruptFlag;
use outputs::FailedRun;
use plan::ComparePlan;
use plan_file::{PLAN_FORMAT, PlanFile, PlannedDataset, PlannedRun, PlannedSampler, library_hash};
use scheduler::Execution;

pub use single_run::LIBTORCH_VERSION;

/// What a comparison produced (its files aside).
#[derive(Debug)]
pub struct CompareOutcome {
    /// The results table for the terminal (empty when no run finished).
    pub table: String,
    pub failures: Vec<FailedRun>,
    /// Stopped by SIGINT/SIGTERM; `--resume` continues it.
    pub interrupted: bool,
    /// Runs in the plan.
    pub runs: usize,
}

impl CompareOutcome {
    /// What the terminal shows after the table: failed runs and how to continue (with
    /// `harness COMMAND --resume`).
    pub fn notes(&self, plan: &ComparePlan, command: &str) -> String {
        let mut notes = String::new();
        if !self.failures.is_empty() {
            notes.push_str(&format!(
                "{} run(s) failed (listed in failed_runs.csv; the statistics use the finished runs only):\n",
                self.failures.len()
            ));
            for failure in &self.failures {
                notes.push_str(&format!("  {failure}\n"));
            }
        }
        if self.interrupted || !self.failures.is_empty() {
            notes.push_str(&format!(
                "continue with: harness {command} --resume {}\n",
                plan.out.display()
            ));
        }
        notes
    }
}

/// Runs the plan: everything is validated before the output folder is created.
pub fn run(
    plan: &ComparePlan,
    registry: &PluginRegistry,
    interrupt: &InterruptFlag,
) -> Result<CompareOutcome> {
    let samplers = resolve_samplers(registry, plan.samplers(), &group_settings(plan.sets())?)?;
    let needs = samplers
        .iter()
        .map(|sampler| neighbours_needed(sampler, plan))
        .collect::<Result<Vec<usize>>>()?;
    let loaded = dataset::load(&plan.dataset, plan.strict())?;
    let data = &loaded.data;
    let inputs = SamplerInputs::for_samplers(
        data.train.normalised_texts(),
        data.train.text_dim,
        samplers.iter().map(|s| s.label.as_str()).zip(needs),
    )
    .context("description embeddings of the train split")?;
    for &seed in &plan.seeds {
        inputs.view(plan.protocol.batch_size, seed, plan.drop_last())?;
    }
    check_towers(plan, data)?;
    let plan_file = plan_file(plan, &samplers, &loaded, inputs.k)?;
    let pending: Vec<usize> = if plan.resume {
        let stored = PlanFile::read(&plan.out)?;
        let differences = plan_file.differences_from(&stored);
        if !differences.is_empty() {
            bail!(
                "--resume {}: its finished runs cannot be kept, because {}",
                plan.out.display(),
                differences.join("; ")
            );
        }
        let pending: Vec<usize> = (0..stored.runs.len())
            .filter(|&i| !outputs::is_finished(&plan.out, &stored.runs[i]))
            .collect();
        for &index in &pending {
            outputs::clear_unfinished(&plan.out, &stored.runs[index])?;
        }
        pending
    } else {
        outputs::check_new_folder(&plan.out)?;
        outputs::create(&plan.out, &plan_file)?;
        (0..plan_file.runs.len()).collect()
    };
    if let dataset::DatasetSpec::Files(_) = plan.dataset {
        let list = dataset::write_skipped(&plan.out, &loaded.skipped)?;
        if let Some(warning) = dataset::skipped_summary(&loaded, &list) {
            eprintln!("{warning}");
        }
    }
    if plan.plan_only {
        // Header-only tables, as a comparison with no finished run has.
        outputs::assemble(&plan.out, &plan_file)?;
        return Ok(CompareOutcome {
            table: String::new(),
            failures: Vec::new(),
            interrupted: false,
            runs: plan_file.runs.len(),
        });
    }
    if !plan.quiet {
        let labels: Vec<&str> = samplers.iter().map(|s| s.label.as_str()).collect();
        eprintln!(
            "comparing {} on {} ({} train / {} test pairs), seeds {:?}, {} epochs; neighbour table k = {}; {} of {} runs to do, {} at a time; writing {}",
            labels.join(", "),
            data.name,
            data.train.n,
            data.test.n,
            plan.seeds,
            plan.protocol.epochs,
            inputs.k,
            pending.len(),
            plan_file.runs.len(),
            if plan.in_process { 1 } else { plan.jobs },
            plan.out.display()
        );
    }
    let batch_size = plan.protocol.batch_size;
    let execution = Execution {
        jobs: plan.jobs,
        run_timeout: plan.run_timeout,
        quiet: plan.quiet,
        in_process: plan.in_process,
        batches_per_epoch: if plan.drop_last() {
            data.train.n / batch_size
        } else {
            data.train.n.div_ceil(batch_size)
        } as u64,
    };
    drop(loaded);
    let outcome = scheduler::run_pending(&plan.out, &plan_file, &pending, &execution, interrupt)?;
    let any_finished = plan_file
        .runs
        .iter()
        .any(|run| outputs::is_finished(&plan.out, run));
    let table = if any_finished {
        crate::report::generate(&plan.out)?
    } else {
        String::new()
    };
    Ok(CompareOutcome {
        table,
        failures: outcome.failures,
        interrupted: outcome.interrupted,
        runs: plan_file.runs.len(),
    })
}

/// TorchScript towers are built once here, so that a file that does not load or widths that do
/// not match are refused before anything is written (a built-in tower cannot fail that way).
fn check_towers(plan: &ComparePlan, data: &paired_data::PairedData) -> Result<()> {
    let scripted = matches!(
        plan.protocol.item_encoder,
        models::ItemEncoderKind::TorchScript(_)
    ) || matches!(
        plan.protocol.text_tower,
        models::TextTowerKind::TorchScript(_)
    );
    if scripted {
        models::Trainer::new(plan.protocol.clone(), data, plan.seeds[0])?;
    }
    Ok(())
}

/// Longest a sampler's creation may take when `--run-timeout` does not say.
const CREATE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The neighbours a sampler asks for, from creating it once: in a worker process (a plugin
/// that crashes or hangs there is named), or here with `--in-process`.
fn neighbours_needed(sampler: &ResolvedSampler, plan: &ComparePlan) -> Result<usize> {
    if plan.in_process {
        return Ok(sampler_api::Sampler::neighbours_needed(
            &sampler.create()?.sampler,
        ));
    }
    let command = crate::worker::command(&[
        "probe".as_ref(),
        "--library".as_ref(),
        sampler.plugin.path.as_os_str(),
        "--config".as_ref(),
        sampler.config_json.as_ref(),
    ])?;
    let mut needed = None;
    let timeout = plan.run_timeout.unwrap_or(CREATE_TIMEOUT);
    let end = crate::worker::run_to_end(command, Some(timeout), &mut |event| {
        if let events::RunEvent::Probed { neighbours_needed } = event {
            needed = Some(*neighbours_needed as usize);
        }
    })?;
    match (needed, end.error) {
        (Some(needed), _) if end.status.success() => Ok(needed),
        (_, Some(error)) if sampler.label != sampler.plugin.name => {
            bail!("sampler '{}': {error}", sampler.label)
        }
        (_, Some(error)) => bail!("{error}"),
        _ if end.timed_out => bail!(
            "{}: creating the sampler took longer than {} s and was stopped (--run-timeout sets the limit)",
            sampler.describe(),
            timeout.as_secs_f64()
        ),
        _ => bail!(
            "{}: the plugin crashed while being created: the worker process {}",
            sampler.describe(),
            crate::signals::describe_exit(end.status)
        ),
    }
}

/// The plan file of a comparison: settings, inputs' identities and the runs, seed-major.
fn plan_file(
    plan: &ComparePlan,
    samplers: &[ResolvedSampler],
    loaded: &dataset::LoadedDataset,
    neighbour_k: usize,
) -> Result<PlanFile> {
    let planned = samplers
        .iter()
        .map(|s| {
            Ok(PlannedSampler {
                label: s.label.clone(),
                plugin: s.plugin.name.clone(),
                version: s.plugin.version.clone(),
                abi: s.plugin.abi(),
                library: s.plugin.path.clone(),
                library_hash: library_hash(&s.plugin.path)?,
                config: s.config_json.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let runs = plan
        .seeds
        .iter()
        .flat_map(|&seed| {
            samplers.iter().map(move |s| PlannedRun {
                sampler: s.label.clone(),
                seed,
            })
        })
        .collect();
    Ok(PlanFile {
        format: PLAN_FORMAT,
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        protocol_version: plan.protocol.protocol_version(),
        settings: plan.settings.clone(),
        dataset: PlannedDataset {
            name: loaded.data.name.clone(),
            fingerprint: loaded.fingerprint.clone(),
        },
        neighbour_k,
        samplers: planned,
        runs,
    })
}

//! One sampler x seed run of a plan, from its inputs to its files: what a worker process does
//! (and what `--in-process` does inside the harness). Everything is read from the plan, so a run
//! is the same wherever it executes.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use models::Trainer;
use sampler_api::contract::{HardnessMeter, QuarterShares};
use sampler_api::{
    BatchSink, EpochBuffers, EpochNote, ModelNeeds, ModelTables, Sampler, SamplerData,
};

use super::events::RunEvent;
use super::outputs;
use super::plan_file::{PlanFile, PlannedSampler, library_hash};
use super::records::{EpochRecord, RunContext, RunRecord, SamplerIdentity};
use crate::dataset;
use crate::device::DeviceChoice;
use crate::epochs::run_epoch;
use crate::neighbours::{ComputeDevice, confusion_table_on, neighbour_table_on};
use crate::plugin::{ForeignSampler, PluginRegistry};
use crate::sampler_set::{ConfiguredSampler, SamplerInputs};

/// The libtorch the harness was built against (read from its headers at build time).
pub const LIBTORCH_VERSION: &str = env!("HARNESS_LIBTORCH_VERSION");

/// Runs run `index` of the plan in `folder` and writes its files; events go to `emit`.
pub fn execute(
    folder: &Path,
    plan: &PlanFile,
    index: usize,
    emit: &mut dyn FnMut(RunEvent),
) -> Result<()> {
    let run = plan.runs.get(index).with_context(|| {
        format!(
            "run {index} is not in the plan ({} runs: 0 to {})",
            plan.runs.len(),
            plan.runs.len().saturating_sub(1)
        )
    })?;
    let planned = plan.sampler(&run.sampler)?;
    let sampler = load_sampler(planned)?;
    let settings = plan.settings.resolve()?;
    let loaded = dataset::load(&settings.dataset, plan.settings.strict)?;
    if loaded.fingerprint != plan.dataset.fingerprint {
        bail!(
            "the dataset changed since the plan was written (fingerprint {} now, {} in the plan)",
            loaded.fingerprint,
            plan.dataset.fingerprint
        );
    }
    let data = &loaded.data;
    let inputs = SamplerInputs::new(
        data.train.normalised_texts(),
        data.train.text_dim,
        plan.neighbour_k,
    )
    .context("description embeddings of the train split")?;
    let view = inputs.view(
        settings.protocol.batch_size,
        run.seed,
        plan.settings.drop_last,
    )?;
    let context = run_context(plan, &settings.protocol, &loaded.fingerprint);
    // Errors say what went wrong; the harness adds which sampler and seed.
    let record = run_one(&settings.protocol, data, &view, &sampler, run.seed, emit)?;
    outputs::write_run(folder, &record, &context)?;
    emit(RunEvent::Finished);
    Ok(())
}

/// The planned sampler's library, refused if it changed since the plan was written.
fn load_sampler(planned: &PlannedSampler) -> Result<ConfiguredSampler> {
    let hash = library_hash(&planned.library)?;
    if hash != planned.library_hash {
        bail!(
            "sampler '{}': the library {} changed since the plan was written (hash {hash} now, {} in the plan)",
            planned.label,
            planned.library.display(),
            planned.library_hash
        );
    }
    let path = planned.library.to_string_lossy();
    let plugin = PluginRegistry::new(&[]).resolve(&path)?;
    let sampler = ForeignSampler::new(&plugin, &planned.config)?;
    Ok(ConfiguredSampler {
        label: planned.label.clone(),
        config_json: planned.config.clone(),
        sampler,
    })
}

/// Facts shared by every row of the comparison.
pub fn run_context(
    plan: &PlanFile,
    protocol: &models::ProtocolConfig,
    fingerprint: &str,
) -> RunContext {
    RunContext {
        protocol_version: protocol.protocol_version(),
        dataset: plan.dataset.name.clone(),
        dataset_fingerprint: fingerprint.to_string(),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        libtorch_version: LIBTORCH_VERSION.to_string(),
        device: DeviceChoice(protocol.device).to_string(),
        threads: protocol.threads,
        epochs: protocol.epochs,
        batch_size: protocol.batch_size,
        drop_last: plan.settings.drop_last,
        learning_rate: protocol.learning_rate,
        weight_decay: protocol.weight_decay,
        temperature: match protocol.temperature_schedule {
            Some(s) => format!("linear {}->{}", s.start, s.end),
            None => protocol.temperature.to_string(),
        },
        grad_clip_norm: protocol.grad_clip_norm,
    }
}

/// One sampler x seed run: fresh model from the seed, then train and evaluate every epoch.
fn run_one(
    protocol: &models::ProtocolConfig,
    data: &paired_data::PairedData,
    view: &SamplerData<'_>,
    sampler: &ConfiguredSampler,
    seed: u64,
    emit: &mut dyn FnMut(RunEvent),
) -> Result<RunRecord> {
    let started = Instant::now();
    let mut trainer = Trainer::new(protocol.clone(), data, seed)?;
    let mut buffers = EpochBuffers::new(view.n_items());
    let mut meter = HardnessMeter::new(view.n_items());
    let mut epochs: Vec<EpochRecord> = Vec::new();
    let tag = format!("[{} seed {seed}]", sampler.label);
    let needs = sampler.sampler.model_neighbours_needed();
    if needs.k >= view.n_items() {
        bail!(
            "the sampler asks for {} model neighbours per item, but the train split has {} items",
            needs.k,
            view.n_items()
        );
    }
    let mut model_tables: Option<ModelTableSet> = None;
    for epoch in 1..=protocol.epochs {
        emit(RunEvent::EpochStarted { epoch });
        let epoch_started = Instant::now();
        let view = &match &model_tables {
            Some(tables) => view.with_model_tables(tables.view())?,
            None => *view,
        };
        let (sink, note) = run_epoch(&sampler.sampler, view, epoch, &mut buffers)?;
        let sampler_seconds = epoch_started.elapsed().as_secs_f64();
        if epochs
            .last()
            .is_none_or(|previous| previous.note.stage != note.stage)
        {
            emit(RunEvent::Log {
                line: format!(
                    "{tag} stage '{}' from epoch {epoch} (hard_ratio {}, hardness_k {})",
                    note.stage, note.hard_ratio, note.hardness_k
                ),
            });
        }
        let (realised_hard_share, realised_by_quarter) =
            realised_shares(&sink, &view.through(note.table)?, &note, &mut meter);
        emit(RunEvent::Training {
            batches: sink.n_batches() as u64,
        });
        // The trainer pulls the next batch once the previous step is done.
        let batches = sink.batches().inspect(|_| emit(RunEvent::Batch));
        let stats = trainer.train_epoch(epoch - 1, batches)?;
        let eval_started = Instant::now();
        let evaluation = trainer.evaluate()?;
        let eval_seconds = eval_started.elapsed().as_secs_f64();
        // Computed after the evaluation, read from the next epoch on.
        let started = Instant::now();
        let refreshed = needs
            .refresh_after(epoch, protocol.epochs)
            .then(|| ModelTableSet::compute(&trainer, needs, epoch, protocol.device))
            .transpose()?;
        let model_neighbours_seconds = refreshed.as_ref().map(|_| started.elapsed().as_secs_f64());
        let t2i = &evaluation.text_to_item;
        emit(RunEvent::Log {
            line: format!(
                "{tag} epoch {epoch}/{} loss {} text->item MRR {:.4} R@1 {:.3} R@5 {:.3} R@10 {:.3} | item->text MRR {:.4} | {:.2} s",
                protocol.epochs,
                stats.mean_loss.map_or("n/a".into(), |l| format!("{l:.4}")),
                t2i.mrr,
                t2i.recall_at_1,
                t2i.recall_at_5,
                t2i.recall_at_10,
                evaluation.item_to_text.mrr,
                epoch_started.elapsed().as_secs_f64()
            ),
        });
        epochs.push(EpochRecord {
            epoch,
            note,
            realised_hard_share,
            realised_by_quarter,
            false_negatives: sampler_api::similarity::FalseNegativeCount::of_epoch(&sink, view),
            stats,
            evaluation,
            seconds: epoch_started.elapsed().as_secs_f64(),
            sampler_seconds,
            eval_seconds,
            model_neighbours_seconds,
        });
        if refreshed.is_some() {
            model_tables = refreshed;
        }
    }
    let identity = SamplerIdentity {
        label: sampler.label.clone(),
        plugin: sampler.plugin().name.clone(),
        version: sampler.plugin().version.clone(),
        abi: sampler.plugin().abi(),
        config_json: sampler.config_json.clone(),
    };
    Ok(RunRecord {
        sampler: identity,
        seed,
        epochs,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The latest tables from the model under training, for a sampler that reads them (ABI 1.1).
struct ModelTableSet {
    neighbours: Vec<u32>,
    confusions: Vec<u32>,
    k: usize,
    after_epoch: u32,
}

impl ModelTableSet {
    /// Both tables from the model's train-split embeddings, with the exact neighbour code on
    /// the training device.
    fn compute(
        trainer: &Trainer,
        needs: ModelNeeds,
        after_epoch: u32,
        device: tch::Device,
    ) -> Result<Self> {
        let embeddings = trainer.train_embeddings()?;
        let device = ComputeDevice::from(device);
        let (items, texts, dim, k) = (
            &embeddings.items,
            &embeddings.texts,
            embeddings.dim,
            needs.k,
        );
        Ok(ModelTableSet {
            neighbours: neighbour_table_on(items, dim, k, device, None)
                .context("the model's item neighbour table")?,
            confusions: confusion_table_on(texts, items, dim, k, device)
                .context("the model's confusion table")?,
            k,
            after_epoch,
        })
    }

    fn view(&self) -> ModelTables<'_> {
        ModelTables::new(&self.neighbours, &self.confusions, self.k, self.after_epoch)
    }
}

/// Mean realised hard share of an epoch's batches, overall and per quarter of the epoch, against
/// the neighbourhood the note names (or the whole table for a random epoch).
fn realised_shares(
    sink: &BatchSink<'_>,
    view: &SamplerData<'_>,
    note: &EpochNote,
    meter: &mut HardnessMeter,
) -> (Option<f64>, [Option<f64>; 4]) {
    let k = if note.hardness_k > 0 {
        note.hardness_k
    } else {
        view.k()
    };
    if k == 0 {
        return (None, [None; 4]);
    }
    let mut shares = QuarterShares::default();
    shares.add_epoch(sink, view, k, meter);
    (shares.mean(), shares.by_quarter())
}

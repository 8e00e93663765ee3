//! `harness compare`: every sampler through the same training and evaluation protocol, with
//! only batch composition differing, and the reports that come out of it.

mod outputs;
pub mod plan;
pub mod records;

use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use models::Trainer;
use sampler_api::contract::{HardnessMeter, QuarterShares};
use sampler_api::{BatchSink, EpochBuffers, EpochNote, Sampler, SamplerData};

use crate::dataset;
use crate::device::DeviceChoice;
use crate::epochs::run_epoch;
use crate::plugin::PluginRegistry;
use crate::sampler_set::{ConfiguredSampler, SamplerInputs, configure, group_settings};
use outputs::Outputs;
use plan::ComparePlan;
use records::{EpochRecord, RunContext, RunRecord, SamplerIdentity};

/// The libtorch the harness was built against (read from its headers at build time).
pub const LIBTORCH_VERSION: &str = env!("HARNESS_LIBTORCH_VERSION");

/// What a finished comparison produced (its files aside).
#[derive(Debug)]
pub struct CompareOutcome {
    /// The results table for the terminal.
    pub table: String,
}

/// Runs the plan: samplers are configured and outputs created before any training starts.
pub fn run(plan: &ComparePlan, registry: &PluginRegistry) -> Result<CompareOutcome> {
    let samplers = configure(registry, &plan.samplers, &group_settings(&plan.sets)?)?;
    let labels: Vec<String> = samplers.iter().map(|s| s.label.clone()).collect();
    // A dataset error leaves no output folder behind; loading takes about a second.
    let loaded = dataset::load(&plan.dataset, plan.strict)?;
    let mut outputs = Outputs::create(&plan.out)?;
    if let dataset::DatasetSpec::Files(_) = plan.dataset {
        let list = dataset::write_skipped(&plan.out, &loaded.skipped)?;
        if let Some(warning) = dataset::skipped_summary(&loaded, &list) {
            eprintln!("{warning}");
        }
    }
    let data = &loaded.data;
    let inputs = SamplerInputs::for_samplers(
        data.train.normalised_texts(),
        data.train.text_dim,
        samplers
            .iter()
            .map(|s| (s.label.as_str(), &s.sampler as &dyn Sampler)),
    )
    .context("description embeddings of the train split")?;
    let context = RunContext {
        protocol_version: plan.protocol.protocol_version(),
        dataset: data.name.clone(),
        dataset_fingerprint: loaded.fingerprint.clone(),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        libtorch_version: LIBTORCH_VERSION.to_string(),
        device: DeviceChoice(plan.protocol.device).to_string(),
        threads: plan.protocol.threads,
        epochs: plan.protocol.epochs,
        batch_size: plan.protocol.batch_size,
        drop_last: plan.drop_last,
        learning_rate: plan.protocol.learning_rate,
        weight_decay: plan.protocol.weight_decay,
        temperature: match plan.protocol.temperature_schedule {
            Some(s) => format!("linear {}->{}", s.start, s.end),
            None => plan.protocol.temperature.to_string(),
        },
        grad_clip_norm: plan.protocol.grad_clip_norm,
    };
    let progress = progress_bar(plan, samplers.len());
    log(
        &progress,
        plan,
        &format!(
            "comparing {} on {} ({} train / {} test pairs), seeds {:?}, {} epochs; neighbour table k = {}; writing {}",
            labels.join(", "),
            data.name,
            data.train.n,
            data.test.n,
            plan.seeds,
            plan.protocol.epochs,
            inputs.k,
            plan.out.display()
        ),
    );
    // Seed-major order: every sampler's run for a seed finishes before the next seed starts,
    // so an interrupted comparison still holds paired results.
    for &seed in &plan.seeds {
        let view = inputs.view(plan.protocol.batch_size, seed, plan.drop_last)?;
        for sampler in &samplers {
            let run = run_one(plan, data, &view, sampler, seed, &progress)
                .with_context(|| format!("{}, seed {seed}", sampler.describe()))?;
            outputs.record_run(&run, &context)?;
        }
    }
    progress.finish_and_clear();
    let table = crate::report::generate(&plan.out)?;
    Ok(CompareOutcome { table })
}

fn progress_bar(plan: &ComparePlan, n_samplers: usize) -> ProgressBar {
    if plan.quiet {
        return ProgressBar::hidden();
    }
    let total = plan.seeds.len() as u64 * n_samplers as u64 * u64::from(plan.protocol.epochs);
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} epochs, eta {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// A log line on stderr, above the progress bar when one is drawn.
fn log(progress: &ProgressBar, plan: &ComparePlan, line: &str) {
    if plan.quiet {
        return;
    }
    if progress.is_hidden() {
        eprintln!("{line}");
    } else {
        progress.println(line);
    }
}

/// One sampler x seed run: fresh model from the seed, then train and evaluate every epoch.
fn run_one(
    plan: &ComparePlan,
    data: &paired_data::PairedData,
    view: &SamplerData<'_>,
    sampler: &ConfiguredSampler,
    seed: u64,
    progress: &ProgressBar,
) -> Result<RunRecord> {
    let started = Instant::now();
    let mut trainer = Trainer::new(plan.protocol.clone(), data, seed)?;
    let mut buffers = EpochBuffers::new(view.n_items());
    let mut meter = HardnessMeter::new(view.n_items());
    let mut epochs: Vec<EpochRecord> = Vec::new();
    let tag = format!("[{} seed {seed}]", sampler.label);
    progress.set_message(tag.clone());
    for epoch in 1..=plan.protocol.epochs {
        let epoch_started = Instant::now();
        let (sink, note) = run_epoch(&sampler.sampler, view, epoch, &mut buffers)?;
        let sampler_seconds = epoch_started.elapsed().as_secs_f64();
        if epochs
            .last()
            .is_none_or(|previous| previous.note.stage != note.stage)
        {
            log(
                progress,
                plan,
                &format!(
                    "{tag} stage '{}' from epoch {epoch} (hard_ratio {}, hardness_k {})",
                    note.stage, note.hard_ratio, note.hardness_k
                ),
            );
        }
        let (realised_hard_share, realised_by_quarter) =
            realised_shares(&sink, view, &note, &mut meter);
        let stats = trainer.train_epoch(epoch - 1, sink.batches())?;
        let eval_started = Instant::now();
        let evaluation = trainer.evaluate()?;
        let eval_seconds = eval_started.elapsed().as_secs_f64();
        let t2i = &evaluation.text_to_item;
        log(
            progress,
            plan,
            &format!(
                "{tag} epoch {epoch}/{} loss {} text->item MRR {:.4} R@1 {:.3} R@5 {:.3} R@10 {:.3} | item->text MRR {:.4} | {:.2} s",
                plan.protocol.epochs,
                stats.mean_loss.map_or("n/a".into(), |l| format!("{l:.4}")),
                t2i.mrr,
                t2i.recall_at_1,
                t2i.recall_at_5,
                t2i.recall_at_10,
                evaluation.item_to_text.mrr,
                epoch_started.elapsed().as_secs_f64()
            ),
        );
        progress.inc(1);
        epochs.push(EpochRecord {
            epoch,
            note,
            realised_hard_share,
            realised_by_quarter,
            stats,
            evaluation,
            seconds: epoch_started.elapsed().as_secs_f64(),
            sampler_seconds,
            eval_seconds,
        });
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

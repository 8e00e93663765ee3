//! What a comparison measures: one record per epoch and per run, and their CSV/JSON forms.

use models::{DirectionMetrics, EpochStats, Evaluation};
use sampler_api::EpochNote;
use serde_json::{Value, json};

use crate::report::csv_file::{Row, RowBuilder};

/// Facts shared by every row of a comparison (environment and protocol).
#[derive(Debug, Clone)]
pub struct RunContext {
    pub protocol_version: String,
    pub dataset: String,
    pub dataset_fingerprint: String,
    pub harness_version: String,
    pub libtorch_version: String,
    pub device: String,
    pub threads: usize,
    pub epochs: u32,
    pub batch_size: usize,
    pub drop_last: bool,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub temperature: String,
    pub grad_clip_norm: f64,
}

/// The sampler of a run as reports name it.
#[derive(Debug, Clone)]
pub struct SamplerIdentity {
    pub label: String,
    pub plugin: String,
    pub version: String,
    pub abi: String,
    pub config_json: String,
}

/// One epoch of one run.
#[derive(Debug, Clone)]
pub struct EpochRecord {
    pub epoch: u32,
    pub note: EpochNote,
    /// Mean realised hard share over the epoch's batches, and per quarter of the epoch (batch
    /// position); `None` without a neighbour table to measure against.
    pub realised_hard_share: Option<f64>,
    pub realised_by_quarter: [Option<f64>; 4],
    pub stats: EpochStats,
    pub evaluation: Evaluation,
    pub seconds: f64,
    pub sampler_seconds: f64,
    pub eval_seconds: f64,
}

/// One sampler x seed run of the protocol.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub sampler: SamplerIdentity,
    pub seed: u64,
    pub epochs: Vec<EpochRecord>,
    pub wall_seconds: f64,
}

impl RunRecord {
    /// The last epoch (a run has at least one).
    pub fn last(&self) -> &EpochRecord {
        self.epochs.last().expect("a run has at least one epoch")
    }

    /// The epoch with the best text->item MRR (the earliest on ties).
    pub fn best(&self) -> &EpochRecord {
        self.epochs
            .iter()
            .reduce(|best, e| {
                if e.evaluation.text_to_item.mrr > best.evaluation.text_to_item.mrr {
                    e
                } else {
                    best
                }
            })
            .expect("a run has at least one epoch")
    }

    fn total(&self, part: impl Fn(&EpochRecord) -> f64) -> f64 {
        self.epochs.iter().map(part).sum()
    }

    /// Share of wall time spent outside libtorch's training steps and evaluation: producing and
    /// checking batches, measuring them, logging.
    pub fn overhead_share(&self) -> f64 {
        let in_torch = self.total(|e| e.stats.seconds_in_steps + e.eval_seconds);
        ((self.wall_seconds - in_torch) / self.wall_seconds).max(0.0)
    }
}

/// Columns that hold timings; they differ between otherwise identical runs.
pub const TIMING_COLUMNS: [&str; 9] = [
    "wall_seconds",
    "sampler_seconds",
    "train_seconds",
    "eval_seconds",
    "overhead_share",
    "epoch_seconds",
    "epoch_sampler_seconds",
    "epoch_train_seconds",
    "epoch_eval_seconds",
];

/// The retrieval metrics of one direction, as columns named `<prefix>_<metric>`.
pub fn metric_columns(row: RowBuilder, prefix: &str, metrics: &DirectionMetrics) -> RowBuilder {
    row.number(&format!("{prefix}_mrr"), metrics.mrr)
        .number(&format!("{prefix}_r1"), metrics.recall_at_1)
        .number(&format!("{prefix}_r5"), metrics.recall_at_5)
        .number(&format!("{prefix}_r10"), metrics.recall_at_10)
        .number(&format!("{prefix}_mean_rank"), metrics.mean_rank)
}

fn identity_columns(row: RowBuilder, sampler: &SamplerIdentity) -> RowBuilder {
    row.text("sampler", &sampler.label)
        .text("plugin", &sampler.plugin)
        .text("plugin_version", &sampler.version)
        .text("plugin_abi", &sampler.abi)
        .text("sampler_config", &sampler.config_json)
}

fn context_columns(row: RowBuilder, context: &RunContext) -> RowBuilder {
    row.text("protocol_version", &context.protocol_version)
        .text("dataset", &context.dataset)
        .text("dataset_fingerprint", &context.dataset_fingerprint)
        .text("harness_version", &context.harness_version)
        .text("libtorch_version", &context.libtorch_version)
        .text("device", &context.device)
        .text("threads", context.threads)
        .text("epochs", context.epochs)
        .text("batch_size", context.batch_size)
        .text("drop_last", context.drop_last)
        .number("learning_rate", context.learning_rate)
        .number("weight_decay", context.weight_decay)
        .text("temperature", &context.temperature)
        .number("grad_clip_norm", context.grad_clip_norm)
}

/// The `runs.csv` row of a run.
pub fn run_row(run: &RunRecord, context: &RunContext) -> Row {
    let (last, best) = (run.last(), run.best());
    let row = identity_columns(RowBuilder::default(), &run.sampler).text("seed", run.seed);
    let row = metric_columns(row, "text_to_item", &last.evaluation.text_to_item);
    let row = metric_columns(row, "item_to_text", &last.evaluation.item_to_text)
        .text("best_epoch", best.epoch);
    let row = metric_columns(row, "best_text_to_item", &best.evaluation.text_to_item);
    let row = metric_columns(row, "best_item_to_text", &best.evaluation.item_to_text)
        .optional("final_train_loss", last.stats.mean_loss)
        .optional(
            "realised_hard_share",
            mean_of(run.epochs.iter().filter_map(|e| e.realised_hard_share)),
        )
        .number("wall_seconds", run.wall_seconds)
        .number("sampler_seconds", run.total(|e| e.sampler_seconds))
        .number("train_seconds", run.total(|e| e.stats.seconds_in_steps))
        .number("eval_seconds", run.total(|e| e.eval_seconds))
        .number("overhead_share", run.overhead_share());
    context_columns(row, context).build()
}

/// The `epochs.csv` rows of a run.
pub fn epoch_rows(run: &RunRecord) -> Vec<Row> {
    run.epochs
        .iter()
        .map(|epoch| {
            let row = RowBuilder::default()
                .text("sampler", &run.sampler.label)
                .text("seed", run.seed)
                .text("epoch", epoch.epoch)
                .text("stage", &epoch.note.stage)
                .number("hard_ratio", epoch.note.hard_ratio)
                .text("hardness_k", epoch.note.hardness_k)
                .optional("realised_hard_share", epoch.realised_hard_share);
            let row = (0..4).fold(row, |row, q| {
                row.optional(
                    &format!("realised_hard_share_q{}", q + 1),
                    epoch.realised_by_quarter[q],
                )
            });
            let row = row
                .optional("train_loss", epoch.stats.mean_loss)
                .number("temperature", epoch.stats.temperature)
                .text("steps", epoch.stats.steps);
            let row = metric_columns(row, "text_to_item", &epoch.evaluation.text_to_item);
            metric_columns(row, "item_to_text", &epoch.evaluation.item_to_text)
                .number("epoch_seconds", epoch.seconds)
                .number("epoch_sampler_seconds", epoch.sampler_seconds)
                .number("epoch_train_seconds", epoch.stats.seconds_in_steps)
                .number("epoch_eval_seconds", epoch.eval_seconds)
                .build()
        })
        .collect()
}

/// The per-query reciprocal ranks of the run's final epoch, one row per held-out query, so any
/// two runs can be compared query by query later.
pub fn reciprocal_rank_rows(run: &RunRecord) -> Vec<Row> {
    let evaluation = &run.last().evaluation;
    evaluation
        .text_to_item
        .reciprocal_ranks
        .iter()
        .zip(&evaluation.item_to_text.reciprocal_ranks)
        .enumerate()
        .map(|(query, (t2i, i2t))| {
            RowBuilder::default()
                .text("query", query)
                .number("text_to_item", *t2i)
                .number("item_to_text", *i2t)
                .build()
        })
        .collect()
}

/// The run's `training_logs.json`: its configuration and one record per epoch, in the shape of
/// the reference trainer's log (`config` plus a list of per-epoch records).
pub fn training_log(run: &RunRecord, context: &RunContext) -> Value {
    let sampler_config: Value =
        serde_json::from_str(&run.sampler.config_json).unwrap_or(Value::Null);
    let epochs: Vec<Value> = run
        .epochs
        .iter()
        .map(|e| {
            let t2i = &e.evaluation.text_to_item;
            let i2t = &e.evaluation.item_to_text;
            json!({
                "epoch": e.epoch,
                "stage": e.note.stage,
                "hard_ratio": e.note.hard_ratio,
                "hardness_k": e.note.hardness_k,
                "realised_hard_share": e.realised_hard_share,
                "train_loss": e.stats.mean_loss,
                "temperature": e.stats.temperature,
                "mrr": t2i.mrr, "r1": t2i.recall_at_1, "r5": t2i.recall_at_5, "r10": t2i.recall_at_10,
                "mean_rank": t2i.mean_rank,
                "item_to_text": {"mrr": i2t.mrr, "r1": i2t.recall_at_1, "r5": i2t.recall_at_5, "r10": i2t.recall_at_10, "mean_rank": i2t.mean_rank},
                "epoch_seconds": e.seconds,
            })
        })
        .collect();
    json!({
        "config": {
            "sampler": run.sampler.label,
            "plugin": run.sampler.plugin,
            "plugin_version": run.sampler.version,
            "plugin_abi": run.sampler.abi,
            "sampler_config": sampler_config,
            "seed": run.seed,
            "epochs": context.epochs,
            "batch_size": context.batch_size,
            "drop_last": context.drop_last,
            "learning_rate": context.learning_rate,
            "weight_decay": context.weight_decay,
            "temperature": context.temperature,
            "grad_clip_norm": context.grad_clip_norm,
            "protocol_version": context.protocol_version,
            "dataset": context.dataset,
            "dataset_fingerprint": context.dataset_fingerprint,
            "harness_version": context.harness_version,
            "libtorch_version": context.libtorch_version,
            "device": context.device,
            "threads": context.threads,
        },
        "epochs": epochs,
    })
}

fn mean_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

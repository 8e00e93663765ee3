//! What a comparison measures: one record per epoch and per run, and their CSV/JSON forms.

use models::{EpochStats, Evaluation};
use sampler_api::EpochNote;
use sampler_api::similarity::{FALSE_NEGATIVE_COSINE, FalseNegativeCount};
use serde_json::{Value, json};

use crate::report::csv_file::Columns;
use crate::report::schema::{
    self, ContextField, Direction, EPOCH, FALSE_NEGATIVE_SHARE, MetricColumn, REALISED_HARD_SHARE,
    SEED, SamplerField, Timing,
};

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
    /// In-batch negative pairs of the epoch and how many have near-duplicate descriptions.
    pub false_negatives: FalseNegativeCount,
    pub stats: EpochStats,
    pub evaluation: Evaluation,
    pub seconds: f64,
    pub sampler_seconds: f64,
    pub eval_seconds: f64,
    /// Computing the model's neighbour tables after this epoch (ABI 1.1 samplers; `None` when
    /// none were due).
    pub model_neighbours_seconds: Option<f64>,
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

    /// Share of wall time spent outside libtorch's training steps, evaluation and model
    /// neighbour tables: producing and
    /// checking batches, measuring them, logging.
    pub fn overhead_share(&self) -> f64 {
        let in_torch = self.total(|e| {
            e.stats.seconds_in_steps + e.eval_seconds + e.model_neighbours_seconds.unwrap_or(0.0)
        });
        ((self.wall_seconds - in_torch) / self.wall_seconds).max(0.0)
    }
}

impl SamplerIdentity {
    /// The value of one sampler column.
    pub fn value(&self, field: SamplerField) -> &str {
        match field {
            SamplerField::Label => &self.label,
            SamplerField::Plugin => &self.plugin,
            SamplerField::Version => &self.version,
            SamplerField::Abi => &self.abi,
            SamplerField::Config => &self.config_json,
        }
    }
}

impl RunContext {
    /// The text of one context column.
    pub fn value(&self, field: ContextField) -> String {
        match field {
            ContextField::ProtocolVersion => self.protocol_version.clone(),
            ContextField::Dataset => self.dataset.clone(),
            ContextField::DatasetFingerprint => self.dataset_fingerprint.clone(),
            ContextField::HarnessVersion => self.harness_version.clone(),
            ContextField::LibtorchVersion => self.libtorch_version.clone(),
            ContextField::Device => self.device.clone(),
            ContextField::Threads => self.threads.to_string(),
            ContextField::Epochs => self.epochs.to_string(),
            ContextField::BatchSize => self.batch_size.to_string(),
            ContextField::DropLast => self.drop_last.to_string(),
            ContextField::LearningRate => self.learning_rate.to_string(),
            ContextField::WeightDecay => self.weight_decay.to_string(),
            ContextField::Temperature => self.temperature.clone(),
            ContextField::GradClipNorm => self.grad_clip_norm.to_string(),
        }
    }
}

/// Every metric column of the evaluation that `evaluation` picks, each name prefixed.
fn metric_columns<T: 'static, C: 'static>(
    columns: Columns<T, C>,
    prefix: &'static str,
    evaluation: for<'a> fn(&'a T, &C) -> &'a Evaluation,
) -> Columns<T, C> {
    MetricColumn::all().fold(columns, |columns, metric| {
        columns.number(format!("{prefix}{metric}"), move |item, shared| {
            metric.of(evaluation(item, shared))
        })
    })
}

/// The columns of `runs.csv`: one row per run, with the comparison's context.
pub fn run_columns() -> Columns<RunRecord, RunContext> {
    let columns = SamplerField::ALL
        .iter()
        .fold(Columns::new(), |columns, &field| {
            columns.text(field.name(), move |run: &RunRecord, _| {
                run.sampler.value(field).to_string()
            })
        })
        .text(SEED, |run, _| run.seed);
    let columns = metric_columns(columns, "", |run, _| &run.last().evaluation)
        .text("best_epoch", |run, _| run.best().epoch);
    let columns = metric_columns(columns, "best_", |run, _| &run.best().evaluation)
        .optional("final_train_loss", |run, _| run.last().stats.mean_loss)
        .optional(REALISED_HARD_SHARE, |run, _| {
            mean_of(run.epochs.iter().filter_map(|e| e.realised_hard_share))
        })
        .optional(FALSE_NEGATIVE_SHARE, |run, _| {
            mean_of(run.epochs.iter().filter_map(|e| e.false_negatives.share()))
        })
        .number(schema::FALSE_NEGATIVE_COSINE, |_, _| FALSE_NEGATIVE_COSINE)
        .number(Timing::Wall.name(), |run, _| run.wall_seconds)
        .number(Timing::Sampler.name(), |run, _| {
            run.total(|e| e.sampler_seconds)
        })
        .number(Timing::Train.name(), |run, _| {
            run.total(|e| e.stats.seconds_in_steps)
        })
        .number(Timing::Eval.name(), |run, _| run.total(|e| e.eval_seconds))
        .number(Timing::OverheadShare.name(), |run, _| run.overhead_share());
    ContextField::ALL.iter().fold(columns, |columns, &field| {
        columns.text(field.name(), move |_, context: &RunContext| {
            context.value(field)
        })
    })
}

/// The columns of `epochs.csv`: one row per epoch of a run.
pub fn epoch_columns() -> Columns<EpochRecord, RunRecord> {
    let columns = Columns::new()
        .text(SamplerField::Label.name(), |_, run: &RunRecord| {
            run.sampler.label.clone()
        })
        .text(SEED, |_, run| run.seed)
        .text(EPOCH, |epoch: &EpochRecord, _| epoch.epoch)
        .text("stage", |epoch, _| epoch.note.stage.clone())
        .number("hard_ratio", |epoch, _| epoch.note.hard_ratio)
        .text("hardness_k", |epoch, _| epoch.note.hardness_k)
        .optional(REALISED_HARD_SHARE, |epoch, _| epoch.realised_hard_share);
    let columns = (0..4).fold(columns, |columns, q| {
        columns.optional(
            format!("{REALISED_HARD_SHARE}_q{}", q + 1),
            move |epoch, _| epoch.realised_by_quarter[q],
        )
    });
    let columns = columns
        .optional(FALSE_NEGATIVE_SHARE, |epoch, _| {
            epoch.false_negatives.share()
        })
        .number(schema::FALSE_NEGATIVE_COSINE, |_, _| FALSE_NEGATIVE_COSINE)
        .optional("train_loss", |epoch, _| epoch.stats.mean_loss)
        .number("temperature", |epoch, _| epoch.stats.temperature)
        .text("steps", |epoch, _| epoch.stats.steps);
    metric_columns(columns, "", |epoch, _| &epoch.evaluation)
        .number(Timing::Epoch.name(), |epoch, _| epoch.seconds)
        .number(Timing::EpochSampler.name(), |epoch, _| {
            epoch.sampler_seconds
        })
        .number(Timing::EpochTrain.name(), |epoch, _| {
            epoch.stats.seconds_in_steps
        })
        .number(Timing::EpochEval.name(), |epoch, _| epoch.eval_seconds)
        .optional(Timing::EpochModelNeighbours.name(), |epoch, _| {
            epoch.model_neighbours_seconds
        })
}

/// The columns of a run's per-query file: one row per held-out query (its index) with its
/// reciprocal rank in each direction of an evaluation, so any two runs can be compared query by
/// query later.
pub fn reciprocal_rank_columns() -> Columns<usize, Evaluation> {
    let columns = Columns::new().text("query", |query: &usize, _| *query);
    Direction::ALL.iter().fold(columns, |columns, &direction| {
        columns.number(direction.name(), move |&query, evaluation: &Evaluation| {
            direction.of(evaluation).reciprocal_ranks[query]
        })
    })
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
                "false_negative_share": e.false_negatives.share(),
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
            "false_negative_cosine": FALSE_NEGATIVE_COSINE,
        },
        "epochs": epochs,
    })
}

fn mean_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

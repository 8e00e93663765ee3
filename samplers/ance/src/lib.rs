//! The `ance` sampler plugin: model-aware hard negatives, after ANCE (Xiong et al., 2021). Each
//! batch holds a random pivot and some of the items the model under training currently confuses
//! with it (its description's top-scoring wrong items), filled up with random items, as `hard`
//! does with description neighbours. The confusions come from the harness (ABI 1.1), recomputed
//! every `refresh_every` epochs; batches are random during `warmup_epochs` and until the first
//! tables arrive.

#![forbid(unsafe_code)]

use sampler_api::{
    BatchSink, EpochNote, EpochResult, HardTable, ModelNeeds, SamplerData, SamplerError,
    SamplerPlugin,
};
use sampler_kit::{HardBatching, shuffled_epoch};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of the `ance` sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnceConfig {
    /// share of each batch filled by a random pivot and the items the model confuses with it, in [0, 1]
    pub hard_ratio: f64,
    /// how many of each item's top confusions are candidates (at least 1; the width of the model tables asked for)
    pub hardness_k: usize,
    /// epochs of random batches before mining starts (0: mine as soon as tables exist)
    pub warmup_epochs: u32,
    /// the model's confusions are recomputed after every this many epochs (at least 1)
    pub refresh_every: u32,
    /// false-negative control: items whose description cosine with a batch's pivot is at or
    /// above this, in (0, 1], stay out of its batch (null: off)
    pub max_similarity: Option<f64>,
}

impl Default for AnceConfig {
    /// `hardness_k` 30: a batch of 32 at ratio 0.5 takes 15 confusions per pivot, so 30 leaves
    /// room for those already used this epoch while staying among the wrong items the model
    /// really ranks near the right one (deeper ranks are as easy as random ones).
    fn default() -> Self {
        AnceConfig {
            hard_ratio: 0.5,
            hardness_k: 30,
            warmup_epochs: 1,
            refresh_every: 1,
            max_similarity: None,
        }
    }
}

/// Hard batches over the model's confusion table once it exists and the warm-up is over (it
/// reads no description neighbours).
#[derive(Debug, Clone)]
pub struct AnceSampler {
    batching: HardBatching,
    warmup_epochs: u32,
    refresh_every: u32,
}

impl SamplerPlugin for AnceSampler {
    type Config = AnceConfig;

    /// Errors name `hard_ratio`, `hardness_k`, `refresh_every` or `max_similarity`.
    fn new(config: AnceConfig) -> Result<Self, SamplerError> {
        let batching = HardBatching::from_settings(
            config.hard_ratio,
            config.hardness_k,
            config.max_similarity,
        )?;
        batching.validate()?;
        if config.refresh_every == 0 {
            return Err(SamplerError::parameter(
                "refresh_every",
                "must be at least 1",
            ));
        }
        Ok(AnceSampler {
            batching,
            warmup_epochs: config.warmup_epochs,
            refresh_every: config.refresh_every,
        })
    }

    fn model_neighbours_needed(&self) -> ModelNeeds {
        ModelNeeds {
            k: self.batching.hardness_k,
            refresh_every: self.refresh_every,
        }
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        let waiting = if epoch <= self.warmup_epochs {
            Some("random (warm-up)")
        } else if data.model_tables().is_none() {
            Some("random (no model tables yet)")
        } else {
            None
        };
        if let Some(stage) = waiting {
            shuffled_epoch(data, epoch, sink)?;
            return Ok(EpochNote {
                stage: stage.into(),
                ..EpochNote::random()
            });
        }
        let confusions = data.through(HardTable::ModelConfusions)?;
        self.batching.fill_epoch(&confusions, epoch, sink)?;
        Ok(self
            .batching
            .note("ance")
            .from_table(HardTable::ModelConfusions))
    }
}

sampler_api::export_sampler!(
    AnceSampler,
    name = "ance",
    version = "1.0.0",
    description = "Model-aware batches: a random pivot, some of the items the model currently confuses with it, random fill.",
);

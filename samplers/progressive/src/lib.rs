//! The `progressive` sampler plugin: semantics-aware batches whose hard ratio and neighbourhood
//! size change at scheduled epochs, so that batches grow harder as training goes on.

#![forbid(unsafe_code)]

use sampler_api::SamplerError;
use sampler_kit::{HardBatching, Schedule, ScheduleConfig, ScheduledSampler, SimilarityCap};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Hard batches following a schedule of stages; it asks for the largest neighbourhood of any
/// stage, since the table is built once per run.
pub type ProgressiveSampler = ScheduledSampler<ProgressiveConfig>;

/// One step of the schedule, in force from `first_epoch` until the next stage begins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// First epoch of the stage (epochs count from 1).
    pub first_epoch: u32,
    /// Share of each batch filled by the pivot and its neighbours, in `[0, 1]`.
    pub hard_ratio: f64,
    /// How many of the pivot's nearest neighbours are candidates (at least 1).
    pub hardness_k: usize,
}

/// Settings of the `progressive` sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProgressiveConfig {
    /// schedule of {first_epoch, hard_ratio, hardness_k}; each stage lasts until the next
    /// one's first_epoch, the first starts at epoch 1
    pub stages: Vec<Stage>,
    /// false-negative control: items whose description cosine with a batch's pivot is at or
    /// above this, in (0, 1], stay out of its batch, in every stage (null: off)
    pub max_similarity: Option<f64>,
}

impl Default for ProgressiveConfig {
    /// The reference guide's recipe: gentle, then harder, then hard within a tight neighbourhood.
    fn default() -> Self {
        let stage = |first_epoch, hard_ratio, hardness_k| Stage {
            first_epoch,
            hard_ratio,
            hardness_k,
        };
        ProgressiveConfig {
            stages: vec![stage(1, 0.3, 100), stage(11, 0.6, 100), stage(21, 0.8, 30)],
            max_similarity: None,
        }
    }
}

impl ScheduleConfig for ProgressiveConfig {
    /// Hard batches following the stages: the kit's [`Schedule::progressive`]. Errors name the
    /// field, e.g. `stages[1].hard_ratio` or `max_similarity`.
    fn schedule(&self) -> Result<Schedule, SamplerError> {
        let max_similarity = SimilarityCap::from_setting(self.max_similarity)?;
        let stages = self.stages.iter().map(|stage| {
            let hard = HardBatching {
                hard_ratio: stage.hard_ratio,
                hardness_k: stage.hardness_k,
                max_similarity,
            };
            (stage.first_epoch, hard)
        });
        Schedule::progressive(stages)
    }
}

sampler_api::export_sampler!(
    ProgressiveSampler,
    name = "progressive",
    version = "1.1.0",
    description =
        "Semantics-aware batches whose hard ratio and neighbourhood follow an epoch schedule.",
);

//! The `curriculum` sampler plugin: random batches for a warm-up of `curriculum_epoch` epochs,
//! then semantics-aware (hard) batches, so that the model learns coarse distinctions before
//! it meets hard negatives.

#![forbid(unsafe_code)]

use sampler_api::SamplerError;
use sampler_kit::{HardBatching, Schedule, ScheduleConfig, ScheduledSampler};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Random warm-up batches, then hard ones; the hard epochs' neighbours are asked for from the
/// start.
pub type CurriculumSampler = ScheduledSampler<CurriculumConfig>;

/// Settings of the `curriculum` sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CurriculumConfig {
    /// last epoch of random warm-up batches, counting from 1 (0: hard from the start)
    pub curriculum_epoch: u32,
    /// share of each batch filled by a random pivot and its nearest neighbours, in [0, 1]
    pub hard_ratio: f64,
    /// how many of the pivot's nearest neighbours are candidates (at least 1)
    pub hardness_k: usize,
    /// false-negative control: items whose description cosine with a hard batch's pivot is at or
    /// above this, in (0, 1], stay out of its batch (null: off)
    pub max_similarity: Option<f64>,
}

impl Default for CurriculumConfig {
    fn default() -> Self {
        CurriculumConfig {
            curriculum_epoch: 5,
            hard_ratio: 0.5,
            hardness_k: 100,
            max_similarity: None,
        }
    }
}

impl ScheduleConfig for CurriculumConfig {
    /// Random batches up to `curriculum_epoch`, hard batches after: the kit's
    /// [`Schedule::curriculum`]. Errors name `hard_ratio`, `hardness_k` or `max_similarity`.
    fn schedule(&self) -> Result<Schedule, SamplerError> {
        let hard =
            HardBatching::from_settings(self.hard_ratio, self.hardness_k, self.max_similarity)?;
        Schedule::curriculum(self.curriculum_epoch, hard)
    }
}

sampler_api::export_sampler!(
    CurriculumSampler,
    name = "curriculum",
    version = "1.1.0",
    description =
        "Random batches for a warm-up of curriculum_epoch epochs, then semantics-aware batches.",
);

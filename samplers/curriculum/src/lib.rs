//! The `curriculum` sampler plugin: random batches for a warm-up of `curriculum_epoch` epochs,
//! then semantics-aware (hard) batches, so that the model learns coarse distinctions before
//! it meets hard negatives.

#![forbid(unsafe_code)]

use sampler_api::{BatchSink, EpochResult, SamplerData, SamplerError, SamplerPlugin};
use sampler_kit::{HardBatching, Schedule, SimilarityCap};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// Random batches up to `curriculum_epoch`, hard batches after: the kit's
/// [`Schedule::curriculum`]. The hard epochs' neighbours are asked for from the start.
#[derive(Debug, Clone)]
pub struct CurriculumSampler {
    schedule: Schedule,
}

impl SamplerPlugin for CurriculumSampler {
    const NAME: &'static str = "curriculum";
    const VERSION: &'static str = "1.1.0";
    const DESCRIPTION: &'static str =
        "Random batches for a warm-up of curriculum_epoch epochs, then semantics-aware batches.";

    type Config = CurriculumConfig;

    /// Errors name `hard_ratio`, `hardness_k` or `max_similarity`.
    fn new(config: CurriculumConfig) -> Result<Self, SamplerError> {
        let hard = HardBatching {
            hard_ratio: config.hard_ratio,
            hardness_k: config.hardness_k,
            max_similarity: SimilarityCap::from_setting(config.max_similarity)?,
        };
        let schedule = Schedule::curriculum(config.curriculum_epoch, hard)?;
        Ok(CurriculumSampler { schedule })
    }

    fn neighbours_needed(&self) -> usize {
        self.schedule.neighbours_needed()
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        self.schedule.epoch(data, epoch, sink)
    }
}

sampler_api::export_sampler!(CurriculumSampler);

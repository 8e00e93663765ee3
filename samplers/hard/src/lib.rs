//! The `hard` sampler plugin: semantics-aware batching from the first epoch. Each batch holds a
//! random pivot and some of its nearest neighbours (hard negatives), filled up with random items;
//! optionally without the pivot's near-duplicates (`max_similarity`, false-negative control).

#![forbid(unsafe_code)]

use sampler_api::{BatchSink, EpochResult, SamplerData, SamplerError, SamplerPlugin};
use sampler_kit::{HardBatching, Schedule, SimilarityCap};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of the `hard` sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HardConfig {
    /// share of each batch filled by a random pivot and its nearest neighbours, in [0, 1]
    pub hard_ratio: f64,
    /// how many of the pivot's nearest neighbours are candidates (at least 1)
    pub hardness_k: usize,
    /// false-negative control: items whose description cosine with a batch's pivot is at or
    /// above this, in (0, 1], stay out of its batch (null: off)
    pub max_similarity: Option<f64>,
}

impl Default for HardConfig {
    fn default() -> Self {
        HardConfig {
            hard_ratio: 0.5,
            hardness_k: 100,
            max_similarity: None,
        }
    }
}

/// Hard batches in every epoch: the kit's [`Schedule::hard`].
#[derive(Debug, Clone)]
pub struct HardSampler {
    schedule: Schedule,
}

impl SamplerPlugin for HardSampler {
    const NAME: &'static str = "hard";
    const VERSION: &'static str = "1.1.0";
    const DESCRIPTION: &'static str =
        "Semantics-aware batches: a random pivot, some of its nearest neighbours, random fill.";

    type Config = HardConfig;

    /// Errors name `hard_ratio`, `hardness_k` or `max_similarity`.
    fn new(config: HardConfig) -> Result<Self, SamplerError> {
        let schedule = Schedule::hard(HardBatching {
            hard_ratio: config.hard_ratio,
            hardness_k: config.hardness_k,
            max_similarity: SimilarityCap::from_setting(config.max_similarity)?,
        })?;
        Ok(HardSampler { schedule })
    }

    fn neighbours_needed(&self) -> usize {
        self.schedule.neighbours_needed()
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        self.schedule.epoch(data, epoch, sink)
    }
}

sampler_api::export_sampler!(HardSampler);

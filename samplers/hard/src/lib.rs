//! The `hard` sampler plugin: semantics-aware batching from the first epoch. Each batch holds a
//! random pivot and some of its nearest neighbours (hard negatives), filled up with random items;
//! optionally without the pivot's near-duplicates (`max_similarity`, false-negative control).

#![forbid(unsafe_code)]

use sampler_api::SamplerError;
use sampler_kit::{HardBatching, Schedule, ScheduleConfig, ScheduledSampler};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Hard batches in every epoch.
pub type HardSampler = ScheduledSampler<HardConfig>;

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

impl ScheduleConfig for HardConfig {
    /// Hard batches in every epoch: the kit's [`Schedule::hard`]. Errors name `hard_ratio`,
    /// `hardness_k` or `max_similarity`.
    fn schedule(&self) -> Result<Schedule, SamplerError> {
        Schedule::hard(HardBatching::from_settings(
            self.hard_ratio,
            self.hardness_k,
            self.max_similarity,
        )?)
    }
}

sampler_api::export_sampler!(
    HardSampler,
    name = "hard",
    version = "1.1.0",
    description =
        "Semantics-aware batches: a random pivot, some of its nearest neighbours, random fill.",
);

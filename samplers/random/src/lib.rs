//! The `random` sampler plugin: every epoch is a fresh seeded shuffle of all items, the baseline
//! that semantics-aware samplers are measured against.

#![forbid(unsafe_code)]

use sampler_api::{BatchSink, EpochNote, EpochResult, SamplerData, SamplerError, SamplerPlugin};
use sampler_kit::shuffled_epoch;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The random sampler has no settings: only `{}` (or an empty configuration) is accepted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RandomConfig {}

/// Random batches: a seeded shuffle of all items per epoch.
#[derive(Debug, Clone, Default)]
pub struct RandomSampler;

impl SamplerPlugin for RandomSampler {
    type Config = RandomConfig;

    fn new(_config: RandomConfig) -> Result<Self, SamplerError> {
        Ok(RandomSampler)
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        shuffled_epoch(data, epoch, sink)?;
        Ok(EpochNote::random())
    }
}

sampler_api::export_sampler!(
    RandomSampler,
    name = "random",
    version = "1.0.0",
    description = "Random batches: a seeded shuffle of all items every epoch.",
);

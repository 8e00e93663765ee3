//! The `random` sampler plugin: every epoch is a fresh seeded shuffle of all items, the baseline
//! that semantics-aware samplers are measured against.

#![forbid(unsafe_code)]

use sampler_api::{
    BatchSink, EpochNote, Parameter, Sampler, SamplerData, SamplerError, SamplerPlugin,
    parse_config,
};
use sampler_kit::shuffled_epoch;
use serde::Deserialize;

/// The random sampler has no settings: only `{}` (or an empty configuration) is accepted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RandomConfig {}

/// Random batches: a seeded shuffle of all items per epoch.
#[derive(Debug, Clone, Default)]
pub struct RandomSampler;

impl Sampler for RandomSampler {
    fn neighbours_needed(&self) -> usize {
        0
    }

    fn epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> Result<EpochNote, SamplerError> {
        shuffled_epoch(data, epoch, sink)?;
        Ok(EpochNote::random())
    }
}

impl SamplerPlugin for RandomSampler {
    const NAME: &'static str = "random";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str = "Random batches: a seeded shuffle of all items every epoch.";

    fn parameters() -> Vec<Parameter> {
        Vec::new()
    }

    fn from_config(json: &str) -> Result<Self, SamplerError> {
        let RandomConfig {} = parse_config(json)?;
        Ok(RandomSampler)
    }
}

sampler_api::export_sampler!(RandomSampler);

//! The `hard` sampler plugin: semantics-aware batching from the first epoch. Each batch holds a
//! random pivot and some of its nearest neighbours (hard negatives), filled up with random items.

#![forbid(unsafe_code)]

use sampler_api::{
    BatchSink, EpochNote, Parameter, Sampler, SamplerData, SamplerError, SamplerPlugin,
    parse_config,
};
use sampler_kit::HardBatching;
use serde::Deserialize;

/// Label of every epoch in notes.
const STAGE: &str = "hard";

/// Settings of the `hard` sampler.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HardConfig {
    /// Share of each batch filled by the pivot and its neighbours, in `[0, 1]`.
    pub hard_ratio: f64,
    /// How many of the pivot's nearest neighbours are candidates (at least 1).
    pub hardness_k: usize,
}

impl Default for HardConfig {
    fn default() -> Self {
        HardConfig {
            hard_ratio: 0.5,
            hardness_k: 100,
        }
    }
}

impl HardConfig {
    fn batching(&self) -> HardBatching {
        HardBatching {
            hard_ratio: self.hard_ratio,
            hardness_k: self.hardness_k,
        }
    }
}

/// Hard batches in every epoch.
#[derive(Debug, Clone)]
pub struct HardSampler {
    batching: HardBatching,
}

impl HardSampler {
    /// A sampler with validated settings; errors name `hard_ratio` or `hardness_k`.
    pub fn new(config: HardConfig) -> Result<Self, SamplerError> {
        let batching = config.batching();
        batching.validate()?;
        Ok(HardSampler { batching })
    }
}

impl Sampler for HardSampler {
    fn neighbours_needed(&self) -> usize {
        self.batching.hardness_k
    }

    fn epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> Result<EpochNote, SamplerError> {
        self.batching.fill_epoch(data, epoch, sink)?;
        Ok(self.batching.note(STAGE))
    }
}

impl SamplerPlugin for HardSampler {
    const NAME: &'static str = "hard";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Semantics-aware batches: a random pivot, some of its nearest neighbours, random fill.";

    fn parameters() -> Vec<Parameter> {
        HardConfig::default().batching().parameters()
    }

    fn from_config(json: &str) -> Result<Self, SamplerError> {
        HardSampler::new(parse_config(json)?)
    }
}

sampler_api::export_sampler!(HardSampler);

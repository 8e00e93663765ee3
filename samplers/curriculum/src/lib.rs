//! The `curriculum` sampler plugin: random batches for a warm-up of `curriculum_epoch` epochs,
//! then semantics-aware (hard) batches, so that the model learns coarse distinctions before
//! it meets hard negatives.

#![forbid(unsafe_code)]

use sampler_api::{
    BatchSink, EpochNote, Parameter, Sampler, SamplerData, SamplerError, SamplerPlugin,
    parse_config,
};
use sampler_kit::{HardBatching, shuffled_epoch};
use serde::Deserialize;

/// Label of warm-up epochs in notes, so that reports show where the switch happens.
const WARM_UP_STAGE: &str = "random (warm-up)";
/// Label of the epochs after the warm-up.
const HARD_STAGE: &str = "hard";

/// Settings of the `curriculum` sampler.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurriculumConfig {
    /// Last epoch of random batches (epochs count from 1); 0 means hard from the start.
    pub curriculum_epoch: u32,
    /// Share of each hard batch filled by the pivot and its neighbours, in `[0, 1]`.
    pub hard_ratio: f64,
    /// How many of the pivot's nearest neighbours are candidates (at least 1).
    pub hardness_k: usize,
}

impl Default for CurriculumConfig {
    fn default() -> Self {
        CurriculumConfig {
            curriculum_epoch: 5,
            hard_ratio: 0.5,
            hardness_k: 100,
        }
    }
}

impl CurriculumConfig {
    fn batching(&self) -> HardBatching {
        HardBatching {
            hard_ratio: self.hard_ratio,
            hardness_k: self.hardness_k,
        }
    }
}

/// Random batches up to `curriculum_epoch`, hard batches after.
#[derive(Debug, Clone)]
pub struct CurriculumSampler {
    curriculum_epoch: u32,
    batching: HardBatching,
}

impl CurriculumSampler {
    /// A sampler with validated settings; errors name `hard_ratio` or `hardness_k`.
    pub fn new(config: CurriculumConfig) -> Result<Self, SamplerError> {
        let batching = config.batching();
        batching.validate()?;
        Ok(CurriculumSampler {
            curriculum_epoch: config.curriculum_epoch,
            batching,
        })
    }
}

impl Sampler for CurriculumSampler {
    /// The hard epochs' neighbours, asked for from the start: the table is built once per run.
    fn neighbours_needed(&self) -> usize {
        self.batching.hardness_k
    }

    fn epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> Result<EpochNote, SamplerError> {
        if epoch <= self.curriculum_epoch {
            shuffled_epoch(data, epoch, sink)?;
            Ok(EpochNote {
                stage: WARM_UP_STAGE.into(),
                ..EpochNote::random()
            })
        } else {
            self.batching.fill_epoch(data, epoch, sink)?;
            Ok(self.batching.note(HARD_STAGE))
        }
    }
}

impl SamplerPlugin for CurriculumSampler {
    const NAME: &'static str = "curriculum";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Random batches for a warm-up of curriculum_epoch epochs, then semantics-aware batches.";

    fn parameters() -> Vec<Parameter> {
        let defaults = CurriculumConfig::default();
        let mut parameters = vec![Parameter::new(
            "curriculum_epoch",
            defaults.curriculum_epoch,
            "last epoch of random warm-up batches, counting from 1 (0: hard from the start)",
        )];
        parameters.extend(defaults.batching().parameters());
        parameters
    }

    fn from_config(json: &str) -> Result<Self, SamplerError> {
        CurriculumSampler::new(parse_config(json)?)
    }
}

sampler_api::export_sampler!(CurriculumSampler);

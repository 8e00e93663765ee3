//! The `progressive` sampler plugin: semantics-aware batches whose hard ratio and neighbourhood
//! size change at scheduled epochs, so that batches grow harder as training goes on.

#![forbid(unsafe_code)]

use sampler_api::{
    BatchSink, EpochNote, Parameter, Sampler, SamplerData, SamplerError, SamplerPlugin,
    parse_config,
};
use sampler_kit::HardBatching;
use serde::{Deserialize, Serialize};

/// One step of the schedule, in force from `first_epoch` until the next stage begins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// First epoch of the stage (epochs count from 1).
    pub first_epoch: u32,
    /// Share of each batch filled by the pivot and its neighbours, in `[0, 1]`.
    pub hard_ratio: f64,
    /// How many of the pivot's nearest neighbours are candidates (at least 1).
    pub hardness_k: usize,
}

impl Stage {
    fn batching(&self) -> HardBatching {
        HardBatching {
            hard_ratio: self.hard_ratio,
            hardness_k: self.hardness_k,
        }
    }
}

/// Settings of the `progressive` sampler.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgressiveConfig {
    /// The schedule: starts at epoch 1, `first_epoch` strictly increasing.
    pub stages: Vec<Stage>,
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
        }
    }
}

/// Hard batches following a schedule of stages.
#[derive(Debug, Clone)]
pub struct ProgressiveSampler {
    stages: Vec<Stage>,
}

impl ProgressiveSampler {
    /// A sampler with a validated schedule; errors name the field, e.g. `stages[1].hard_ratio`.
    pub fn new(config: ProgressiveConfig) -> Result<Self, SamplerError> {
        check_schedule(&config.stages)?;
        Ok(ProgressiveSampler {
            stages: config.stages,
        })
    }

    /// The index of the stage in force in `epoch` (the first stage for an epoch before it).
    fn stage_index(&self, epoch: u32) -> usize {
        self.stages
            .partition_point(|stage| stage.first_epoch <= epoch)
            .saturating_sub(1)
    }
}

/// Checks that the stages are non-empty, start at epoch 1, follow each other and have valid
/// batching settings.
fn check_schedule(stages: &[Stage]) -> Result<(), SamplerError> {
    if stages.is_empty() {
        return Err(SamplerError::parameter(
            "stages",
            "needs at least one stage",
        ));
    }
    let mut previous: Option<&Stage> = None;
    for (index, stage) in stages.iter().enumerate() {
        let out_of_order = match previous {
            None => {
                (stage.first_epoch != 1).then(|| "the first stage must start at epoch 1".into())
            }
            Some(previous) => (stage.first_epoch <= previous.first_epoch).then(|| {
                format!(
                    "must come after the previous stage's {}",
                    previous.first_epoch
                )
            }),
        };
        if let Some(rule) = out_of_order {
            return Err(SamplerError::parameter(
                format!("stages[{index}].first_epoch"),
                format!("is {}; {rule}", stage.first_epoch),
            ));
        }
        stage
            .batching()
            .validate()
            .map_err(|error| within_stage(index, error))?;
        previous = Some(stage);
    }
    Ok(())
}

/// Puts a stage's field error under its path in the configuration, e.g. `stages[1].hard_ratio`.
fn within_stage(index: usize, error: SamplerError) -> SamplerError {
    match error {
        SamplerError::InvalidParameter { parameter, message } => {
            SamplerError::parameter(format!("stages[{index}].{parameter}"), message)
        }
        other => other,
    }
}

impl Sampler for ProgressiveSampler {
    /// The largest neighbourhood of any stage: the table is built once per run.
    fn neighbours_needed(&self) -> usize {
        self.stages
            .iter()
            .map(|stage| stage.hardness_k)
            .max()
            .unwrap_or(0)
    }

    fn epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> Result<EpochNote, SamplerError> {
        let index = self.stage_index(epoch);
        let stage = &self.stages[index];
        let batching = stage.batching();
        batching.fill_epoch(data, epoch, sink)?;
        Ok(batching.note(format!(
            "stage {}/{} (from epoch {})",
            index + 1,
            self.stages.len(),
            stage.first_epoch
        )))
    }
}

impl SamplerPlugin for ProgressiveSampler {
    const NAME: &'static str = "progressive";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Semantics-aware batches whose hard ratio and neighbourhood follow an epoch schedule.";

    fn parameters() -> Vec<Parameter> {
        vec![Parameter::new(
            "stages",
            ProgressiveConfig::default().stages,
            "schedule of {first_epoch, hard_ratio, hardness_k}; each stage lasts until the next \
             one's first_epoch, the first starts at epoch 1",
        )]
    }

    fn from_config(json: &str) -> Result<Self, SamplerError> {
        ProgressiveSampler::new(parse_config(json)?)
    }
}

sampler_api::export_sampler!(ProgressiveSampler);

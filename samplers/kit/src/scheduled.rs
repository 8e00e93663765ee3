use std::marker::PhantomData;

use sampler_api::{BatchSink, EpochResult, SamplerData, SamplerError, SamplerPlugin};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Schedule;

/// The settings of a sampler whose batches follow a [`Schedule`]: a plugin's configuration
/// struct that says which schedule it describes.
pub trait ScheduleConfig: Default + Serialize + DeserializeOwned + JsonSchema + 'static {
    /// The validated schedule these settings describe; errors name the setting.
    fn schedule(&self) -> Result<Schedule, SamplerError>;
}

/// The sampler plugin of every [`ScheduleConfig`]: it validates the settings into their
/// schedule once, asks for the largest neighbourhood of any stage, and batches each epoch as
/// its stage says.
#[derive(Debug, Clone)]
pub struct ScheduledSampler<C> {
    schedule: Schedule,
    config: PhantomData<fn() -> C>,
}

impl<C: ScheduleConfig> SamplerPlugin for ScheduledSampler<C> {
    type Config = C;

    fn new(config: C) -> Result<Self, SamplerError> {
        Ok(ScheduledSampler {
            schedule: config.schedule()?,
            config: PhantomData,
        })
    }

    fn neighbours_needed(&self) -> usize {
        self.schedule.neighbours_needed()
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        self.schedule.epoch(data, epoch, sink)
    }
}

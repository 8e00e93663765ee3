use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{BatchSink, EpochNote, SamplerData, SamplerError, parse_config};

/// What producing one epoch's batches gives: the epoch's note, or why it failed.
pub type EpochResult = Result<EpochNote, SamplerError>;

/// A batch sampler as the host drives it: turns a dataset into the batches of each epoch.
///
/// Every [`SamplerPlugin`] is a `Sampler`, and the harness wraps each loaded library in a type
/// that is one too, so in-process and loaded samplers are interchangeable. Plugin authors
/// implement [`SamplerPlugin`], never this trait.
pub trait Sampler {
    /// How many nearest neighbours per item this configuration reads (0: none).
    fn neighbours_needed(&self) -> usize;

    /// Which tables from the model under training this configuration reads (ABI 1.1).
    fn model_neighbours_needed(&self) -> ModelNeeds;

    /// Writes the batches of `epoch` (numbered from 1) into `sink`.
    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult;
}

/// The model tables a sampler asks for (ABI 1.1): `k` items per row of both tables (0: none),
/// recomputed after the evaluation of every epoch divisible by `refresh_every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelNeeds {
    pub k: usize,
    pub refresh_every: u32,
}

impl ModelNeeds {
    /// No model tables.
    pub const NONE: ModelNeeds = ModelNeeds {
        k: 0,
        refresh_every: 0,
    };

    /// Whether tables are due after the evaluation of `epoch`, in a run of `epochs` epochs
    /// (never after the last: no epoch would read them).
    pub fn refresh_after(&self, epoch: u32, epochs: u32) -> bool {
        self.k > 0
            && self.refresh_every > 0
            && epoch < epochs
            && epoch.is_multiple_of(self.refresh_every)
    }
}

/// The one trait a sampler plugin implements; [`crate::export_sampler!`] exports it under its
/// name, version and description.
///
/// The configuration is a plain struct, [`SamplerPlugin::Config`]: its JSON form is parsed
/// with [`parse_config`], and its parameter list (`harness list`, the ABI) is derived from it
/// by [`crate::parameters`]: keys and defaults from `Config::default()`, help text from the
/// fields' doc comments. `new` validates the parsed settings.
///
/// `epoch` must be a pure function of the configuration, `data` and `epoch`: the same inputs
/// give the same batches, whatever ran before. Every item must appear in exactly one batch, all
/// batches but the last hold `data.batch_size()` items, and with `data.drop_last()` the short
/// last batch is left out (see [`crate::contract`]).
pub trait SamplerPlugin: Sized + 'static {
    /// The settings: a struct with `#[serde(default, deny_unknown_fields)]` whose fields are
    /// the configuration keys, each documented by one line of help text.
    type Config: Default + Serialize + DeserializeOwned + JsonSchema;

    /// A sampler with validated settings; errors name the setting
    /// ([`SamplerError::parameter`]).
    fn new(config: Self::Config) -> Result<Self, SamplerError>;

    /// How many nearest neighbours per item this configuration reads; none (0) unless
    /// overridden.
    fn neighbours_needed(&self) -> usize {
        0
    }

    /// Which tables from the model under training this configuration reads (ABI 1.1); none
    /// unless overridden.
    fn model_neighbours_needed(&self) -> ModelNeeds {
        ModelNeeds::NONE
    }

    /// Writes the batches of `epoch` (numbered from 1) into `sink`.
    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult;

    /// Parses and validates a JSON configuration (an empty string means all defaults).
    fn from_config(json: &str) -> Result<Self, SamplerError> {
        Self::new(parse_config(json)?)
    }
}

impl<T: SamplerPlugin> Sampler for T {
    fn neighbours_needed(&self) -> usize {
        SamplerPlugin::neighbours_needed(self)
    }

    fn model_neighbours_needed(&self) -> ModelNeeds {
        SamplerPlugin::model_neighbours_needed(self)
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        SamplerPlugin::epoch(self, data, epoch, sink)
    }
}

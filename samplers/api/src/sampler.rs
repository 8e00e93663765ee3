use crate::{BatchSink, EpochNote, Parameter, SamplerData, SamplerError};

/// A batch sampler: turns a dataset into the batches of each epoch.
///
/// `epoch` must be a pure function of the configuration, `data` and `epoch`: the same inputs
/// give the same batches, whatever ran before. Every item must appear in exactly one batch, all
/// batches but the last hold `data.batch_size()` items, and with `data.drop_last()` the short
/// last batch is left out (see [`crate::contract`]).
pub trait Sampler {
    /// How many nearest neighbours per item this configuration reads (0: none).
    fn neighbours_needed(&self) -> usize;

    /// Writes the batches of `epoch` (numbered from 1) into `sink`.
    fn epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> Result<EpochNote, SamplerError>;
}

/// A sampler that can be exported as a plugin with [`crate::export_sampler!`].
pub trait SamplerPlugin: Sampler + Sized + 'static {
    /// Name used on the command line and in reports.
    const NAME: &'static str;
    /// Version of the sampler's behaviour; bump it when batches change.
    const VERSION: &'static str;
    /// One line for `harness list`.
    const DESCRIPTION: &'static str;

    /// The configuration keys with their defaults.
    fn parameters() -> Vec<Parameter>;

    /// Parses and validates a JSON configuration (an empty string means all defaults).
    fn from_config(json: &str) -> Result<Self, SamplerError>;
}

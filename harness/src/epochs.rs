//! Runs one epoch of any sampler and holds the result to the batch contract.

use sampler_api::contract::{Violation, check_epoch};
use sampler_api::{BatchSink, EpochBuffers, EpochNote, Sampler, SamplerData, SamplerError};
use thiserror::Error;

/// Why an epoch could not be used.
///
/// The message is complete on its own and the cause is not also returned by `source()`, so a
/// chain printed with anyhow's `{:#}` says it once.
#[derive(Debug, Error)]
pub enum EpochError {
    #[error("epoch {epoch}: {error}")]
    Sampler { epoch: u32, error: SamplerError },
    #[error("epoch {epoch}: batches break the contract: {violation}")]
    Contract { epoch: u32, violation: Violation },
    #[error("epoch {epoch}: the epoch note is invalid: {reason}")]
    Note { epoch: u32, reason: String },
}

/// Asks `sampler` for `epoch`, then checks the batches (ids, duplicates, sizes, coverage) and
/// the note: a plugin is untrusted input.
pub fn run_epoch<'b>(
    sampler: &dyn Sampler,
    data: &SamplerData<'_>,
    epoch: u32,
    buffers: &'b mut EpochBuffers,
) -> Result<(BatchSink<'b>, EpochNote), EpochError> {
    let mut sink = buffers.sink();
    let note = sampler
        .epoch(data, epoch, &mut sink)
        .map_err(|error| EpochError::Sampler { epoch, error })?;
    check_epoch(&sink, data).map_err(|violation| EpochError::Contract { epoch, violation })?;
    if !(0.0..=1.0).contains(&note.hard_ratio) {
        return Err(EpochError::Note {
            epoch,
            reason: format!("hard_ratio {} is outside [0, 1]", note.hard_ratio),
        });
    }
    if let Some(cap) = note.max_similarity
        && !(cap > 0.0 && cap <= 1.0)
    {
        return Err(EpochError::Note {
            epoch,
            reason: format!("max_similarity {cap} is outside (0, 1]"),
        });
    }
    let table = data.through(note.table).map_err(|error| EpochError::Note {
        epoch,
        reason: error.to_string(),
    })?;
    if note.hardness_k > table.k() {
        return Err(EpochError::Note {
            epoch,
            reason: format!(
                "hardness_k {} exceeds the {} neighbours provided",
                note.hardness_k,
                table.k()
            ),
        });
    }
    Ok((sink, note))
}

//! Batch composition shared by the built-in samplers, so that every plugin that shuffles or mines
//! hard batches does it the same way: [`shuffled_epoch`] for random batches, [`HardBatching`]
//! for semantics-aware ones (with an optional [`SimilarityCap`] against false negatives), and a
//! [`Schedule`] of stages that switches between them by epoch (`hard`, `curriculum` and
//! `progressive` are its presets, each a [`ScheduledSampler`] over its own settings).
//!
//! Every function here is a pure function of (seed, epoch, settings, data): randomness comes
//! from [`sampler_api::rng::Rng`] streams named by the epoch and a purpose tag. The `testing`
//! feature adds the `testing` module, helpers shared by the samplers' property tests.

#![forbid(unsafe_code)]

mod cap;
mod hard;
mod pool;
mod schedule;
mod scheduled;
mod shuffle;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use cap::SimilarityCap;
pub use hard::HardBatching;
pub use schedule::{Batching, Schedule, Stage};
pub use scheduled::{ScheduleConfig, ScheduledSampler};
pub use shuffle::shuffled_epoch;

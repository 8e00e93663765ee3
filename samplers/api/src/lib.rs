//! The contract between the harness and its batch samplers.
//!
//! A sampler decides which items share a training batch. Plugin authors implement [`Sampler`]
//! and [`SamplerPlugin`] and call [`export_sampler!`]; the macro generates the C shims of the
//! versioned ABI in [`abi`]. The harness wraps a loaded library in a type that implements the
//! same [`Sampler`] trait, so in-process and loaded samplers are interchangeable.
//!
//! Plugins never link libtorch: everything here is plain Rust and C data.

pub mod abi;
pub mod contract;
mod data;
mod error;
#[doc(hidden)]
pub mod export;
#[cfg(feature = "host")]
pub mod host;
mod note;
mod params;
pub mod rng;
mod sampler;
mod sink;

pub use data::SamplerData;
pub use error::SamplerError;
pub use note::EpochNote;
pub use params::{Parameter, parse_config};
pub use sampler::{Sampler, SamplerPlugin};
pub use sink::{BatchSink, EpochBuffers};

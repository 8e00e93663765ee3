//! The contract between the harness and its batch samplers.
//!
//! A sampler decides which items share a training batch. Plugin authors implement one trait,
//! [`SamplerPlugin`] (settings as a `Config` struct, validation in `new`, then `epoch`), and
//! call [`export_sampler!`] with the plugin's name, version and description; the macro
//! generates the C shims of the versioned ABI in [`abi`].
//! The host drives samplers through the object-safe [`Sampler`] trait, which every
//! `SamplerPlugin` implements and which the harness's wrapper of a loaded library implements
//! too, so in-process and loaded samplers are interchangeable.
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
pub mod similarity;
mod sink;

pub use data::{ModelTables, SamplerData};
pub use error::SamplerError;
pub use note::{EpochNote, HardTable};
pub use params::{Parameter, parameters, parse_config};
pub use sampler::{EpochResult, ModelNeeds, Sampler, SamplerPlugin};
pub use sink::{BatchSink, EpochBuffers};

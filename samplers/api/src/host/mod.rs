//! The host side of the plugin boundary (feature `host`): loading libraries, validating their
//! descriptors and wrapping a loaded sampler in the same [`crate::Sampler`] trait that
//! in-process samplers implement. With the plugin side's shims in [`crate::export`], every
//! `unsafe` block of the project lives in this crate.

mod foreign;
mod library;
mod memory;

pub use foreign::ForeignSampler;
pub use library::{LoadedPlugin, PluginError};

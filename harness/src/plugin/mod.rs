//! The host side of the plugin boundary: loading libraries, validating descriptors and wrapping
//! loaded samplers in the same [`sampler_api::Sampler`] trait that in-process samplers implement.

mod discovery;
mod foreign;
mod library;

pub use discovery::{PLUGIN_PATH_ENV, PluginRegistry, ResolveError, is_plugin_file_name};
pub use foreign::ForeignSampler;
pub use library::{LoadedPlugin, PluginError};

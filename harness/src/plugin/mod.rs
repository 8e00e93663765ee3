//! Finding sampler plugins: folders, names and paths. Loading them and calling into them is
//! `sampler_api::host`'s job, where the project's `unsafe` code lives.

mod discovery;
mod inspect;

pub use discovery::{PLUGIN_PATH_ENV, PluginRegistry, ResolveError, is_plugin_file_name};
pub use sampler_api::host::{ForeignSampler, LoadedPlugin, PluginError};

use std::ffi::c_void;

use crate::abi::{RawStr, STATUS_OK, Status, TextBuffer};
use crate::{BatchSink, EpochResult, Sampler, SamplerData, SamplerError};

use super::{LoadedPlugin, PluginError};

/// Room for a plugin's error message or epoch note; longer text is truncated.
const TEXT_CAPACITY: usize = 4096;

/// A configured sampler living in a loaded plugin, usable through the [`Sampler`] trait.
#[derive(Debug)]
pub struct ForeignSampler {
    plugin: LoadedPlugin,
    state: *mut c_void,
    neighbours_needed: usize,
}

/// A host-owned text buffer for one call.
struct Text(Vec<u8>);

impl Text {
    fn new() -> Self {
        Text(vec![0; TEXT_CAPACITY])
    }

    fn raw(&mut self) -> TextBuffer {
        TextBuffer {
            ptr: self.0.as_mut_ptr(),
            capacity: self.0.len(),
            len: 0,
        }
    }

    fn read(&self, raw: &TextBuffer) -> String {
        String::from_utf8_lossy(&self.0[..raw.len.min(self.0.len())]).into_owned()
    }
}

impl ForeignSampler {
    /// Creates the plugin's state from a JSON configuration (validated by the plugin).
    pub fn new(plugin: &LoadedPlugin, config_json: &str) -> Result<Self, PluginError> {
        let mut error = Text::new();
        let mut raw_error = error.raw();
        let mut state: *mut c_void = std::ptr::null_mut();
        // SAFETY: `config_json` outlives the call; `state` and the error buffer are valid
        // out-pointers; the shim catches panics.
        let status = unsafe {
            (plugin.descriptor.create)(RawStr::new(config_json), &mut state, &mut raw_error)
        };
        if status != STATUS_OK || state.is_null() {
            return Err(call_error(plugin, status, error.read(&raw_error)));
        }
        let mut sampler = ForeignSampler {
            plugin: plugin.clone(),
            state,
            neighbours_needed: 0,
        };
        let mut needed = 0u64;
        let mut raw_error = error.raw();
        // SAFETY: `state` is alive until `drop`; the out-pointers are valid for the call.
        let status = unsafe {
            (plugin.descriptor.neighbours_needed)(sampler.state, &mut needed, &mut raw_error)
        };
        if status != STATUS_OK {
            return Err(call_error(plugin, status, error.read(&raw_error)));
        }
        sampler.neighbours_needed = usize::try_from(needed).unwrap_or(usize::MAX);
        Ok(sampler)
    }

    /// The library this sampler lives in.
    pub fn plugin(&self) -> &LoadedPlugin {
        &self.plugin
    }
}

fn call_error(plugin: &LoadedPlugin, status: Status, message: String) -> PluginError {
    let message = match (status, message.is_empty()) {
        (STATUS_OK, _) => "returned no state".to_string(),
        (_, true) => format!("failed with status {status} and no message"),
        _ => message,
    };
    PluginError::Call {
        name: plugin.name.clone(),
        path: plugin.path.clone(),
        message,
    }
}

impl Sampler for ForeignSampler {
    fn neighbours_needed(&self) -> usize {
        self.neighbours_needed
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        let inputs = data.to_raw();
        sink.clear();
        let mut out = sink.as_raw();
        let (mut note, mut error) = (Text::new(), Text::new());
        let (mut raw_note, mut raw_error) = (note.raw(), error.raw());
        // SAFETY: `data` and the sink's buffers outlive the call; the buffers' capacities are
        // stated in `out`; the shim catches panics.
        let status = unsafe {
            (self.plugin.descriptor.epoch)(
                self.state,
                &inputs,
                epoch,
                &mut out,
                &mut raw_note,
                &mut raw_error,
            )
        };
        // The plugin is untrusted: its own words are prefixed with its name by the caller.
        if status != STATUS_OK {
            return Err(SamplerError::Failed(
                call_error(&self.plugin, status, error.read(&raw_error)).to_string(),
            ));
        }
        sink.accept_raw(&out).map_err(|reason| {
            SamplerError::Failed(format!(
                "sampler '{}' returned malformed batches: {reason}",
                self.plugin.name
            ))
        })?;
        serde_json::from_str(&note.read(&raw_note)).map_err(|e| {
            SamplerError::Failed(format!(
                "sampler '{}' returned a malformed epoch note: {e}",
                self.plugin.name
            ))
        })
    }
}

impl Drop for ForeignSampler {
    fn drop(&mut self) {
        // SAFETY: `state` came from this plugin's `create` and is destroyed exactly once.
        unsafe { (self.plugin.descriptor.destroy)(self.state) };
    }
}

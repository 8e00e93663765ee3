use std::cell::Cell;
use std::ffi::c_void;

use crate::abi::{
    RawModelNeeds, RawStr, STATUS_ERROR, STATUS_OK, STATUS_PANIC, Status, TEXT_CAPACITY,
    TRUNCATION_MARK, TextBuffer,
};
use crate::{BatchSink, EpochResult, ModelNeeds, Sampler, SamplerData, SamplerError};

use super::{LoadedPlugin, PluginError};

/// A configured sampler living in a loaded plugin, usable through the [`Sampler`] trait.
///
/// Errors of [`Sampler::epoch`] describe the failure without naming the plugin: the caller,
/// which knows under what label it runs the sampler, names it once ([`PluginError::Call`] from
/// [`ForeignSampler::new`] names it itself).
///
/// The raw `state` makes this type neither `Send` nor `Sync`: calls on one plugin state never
/// overlap and all come from the thread that created it, as the ABI promises plugins.
#[derive(Debug)]
pub struct ForeignSampler {
    plugin: LoadedPlugin,
    state: *mut c_void,
    neighbours_needed: usize,
    model_needs: ModelNeeds,
    /// Calls of the plugin's `epoch` on this state so far, for messages.
    epoch_calls: Cell<u64>,
}

/// A host-owned text buffer for one call.
struct Text(Vec<u8>);

/// What a plugin wrote into a [`Text`].
struct Written {
    text: String,
    /// The text was cut to fit the buffer (and ends in [`TRUNCATION_MARK`]).
    truncated: bool,
}

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

    /// The text the plugin reported: `raw.len` bytes, or the whole buffer plus the mark when the
    /// plugin reports a longer text than fits (the `snprintf` convention).
    fn read(&self, raw: &TextBuffer) -> Written {
        if raw.len <= self.0.len() {
            let text = String::from_utf8_lossy(&self.0[..raw.len]).into_owned();
            let truncated = text.ends_with(TRUNCATION_MARK);
            return Written { text, truncated };
        }
        let bytes = &self.0[..];
        // A cut may split a character: keep the complete ones.
        let kept = match std::str::from_utf8(bytes) {
            Ok(_) => bytes,
            Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
            Err(_) => bytes,
        };
        let mut text = String::from_utf8_lossy(kept).into_owned();
        text.push_str(TRUNCATION_MARK);
        Written {
            text,
            truncated: true,
        }
    }
}

/// The host's words for a failed call: the plugin's message, or what its status means.
fn failure(status: Status, message: Written) -> String {
    let message = message.text;
    match (status, message.is_empty()) {
        (STATUS_ERROR | STATUS_PANIC, false) => message,
        (STATUS_ERROR, true) => "failed (status 1) without a message".into(),
        (STATUS_PANIC, true) => "panicked (status 2) without a message".into(),
        (_, true) => format!("failed with unknown status {status} and no message"),
        (_, false) => format!("failed with unknown status {status}: {message}"),
    }
}

impl ForeignSampler {
    /// Creates the plugin's state from a JSON configuration (validated by the plugin).
    pub fn new(plugin: &LoadedPlugin, config_json: &str) -> Result<Self, PluginError> {
        let functions = plugin.functions;
        let call_error = |call: String, message: String| PluginError::Call {
            name: plugin.name.clone(),
            path: plugin.path.clone(),
            call,
            message,
        };
        let create_call = || format!("create with configuration {config_json}");
        let mut error = Text::new();
        let mut raw_error = error.raw();
        let mut state: *mut c_void = std::ptr::null_mut();
        // SAFETY: `create` passed the loader's checks; `config_json` outlives the call; `state`
        // and the error buffer are valid out-pointers.
        let status =
            unsafe { (functions.create)(RawStr::new(config_json), &mut state, &mut raw_error) };
        if status != STATUS_OK {
            // A state written by a failing `create` is not trusted, and so never destroyed.
            return Err(call_error(
                create_call(),
                failure(status, error.read(&raw_error)),
            ));
        }
        if state.is_null() {
            return Err(PluginError::NoState {
                name: plugin.name.clone(),
                path: plugin.path.clone(),
                call: create_call(),
            });
        }
        let mut sampler = ForeignSampler {
            plugin: plugin.clone(),
            state,
            neighbours_needed: 0,
            model_needs: ModelNeeds::NONE,
            epoch_calls: Cell::new(0),
        };
        let mut needed = 0u64;
        let mut raw_error = error.raw();
        // SAFETY: `state` is alive until `drop` (which destroys it if this fails); the
        // out-pointers are valid for the call.
        let status =
            unsafe { (functions.neighbours_needed)(sampler.state, &mut needed, &mut raw_error) };
        if status != STATUS_OK {
            return Err(call_error(
                "neighbours_needed".into(),
                failure(status, error.read(&raw_error)),
            ));
        }
        sampler.neighbours_needed = usize::try_from(needed).unwrap_or(usize::MAX);
        if let Some(model_neighbours_needed) = functions.model_neighbours_needed {
            let mut needs = RawModelNeeds::default();
            let mut raw_error = error.raw();
            // SAFETY: as above; `needs` is a valid out-pointer for the call.
            let status =
                unsafe { model_neighbours_needed(sampler.state, &mut needs, &mut raw_error) };
            if status != STATUS_OK {
                return Err(call_error(
                    "model_neighbours_needed".into(),
                    failure(status, error.read(&raw_error)),
                ));
            }
            if needs.k > 0 && needs.refresh_every == 0 {
                return Err(call_error(
                    "model_neighbours_needed".into(),
                    format!(
                        "asked for {} model neighbours with refresh_every 0 (must be at least 1)",
                        needs.k
                    ),
                ));
            }
            sampler.model_needs = ModelNeeds {
                k: usize::try_from(needs.k).unwrap_or(usize::MAX),
                refresh_every: needs.refresh_every,
            };
        }
        Ok(sampler)
    }

    /// The library this sampler lives in.
    pub fn plugin(&self) -> &LoadedPlugin {
        &self.plugin
    }
}

impl Sampler for ForeignSampler {
    fn neighbours_needed(&self) -> usize {
        self.neighbours_needed
    }

    fn model_neighbours_needed(&self) -> ModelNeeds {
        self.model_needs
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        let call = self.epoch_calls.get() + 1;
        self.epoch_calls.set(call);
        let inputs = data.to_raw();
        sink.clear();
        let mut out = sink.as_raw();
        let (mut note, mut error) = (Text::new(), Text::new());
        let (mut raw_note, mut raw_error) = (note.raw(), error.raw());
        // SAFETY: `epoch` passed the loader's checks; `state` is alive; `data` and the sink's
        // buffers outlive the call and their capacities are stated in `out`.
        let status = unsafe {
            (self.plugin.functions.epoch)(
                self.state,
                &inputs,
                epoch,
                &mut out,
                &mut raw_note,
                &mut raw_error,
            )
        };
        if status != STATUS_OK {
            return Err(SamplerError::Failed(format!(
                "`epoch` call {call} failed: {}",
                failure(status, error.read(&raw_error))
            )));
        }
        sink.accept_raw(&out).map_err(|reason| {
            SamplerError::Failed(format!(
                "`epoch` call {call} returned malformed batches: {reason}"
            ))
        })?;
        let note = note.read(&raw_note);
        serde_json::from_str(&note.text).map_err(|e| {
            let cut = if note.truncated {
                format!(" (the note was cut to the {TEXT_CAPACITY}-byte buffer)")
            } else {
                String::new()
            };
            SamplerError::Failed(format!(
                "`epoch` call {call} returned a malformed epoch note: {e}{cut}"
            ))
        })
    }
}

impl Drop for ForeignSampler {
    fn drop(&mut self) {
        // A plugin without `destroy` keeps no per-state memory: nothing to free.
        if let Some(destroy) = self.plugin.functions.destroy {
            // SAFETY: `destroy` passed the loader's checks; `state` came from this plugin's
            // `create` and is destroyed exactly once.
            unsafe { destroy(self.state) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(bytes: &[u8], reported: usize) -> Written {
        let mut text = Text(vec![0; 8]);
        text.0[..bytes.len()].copy_from_slice(bytes);
        let mut raw = text.raw();
        raw.len = reported;
        text.read(&raw)
    }

    #[test]
    fn texts_reported_longer_than_the_buffer_are_marked() {
        let whole = written(b"abc", 3);
        assert_eq!((whole.text.as_str(), whole.truncated), ("abc", false));
        let cut = written(b"abcdefgh", 100);
        assert_eq!(cut.text, format!("abcdefgh{TRUNCATION_MARK}"));
        assert!(cut.truncated);
        // "é" is two bytes; the buffer ends after its first one.
        let split = written("abcdefg\u{e9}".as_bytes().split_at(8).0, 9);
        assert_eq!(split.text, format!("abcdefg{TRUNCATION_MARK}"));
    }

    #[test]
    fn failures_say_what_the_status_means() {
        let none = || Written {
            text: String::new(),
            truncated: false,
        };
        assert_eq!(failure(1, none()), "failed (status 1) without a message");
        assert_eq!(failure(2, none()), "panicked (status 2) without a message");
        assert_eq!(
            failure(
                7,
                Written {
                    text: "odd".into(),
                    truncated: false
                }
            ),
            "failed with unknown status 7: odd"
        );
    }
}

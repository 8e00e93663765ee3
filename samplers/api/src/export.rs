//! The C shims behind [`crate::export_sampler!`]. Everything here is the plugin side of the
//! boundary: it turns raw ABI calls into calls of the safe [`SamplerPlugin`] trait, catches
//! panics and reports errors as text in host buffers.

use std::any::Any;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use crate::abi::{
    ABI_MAJOR, ABI_MINOR, AbiHeader, MAGIC, PluginDescriptor, RawBatches, RawInputs, RawModelNeeds,
    RawStr, STATUS_ERROR, STATUS_OK, STATUS_PANIC, Status, TextBuffer,
};
use crate::{BatchSink, SamplerData, SamplerError, SamplerPlugin};

/// Exports a [`SamplerPlugin`] type as a sampler plugin: generates the ABI's entry symbol,
/// whose descriptor carries the plugin's identity:
/// - `name`: the sampler's name on the command line and in reports;
/// - `version`: the version of the sampler's behaviour (bump it when batches change);
/// - `description`: one line for `harness list`.
///
/// Use it once, in a crate built as a `cdylib`:
/// ```ignore
/// sampler_api::export_sampler!(
///     MySampler,
///     name = "mine",
///     version = "0.1.0",
///     description = "What my batches hold.",
/// );
/// ```
#[macro_export]
macro_rules! export_sampler {
    (
        $sampler:ty,
        name = $name:expr,
        version = $version:expr,
        description = $description:expr $(,)?
    ) => {
        /// Entry symbol of the sampler plugin ABI.
        #[unsafe(no_mangle)]
        pub extern "C" fn sampler_plugin_descriptor() -> *const $crate::abi::PluginDescriptor {
            static DESCRIPTOR: $crate::export::DescriptorCell =
                $crate::export::DescriptorCell::new();
            DESCRIPTOR.get::<$sampler>($crate::export::Identity {
                name: $name,
                version: $version,
                description: $description,
            })
        }
    };
}

/// What [`crate::export_sampler!`] says about a plugin besides its type.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
}

/// The descriptor and the strings it points into, built once per library.
struct Descriptor {
    descriptor: PluginDescriptor,
    _parameters_json: String,
}

/// Holds a plugin's descriptor for the life of the library.
pub struct DescriptorCell(OnceLock<Descriptor>);

// SAFETY: the descriptor is written once (OnceLock) and then only read; its pointers refer to
// `'static` strings and to the `String` stored beside it, whose heap buffer never moves.
unsafe impl Sync for DescriptorCell {}

impl Default for DescriptorCell {
    fn default() -> Self {
        Self::new()
    }
}

impl DescriptorCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        DescriptorCell(OnceLock::new())
    }

    /// The descriptor of `T` exported as `identity`, built on first use; null if building it
    /// panicked.
    pub fn get<T: SamplerPlugin>(&'static self, identity: Identity) -> *const PluginDescriptor {
        catch_unwind(|| {
            &self.0.get_or_init(|| build::<T>(identity)).descriptor as *const PluginDescriptor
        })
        .unwrap_or(std::ptr::null())
    }
}

fn build<T: SamplerPlugin>(identity: Identity) -> Descriptor {
    let parameters_json = serde_json::to_string(&crate::parameters::<T::Config>())
        .expect("parameter lists serialise to JSON");
    let descriptor = PluginDescriptor {
        header: AbiHeader {
            magic: MAGIC,
            descriptor_size: size_of::<PluginDescriptor>() as u64,
            abi_major: ABI_MAJOR,
            abi_minor: ABI_MINOR,
        },
        name: RawStr::new(identity.name),
        version: RawStr::new(identity.version),
        description: RawStr::new(identity.description),
        parameters_json: RawStr::new(&parameters_json),
        create: Some(create::<T>),
        destroy: Some(destroy::<T>),
        neighbours_needed: Some(neighbours_needed::<T>),
        epoch: Some(epoch::<T>),
        model_neighbours_needed: Some(model_neighbours_needed::<T>),
    };
    Descriptor {
        descriptor,
        _parameters_json: parameters_json,
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_string())
}

/// Runs `body`, turning an error or a panic into a status and a message in `error`.
fn guarded(error: *mut TextBuffer, body: impl FnOnce() -> Result<(), SamplerError>) -> Status {
    let (status, message) = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return STATUS_OK,
        Ok(Err(e)) => (STATUS_ERROR, e.to_string()),
        Err(payload) => (
            STATUS_PANIC,
            format!("panicked: {}", panic_message(payload.as_ref())),
        ),
    };
    if !error.is_null() {
        // SAFETY: the host passes a valid, exclusively borrowed buffer for the call.
        unsafe { (*error).write_str(&message) };
    }
    status
}

fn null_argument(which: &str) -> SamplerError {
    SamplerError::Failed(format!("the host passed a null pointer ({which})"))
}

unsafe extern "C" fn create<T: SamplerPlugin>(
    config: RawStr,
    state: *mut *mut c_void,
    error: *mut TextBuffer,
) -> Status {
    guarded(error, || {
        if state.is_null() {
            return Err(null_argument("state"));
        }
        // SAFETY: the host lends `config` as valid UTF-8 bytes for the call.
        let text = unsafe { config.as_str() }
            .map_err(|e| SamplerError::Config(format!("configuration is not UTF-8: {e}")))?;
        let sampler = T::from_config(text)?;
        // SAFETY: the host passes a valid out-pointer; ownership moves to the host until `destroy`.
        unsafe { *state = Box::into_raw(Box::new(sampler)).cast() };
        Ok(())
    })
}

unsafe extern "C" fn destroy<T: SamplerPlugin>(state: *mut c_void) {
    if state.is_null() {
        return;
    }
    // A panic in a destructor must not unwind into the host; the state is then leaked.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `state` came from `create::<T>` and the host destroys it exactly once.
        drop(unsafe { Box::from_raw(state.cast::<T>()) });
    }));
}

unsafe extern "C" fn neighbours_needed<T: SamplerPlugin>(
    state: *const c_void,
    needed: *mut u64,
    error: *mut TextBuffer,
) -> Status {
    let count = |sampler: &T| sampler.neighbours_needed() as u64;
    // SAFETY: the host passes the state of `create::<T>` and an out-pointer, as `answer` needs.
    unsafe { answer(state, needed, "needed", error, count) }
}

unsafe extern "C" fn model_neighbours_needed<T: SamplerPlugin>(
    state: *const c_void,
    needs: *mut RawModelNeeds,
    error: *mut TextBuffer,
) -> Status {
    let wanted = |sampler: &T| {
        let wanted = sampler.model_neighbours_needed();
        RawModelNeeds {
            k: wanted.k as u64,
            refresh_every: wanted.refresh_every,
            _reserved: 0,
        }
    };
    // SAFETY: the host passes the state of `create::<T>` and an out-pointer, as `answer` needs.
    unsafe { answer(state, needs, "needs", error, wanted) }
}

/// Answers a question about the configured sampler (`query`) into `out`, named by its parameter
/// in the error for a null pointer.
///
/// # Safety
/// `state` must be null or come from `create::<T>` and be alive until `destroy`; `out` must be
/// null or valid for writes.
unsafe fn answer<T: SamplerPlugin, R>(
    state: *const c_void,
    out: *mut R,
    out_name: &str,
    error: *mut TextBuffer,
    query: impl FnOnce(&T) -> R,
) -> Status {
    guarded(error, || {
        if state.is_null() || out.is_null() {
            return Err(null_argument(&format!("state or {out_name}")));
        }
        // SAFETY: `state` came from `create::<T>` and is alive until `destroy`.
        let sampler = unsafe { &*state.cast::<T>() };
        let answer = query(sampler);
        // SAFETY: the host passes a valid out-pointer.
        unsafe { out.write(answer) };
        Ok(())
    })
}

unsafe extern "C" fn epoch<T: SamplerPlugin>(
    state: *const c_void,
    inputs: *const RawInputs,
    epoch: u32,
    out: *mut RawBatches,
    note: *mut TextBuffer,
    error: *mut TextBuffer,
) -> Status {
    guarded(error, || {
        if state.is_null() || inputs.is_null() || out.is_null() || note.is_null() {
            return Err(null_argument("state, inputs, out or note"));
        }
        // SAFETY: `state` came from `create::<T>` and is alive until `destroy`.
        let sampler = unsafe { &*state.cast::<T>() };
        // SAFETY: the host's inputs point to data that stays valid for the call.
        let data = unsafe { SamplerData::from_raw(&*inputs) }?;
        // SAFETY: `out` describes host buffers writable for the call.
        let out = unsafe { &mut *out };
        // SAFETY: as above.
        let mut sink = unsafe { BatchSink::from_raw(out) };
        let epoch_note = sampler.epoch(&data, epoch, &mut sink)?;
        out.items_len = sink.items_len() as u64;
        out.n_batches = sink.n_batches() as u64;
        let note_json = serde_json::to_string(&epoch_note).expect("epoch notes serialise to JSON");
        // SAFETY: the host passes a valid buffer for the note.
        unsafe { (*note).write_str(&note_json) };
        Ok(())
    })
}

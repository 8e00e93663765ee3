//! The C ABI that crosses the plugin boundary (version [`ABI_MAJOR`].[`ABI_MINOR`]).
//!
//! Rules (see the README, "Writing a plugin"):
//! - A plugin exports one symbol, [`ENTRY_SYMBOL`], an `extern "C" fn() -> *const PluginDescriptor`
//!   that returns a descriptor living as long as the library.
//! - The descriptor starts with [`AbiHeader`], whose layout never changes. The host refuses a
//!   wrong magic, another major version, a newer minor version than its own, or a descriptor
//!   size that does not match the declared minor version.
//! - New capabilities are appended as nullable function pointers and bump the minor version.
//! - Only `#[repr(C)]` data, pointer + length pairs and `extern "C"` function pointers cross.
//!   Output buffers are owned by the host; plugin state is freed by the plugin's `destroy`.
//! - Every function returns a [`Status`]; on failure the plugin writes a UTF-8 message into the
//!   host's [`TextBuffer`]. No panic ever unwinds across the boundary.

use std::ffi::c_void;

/// First field of every descriptor: "SMPLRABI" read as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SMPLRABI");
/// Incompatible changes bump the major version; the host refuses any other major.
pub const ABI_MAJOR: u32 = 1;
/// Appended capabilities bump the minor version; the host refuses a newer minor than its own.
pub const ABI_MINOR: u32 = 0;
/// The exported symbol, without the trailing NUL that `dlsym` needs.
pub const ENTRY_SYMBOL: &str = "sampler_plugin_descriptor";

/// Size in bytes of the descriptor at each minor version of the current major, indexed by minor.
pub const DESCRIPTOR_SIZES: [usize; ABI_MINOR as usize + 1] = [size_of::<PluginDescriptor>()];

/// Outcome of every call across the boundary.
pub type Status = i32;
/// The call succeeded.
pub const STATUS_OK: Status = 0;
/// The call failed; the error buffer holds the reason.
pub const STATUS_ERROR: Status = 1;
/// The plugin panicked; the shim caught it and the error buffer holds the panic message.
pub const STATUS_PANIC: Status = 2;

/// The fixed-layout header that lets the host refuse an incompatible plugin before reading more.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AbiHeader {
    pub magic: u64,
    /// `size_of::<PluginDescriptor>()` as compiled into the plugin.
    pub descriptor_size: u64,
    pub abi_major: u32,
    pub abi_minor: u32,
}

/// Borrowed UTF-8 text: valid for the call, or for the library's life when in a descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawStr {
    pub ptr: *const u8,
    pub len: usize,
}

/// A host-owned byte buffer that the plugin fills with UTF-8 text (truncated to `capacity`).
#[repr(C)]
#[derive(Debug)]
pub struct TextBuffer {
    pub ptr: *mut u8,
    pub capacity: usize,
    pub len: usize,
}

/// What a sampler receives for one epoch. All pointers stay valid until `destroy`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawInputs {
    pub n_items: u64,
    pub batch_size: u64,
    pub seed: u64,
    /// 1: drop the short last batch; 0: keep it.
    pub drop_last: u32,
    pub _reserved: u32,
    /// Row-major `n_items x embedding_dim`, L2-normalised rows.
    pub embeddings: *const f32,
    pub embedding_dim: u64,
    /// Row-major `n_items x neighbours_k`: nearest neighbours by cosine, self excluded, nearest first.
    pub neighbours: *const u32,
    pub neighbours_k: u64,
}

/// Host-owned output of one epoch: a flat list of items and the end offset of each batch.
#[repr(C)]
#[derive(Debug)]
pub struct RawBatches {
    pub items: *mut u32,
    pub items_capacity: u64,
    pub items_len: u64,
    pub batch_ends: *mut u32,
    pub batch_ends_capacity: u64,
    pub n_batches: u64,
}

/// Parses `config` (UTF-8 JSON) and creates the plugin state.
pub type CreateFn =
    unsafe extern "C" fn(config: RawStr, state: *mut *mut c_void, error: *mut TextBuffer) -> Status;
/// Frees state made by `create`.
pub type DestroyFn = unsafe extern "C" fn(state: *mut c_void);
/// How many nearest neighbours per item the configured sampler reads (0: none).
pub type NeighboursNeededFn =
    unsafe extern "C" fn(state: *const c_void, needed: *mut u64, error: *mut TextBuffer) -> Status;
/// Writes the batches of `epoch` (numbered from 1) into `out` and a JSON [`crate::EpochNote`] into `note`.
pub type EpochFn = unsafe extern "C" fn(
    state: *const c_void,
    inputs: *const RawInputs,
    epoch: u32,
    out: *mut RawBatches,
    note: *mut TextBuffer,
    error: *mut TextBuffer,
) -> Status;
/// Reserved slot for model-aware mining: fresh embeddings from the model being trained,
/// row-major `rows x dim`, handed over before an epoch. ABI 1.0 hosts never call it.
pub type ModelEmbeddingsFn = unsafe extern "C" fn(
    state: *mut c_void,
    embeddings: *const f32,
    rows: u64,
    dim: u64,
    error: *mut TextBuffer,
) -> Status;

/// The static descriptor a plugin's entry symbol returns.
#[repr(C)]
#[derive(Debug)]
pub struct PluginDescriptor {
    pub header: AbiHeader,
    pub name: RawStr,
    pub version: RawStr,
    pub description: RawStr,
    /// JSON array of `{"name", "default", "help"}` objects.
    pub parameters_json: RawStr,
    pub create: CreateFn,
    pub destroy: DestroyFn,
    pub neighbours_needed: NeighboursNeededFn,
    pub epoch: EpochFn,
    /// Null unless the sampler accepts model embeddings (see [`ModelEmbeddingsFn`]).
    pub model_embeddings: Option<ModelEmbeddingsFn>,
}

/// Signature of the entry symbol.
pub type EntryFn = unsafe extern "C" fn() -> *const PluginDescriptor;

impl TextBuffer {
    /// Writes `text`, truncated at a character boundary to the buffer's capacity.
    ///
    /// # Safety
    /// `self.ptr` must be valid for writes of `self.capacity` bytes (or `capacity` is 0).
    pub unsafe fn write_str(&mut self, text: &str) {
        let mut len = text.len().min(self.capacity);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        if len > 0 {
            // SAFETY: the caller guarantees `ptr` is writable for `capacity >= len` bytes.
            unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), self.ptr, len) };
        }
        self.len = len;
    }
}

impl RawStr {
    /// Borrows a Rust string for the duration of a call.
    pub fn new(text: &str) -> Self {
        RawStr {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }

    /// Reads the text back.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that outlive `'a`.
    pub unsafe fn as_str<'a>(self) -> Result<&'a str, std::str::Utf8Error> {
        if self.len == 0 {
            return Ok("");
        }
        // SAFETY: guaranteed by the caller.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes)
    }
}

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
//! - `create`, `neighbours_needed` and `epoch` are required; `destroy` may be null (then the
//!   host never calls it: the plugin keeps no per-instance memory) and so may
//!   `model_neighbours_needed` (ABI 1.1; a 1.0 descriptor's slot there was reserved and is never
//!   called).
//!   The host refuses a library whose descriptor breaks any rule here, naming the field.
//!
//! C plugins include `samplers/api/include/sampler_abi.h`, the same definitions in C; a test
//! keeps its sizes, offsets and constants equal to these.

use std::ffi::c_void;

/// First field of every descriptor: "SMPLRABI" read as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SMPLRABI");
/// Incompatible changes bump the major version; the host refuses any other major.
pub const ABI_MAJOR: u32 = 1;
/// Appended capabilities bump the minor version; the host refuses a newer minor than its own.
pub const ABI_MINOR: u32 = 1;
/// The exported symbol, without the trailing NUL that `dlsym` needs.
pub const ENTRY_SYMBOL: &str = "sampler_plugin_descriptor";

/// Size in bytes of the descriptor at each minor version of the current major, indexed by minor.
/// 1.1 gave the reserved last slot of 1.0 its meaning (`model_neighbours_needed`), so both
/// have the same size.
pub const DESCRIPTOR_SIZES: [usize; ABI_MINOR as usize + 1] =
    [size_of::<PluginDescriptor>(), size_of::<PluginDescriptor>()];

/// Outcome of every call across the boundary.
pub type Status = i32;
/// The call succeeded.
pub const STATUS_OK: Status = 0;
/// The call failed; the error buffer holds the reason.
pub const STATUS_ERROR: Status = 1;
/// The plugin panicked; the shim caught it and the error buffer holds the panic message.
pub const STATUS_PANIC: Status = 2;

/// Bytes in every [`TextBuffer`] an ABI 1.x host passes (error messages and epoch notes).
pub const TEXT_CAPACITY: usize = 4096;
/// Ends a text that was cut to fit a [`TextBuffer`], so that a cut is never silent.
pub const TRUNCATION_MARK: &str = "\u{2026}(truncated)";
/// Longest `name`, `version` or `description` the host accepts in a descriptor, in bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Longest `parameters_json` the host accepts in a descriptor, in bytes.
pub const MAX_JSON_LEN: usize = 64 * 1024;

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

/// Borrowed UTF-8 text, not NUL-terminated: valid for the call, or for the library's life when
/// in a descriptor. `ptr` may be null (or dangling) only when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawStr {
    pub ptr: *const u8,
    pub len: usize,
}

/// A host-owned byte buffer that the plugin fills with UTF-8 text.
///
/// The plugin writes at most `capacity` bytes at `ptr` and sets `len` to the number written. A
/// text that does not fit is cut and ends in [`TRUNCATION_MARK`] ([`TextBuffer::write_str`]
/// does this); a plugin may instead write `capacity` bytes and set `len` to the full length
/// (as `snprintf` reports), and the host then appends the mark itself.
#[repr(C)]
#[derive(Debug)]
pub struct TextBuffer {
    pub ptr: *mut u8,
    pub capacity: usize,
    pub len: usize,
}

/// What a sampler receives for one epoch. The pointers are valid for the call only.
///
/// ABI 1.1 appended the model tables (from `model_neighbours`): a 1.0 plugin reads the fields
/// before them only, and a 1.1 plugin is only ever loaded by a 1.1 host, which always passes
/// them (NULL with `model_k` 0 when there are none).
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
    /// ABI 1.1. Row-major `n_items x model_k`: each item's nearest other items by cosine of the
    /// model's item embeddings, nearest first, self excluded. Null when `model_k` is 0.
    pub model_neighbours: *const u32,
    /// ABI 1.1. Row-major `n_items x model_k`: for each item, the other items whose embeddings
    /// score highest against its description's embedding under the model (its text's top
    /// wrong answers), most confusable first. Null when `model_k` is 0.
    pub model_confusions: *const u32,
    /// ABI 1.1. Width of both model tables: 0 (no tables yet) or what the sampler asked for.
    pub model_k: u64,
    /// ABI 1.1. The epoch after whose evaluation the model tables were computed (0: none).
    pub model_epoch: u32,
    pub _reserved_model: u32,
}

/// ABI 1.1: what model tables a sampler asks for, filled by `model_neighbours_needed`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawModelNeeds {
    /// Items per row of both model tables (0: no tables; then the host never computes them).
    pub k: u64,
    /// The tables are recomputed after the evaluation of every epoch divisible by this (at
    /// least 1 when `k` is above 0).
    pub refresh_every: u32,
    pub _reserved: u32,
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
/// ABI 1.1: which tables from the model under training the configured sampler reads (see
/// [`RawModelNeeds`]). Called once, after `neighbours_needed`; the host zeroes `needs` first.
pub type ModelNeighboursNeededFn = unsafe extern "C" fn(
    state: *const c_void,
    needs: *mut RawModelNeeds,
    error: *mut TextBuffer,
) -> Status;

/// The static descriptor a plugin's entry symbol returns.
///
/// Function pointers are `Option`s, which have the layout of a C function pointer with null as
/// `None`: the host checks every one instead of trusting it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginDescriptor {
    pub header: AbiHeader,
    /// The sampler's name on the command line: non-empty, at most [`MAX_TEXT_LEN`] bytes,
    /// without whitespace, control characters, `,`, `.`, `=`, `/` or `\`.
    pub name: RawStr,
    /// Version of the sampler's behaviour (at most [`MAX_TEXT_LEN`] bytes, no control
    /// characters; reports record it, so give one).
    pub version: RawStr,
    /// One line for `harness list` (may be empty, at most [`MAX_TEXT_LEN`] bytes).
    pub description: RawStr,
    /// JSON array of `{"name", "default", "help"}` objects (at most [`MAX_JSON_LEN`] bytes;
    /// empty means no parameters).
    pub parameters_json: RawStr,
    /// Required.
    pub create: Option<CreateFn>,
    /// Optional: null means there is nothing to free, and the host never calls it.
    pub destroy: Option<DestroyFn>,
    /// Required.
    pub neighbours_needed: Option<NeighboursNeededFn>,
    /// Required.
    pub epoch: Option<EpochFn>,
    /// ABI 1.1, optional: null means the sampler reads no model tables. In a 1.0 descriptor
    /// this slot was reserved: the host checks it is code (when set) but never calls it.
    pub model_neighbours_needed: Option<ModelNeighboursNeededFn>,
}

/// Signature of the entry symbol.
pub type EntryFn = unsafe extern "C" fn() -> *const PluginDescriptor;

impl TextBuffer {
    /// Writes `text`; a text longer than the buffer is cut at a character boundary and ends in
    /// [`TRUNCATION_MARK`] (or in as much of the mark as fits a tiny buffer).
    ///
    /// # Safety
    /// `self.ptr` must be valid for writes of `self.capacity` bytes (or `capacity` is 0).
    pub unsafe fn write_str(&mut self, text: &str) {
        let (kept, mark) = fit(text, self.capacity);
        let mut written = 0;
        for part in [kept, mark] {
            if !part.is_empty() && !self.ptr.is_null() {
                // SAFETY: `fit` keeps `kept.len() + mark.len() <= capacity`, and the caller
                // guarantees `ptr` is writable for `capacity` bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(part.as_ptr(), self.ptr.add(written), part.len())
                };
                written += part.len();
            }
        }
        self.len = written;
    }
}

/// The longest prefix of `text` at a character boundary and the mark that together fit
/// `capacity` bytes: `(text, "")` when it all fits.
fn fit(text: &str, capacity: usize) -> (&str, &str) {
    if text.len() <= capacity {
        return (text, "");
    }
    if TRUNCATION_MARK.len() > capacity {
        return ("", prefix_at_char_boundary(TRUNCATION_MARK, capacity));
    }
    (
        prefix_at_char_boundary(text, capacity - TRUNCATION_MARK.len()),
        TRUNCATION_MARK,
    )
}

fn prefix_at_char_boundary(text: &str, max_len: usize) -> &str {
    let mut len = text.len().min(max_len);
    while !text.is_char_boundary(len) {
        len -= 1;
    }
    &text[..len]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str, capacity: usize) -> String {
        let mut bytes = vec![0u8; capacity];
        let mut buffer = TextBuffer {
            ptr: bytes.as_mut_ptr(),
            capacity,
            len: 0,
        };
        // SAFETY: `bytes` holds `capacity` writable bytes for the call.
        unsafe { buffer.write_str(text) };
        assert!(buffer.len <= capacity);
        String::from_utf8(bytes[..buffer.len].to_vec()).expect("whole characters only")
    }

    #[test]
    fn texts_that_fit_are_written_whole() {
        assert_eq!(write("hello", 5), "hello");
        assert_eq!(write("", 0), "");
    }

    #[test]
    fn cut_texts_end_in_the_mark_at_a_character_boundary() {
        let long = "é".repeat(40);
        let cut = write(&long, 32);
        assert!(cut.ends_with(TRUNCATION_MARK), "{cut}");
        assert!(cut.len() <= 32 && cut.len() >= 31, "{cut}");
        assert!(long.starts_with(cut.trim_end_matches(TRUNCATION_MARK)));
        // A buffer smaller than the mark holds as much of the mark as fits.
        assert_eq!(write("abcdefgh", 5), "\u{2026}(t");
        assert_eq!(write("abcdefgh", 2), "");
    }

    #[test]
    fn function_pointers_keep_the_c_layout() {
        assert_eq!(size_of::<Option<EpochFn>>(), size_of::<*const c_void>());
        assert_eq!(size_of::<PluginDescriptor>(), DESCRIPTOR_SIZES[0]);
        assert_eq!(DESCRIPTOR_SIZES[1], DESCRIPTOR_SIZES[0]);
    }
}

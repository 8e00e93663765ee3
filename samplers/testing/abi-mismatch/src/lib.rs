//! A plugin with a deliberately wrong descriptor header, for the harness's ABI-refusal tests.
//!
//! `ABI_MISMATCH_FAULT` (read when the entry symbol is called) chooses the fault: `major`
//! (the next major ABI), `minor` (a minor version newer than the harness's), `magic`, `size`, or `null`
//! (no descriptor). The plugin is never meant to get past the header checks, so its functions
//! only report that they should not have been called.

use std::ffi::c_void;
use std::sync::OnceLock;

use sampler_api::abi::{
    ABI_MAJOR, ABI_MINOR, AbiHeader, MAGIC, PluginDescriptor, RawBatches, RawInputs, RawStr,
    STATUS_ERROR, Status, TextBuffer,
};

unsafe extern "C" fn refuse_create(_: RawStr, _: *mut *mut c_void, _: *mut TextBuffer) -> Status {
    STATUS_ERROR
}
unsafe extern "C" fn refuse_destroy(_: *mut c_void) {}
unsafe extern "C" fn refuse_needed(_: *const c_void, _: *mut u64, _: *mut TextBuffer) -> Status {
    STATUS_ERROR
}
unsafe extern "C" fn refuse_epoch(
    _: *const c_void,
    _: *const RawInputs,
    _: u32,
    _: *mut RawBatches,
    _: *mut TextBuffer,
    _: *mut TextBuffer,
) -> Status {
    STATUS_ERROR
}

struct Descriptor(PluginDescriptor);
// SAFETY: written once, then only read; its strings are 'static.
unsafe impl Sync for Descriptor {}
unsafe impl Send for Descriptor {}

/// Entry symbol with a header broken as `ABI_MISMATCH_FAULT` says.
#[unsafe(no_mangle)]
pub extern "C" fn sampler_plugin_descriptor() -> *const PluginDescriptor {
    static DESCRIPTORS: OnceLock<Vec<(&'static str, Descriptor)>> = OnceLock::new();
    let fault = std::env::var("ABI_MISMATCH_FAULT").unwrap_or_default();
    let descriptors = DESCRIPTORS.get_or_init(|| {
        ["major", "minor", "magic", "size"]
            .into_iter()
            .map(|fault| (fault, Descriptor(broken(fault))))
            .collect()
    });
    descriptors
        .iter()
        .find(|(name, _)| *name == fault)
        .map_or(std::ptr::null(), |(_, descriptor)| {
            &descriptor.0 as *const PluginDescriptor
        })
}

fn broken(fault: &str) -> PluginDescriptor {
    let mut header = AbiHeader {
        magic: MAGIC,
        descriptor_size: size_of::<PluginDescriptor>() as u64,
        abi_major: ABI_MAJOR,
        abi_minor: ABI_MINOR,
    };
    match fault {
        "major" => header.abi_major = ABI_MAJOR + 1,
        "minor" => header.abi_minor = ABI_MINOR + 1,
        "magic" => header.magic = u64::from_le_bytes(*b"NOTABI!!"),
        _ => header.descriptor_size -= 8,
    }
    PluginDescriptor {
        header,
        name: RawStr::new("abi-mismatch"),
        version: RawStr::new("0.0.1"),
        description: RawStr::new("test fixture with a broken header"),
        parameters_json: RawStr::new("[]"),
        create: Some(refuse_create),
        destroy: Some(refuse_destroy),
        neighbours_needed: Some(refuse_needed),
        epoch: Some(refuse_epoch),
        model_neighbours_needed: None,
    }
}

use std::path::{Path, PathBuf};

use crate::Parameter;
use crate::abi::{
    ABI_MAJOR, ABI_MINOR, AbiHeader, DESCRIPTOR_SIZES, ENTRY_SYMBOL, EntryFn, MAGIC,
    PluginDescriptor, RawStr,
};
use thiserror::Error;

/// Why a plugin could not be loaded or used; every message names the library file.
#[derive(Debug, Error)]
pub enum PluginError {
    #[error("{}: no such plugin file: {source}", path.display())]
    Missing {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot load the library: {source}", path.display())]
    Load {
        path: PathBuf,
        source: libloading::Error,
    },
    #[error("{}: not a sampler plugin (it exports no `{ENTRY_SYMBOL}` symbol)", path.display())]
    NotAPlugin { path: PathBuf },
    #[error("{}: the plugin's entry symbol returned no descriptor (it panicked or failed)", path.display())]
    NoDescriptor { path: PathBuf },
    #[error("{}: not a sampler plugin of this harness (magic {found:#018x}, expected {MAGIC:#018x})", path.display())]
    BadMagic { path: PathBuf, found: u64 },
    #[error(
        "{}: plugin ABI {plugin_major}.{plugin_minor} is incompatible with the harness's ABI {ABI_MAJOR}.{ABI_MINOR}: {reason}",
        path.display()
    )]
    Incompatible {
        path: PathBuf,
        plugin_major: u32,
        plugin_minor: u32,
        reason: &'static str,
    },
    #[error(
        "{}: descriptor of {found} bytes, but ABI {ABI_MAJOR}.{minor} descriptors have {expected} bytes",
        path.display()
    )]
    BadSize {
        path: PathBuf,
        found: u64,
        expected: usize,
        minor: u32,
    },
    #[error("{}: descriptor field `{field}` is invalid: {reason}", path.display())]
    BadField {
        path: PathBuf,
        field: &'static str,
        reason: String,
    },
    #[error("sampler '{name}' ({}): {message}", path.display())]
    Call {
        name: String,
        path: PathBuf,
        message: String,
    },
}

/// A sampler library that passed the ABI checks. The library is never unloaded: it is leaked
/// on purpose, because no host can prove that no pointer into it survives.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    pub path: PathBuf,
    pub name: String,
    pub version: String,
    pub description: String,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub parameters: Vec<Parameter>,
    pub(super) descriptor: &'static PluginDescriptor,
}

impl LoadedPlugin {
    /// Loads `path` and checks its descriptor against this harness's ABI.
    ///
    /// Loading runs the library's initialisers: only paths the user named or configured plugin
    /// folders are loaded.
    pub fn load(path: &Path) -> Result<Self, PluginError> {
        let path = path.canonicalize().map_err(|source| PluginError::Missing {
            path: path.to_path_buf(),
            source,
        })?;
        // SAFETY: loading a library runs its initialisers; the harness only loads files the user
        // named or that sit in plugin folders (see the README's safety note).
        let library =
            unsafe { libloading::Library::new(&path) }.map_err(|source| PluginError::Load {
                path: path.clone(),
                source,
            })?;
        let library: &'static libloading::Library = Box::leak(Box::new(library));
        // SAFETY: the ABI defines the entry symbol's type as `EntryFn`.
        let entry = unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) }
            .map_err(|_| PluginError::NotAPlugin { path: path.clone() })?;
        // SAFETY: calling the entry symbol is the ABI's first step; the plugin's shim never unwinds.
        let descriptor = unsafe { entry() };
        if descriptor.is_null() {
            return Err(PluginError::NoDescriptor { path });
        }
        // SAFETY: the header's layout is fixed across all ABI versions, so it can be read first.
        let header = unsafe { *descriptor.cast::<AbiHeader>() };
        check_header(&path, &header)?;
        // SAFETY: the header checks proved the plugin speaks an ABI whose descriptor layout
        // this harness knows, and the library is never unloaded.
        let descriptor: &'static PluginDescriptor = unsafe { &*descriptor };
        let text = |field: &'static str, raw: RawStr| -> Result<String, PluginError> {
            // SAFETY: descriptor strings live as long as the (never unloaded) library.
            unsafe { raw.as_str() }
                .map(str::to_owned)
                .map_err(|e| PluginError::BadField {
                    path: path.clone(),
                    field,
                    reason: e.to_string(),
                })
        };
        let name = text("name", descriptor.name)?;
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == ',' || c == '.') {
            return Err(PluginError::BadField {
                path,
                field: "name",
                reason: format!("{name:?} must be non-empty, without spaces, commas or dots"),
            });
        }
        let parameters =
            serde_json::from_str(&text("parameters_json", descriptor.parameters_json)?).map_err(
                |e| PluginError::BadField {
                    path: path.clone(),
                    field: "parameters_json",
                    reason: e.to_string(),
                },
            )?;
        Ok(LoadedPlugin {
            version: text("version", descriptor.version)?,
            description: text("description", descriptor.description)?,
            name,
            abi_major: header.abi_major,
            abi_minor: header.abi_minor,
            parameters,
            descriptor,
            path,
        })
    }

    /// `major.minor` of the plugin's ABI.
    pub fn abi(&self) -> String {
        format!("{}.{}", self.abi_major, self.abi_minor)
    }
}

fn check_header(path: &Path, header: &AbiHeader) -> Result<(), PluginError> {
    let path = path.to_path_buf();
    if header.magic != MAGIC {
        return Err(PluginError::BadMagic {
            path,
            found: header.magic,
        });
    }
    let incompatible = |reason| PluginError::Incompatible {
        path: path.clone(),
        plugin_major: header.abi_major,
        plugin_minor: header.abi_minor,
        reason,
    };
    if header.abi_major != ABI_MAJOR {
        return Err(incompatible("the major versions differ"));
    }
    if header.abi_minor > ABI_MINOR {
        return Err(incompatible(
            "the plugin is newer than the harness; update the harness",
        ));
    }
    let expected = DESCRIPTOR_SIZES[header.abi_minor as usize];
    if header.descriptor_size != expected as u64 {
        return Err(PluginError::BadSize {
            path,
            found: header.descriptor_size,
            expected,
            minor: header.abi_minor,
        });
    }
    Ok(())
}

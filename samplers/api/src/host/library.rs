use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::Parameter;
use crate::abi::{
    ABI_MAJOR, ABI_MINOR, AbiHeader, CreateFn, DESCRIPTOR_SIZES, DestroyFn, ENTRY_SYMBOL, EntryFn,
    EpochFn, MAGIC, MAX_JSON_LEN, MAX_TEXT_LEN, ModelNeighboursNeededFn, NeighboursNeededFn,
    PluginDescriptor, RawStr,
};
use thiserror::Error;

use super::memory::MemoryMap;

/// Why a plugin could not be loaded or used; every message names the library file.
///
/// Each message is complete on its own (the list of libraries that failed prints them one per
/// line), so no variant also returns its cause from `source()`: an error chain printed with
/// anyhow's `{:#}` never repeats a cause.
#[derive(Debug, Error)]
pub enum PluginError {
    #[error("{}: no such plugin file: {cause}", path.display())]
    Missing {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}: cannot load the library: {cause}", path.display())]
    Load {
        path: PathBuf,
        cause: libloading::Error,
    },
    /// Loading the library (its initialisers or its entry call) killed or hung a separate
    /// process that tried it first, so it was never loaded into the harness.
    #[error("{}: loading it crashed a separate process, so the harness did not load it: {cause}", path.display())]
    Crashed { path: PathBuf, cause: String },
    #[error("{}: not a sampler plugin (it exports no `{ENTRY_SYMBOL}` symbol)", path.display())]
    NotAPlugin { path: PathBuf },
    #[error("{}: the `{ENTRY_SYMBOL}` symbol is not a function (it does not point into executable memory)", path.display())]
    EntryNotCode { path: PathBuf },
    #[error("{}: the plugin's entry symbol returned no descriptor (it panicked or failed)", path.display())]
    NoDescriptor { path: PathBuf },
    #[error("{}: the plugin's entry symbol returned {address:#x}, which is not readable memory", path.display())]
    BadDescriptor { path: PathBuf, address: usize },
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
    /// A call into a loaded plugin failed; `call` says which (e.g. `create with configuration
    /// {}`), `message` is the plugin's own text or the host's description of the status.
    #[error("sampler '{name}' ({}): {call}: {message}", path.display())]
    Call {
        name: String,
        path: PathBuf,
        call: String,
        message: String,
    },
    /// `create` reported success but returned no state: a broken plugin, not a refusal.
    #[error("sampler '{name}' ({}): {call}: {NO_STATE}", path.display())]
    NoState {
        name: String,
        path: PathBuf,
        call: String,
    },
}

const NO_STATE: &str = "returned STATUS_OK but a NULL state (a stateless plugin returns the address of any static object)";

impl PluginError {
    /// The message without the plugin's name and path, for a caller that already shows them
    /// (e.g. under a heading naming the plugin).
    pub fn without_plugin(&self) -> String {
        match self {
            PluginError::Call { call, message, .. } => format!("{call}: {message}"),
            PluginError::NoState { call, .. } => format!("{call}: {NO_STATE}"),
            other => other.to_string(),
        }
    }
}

/// The descriptor's functions after validation: the required ones are present.
#[derive(Debug, Clone, Copy)]
pub(super) struct Functions {
    pub(super) create: CreateFn,
    pub(super) destroy: Option<DestroyFn>,
    pub(super) neighbours_needed: NeighboursNeededFn,
    pub(super) epoch: EpochFn,
    /// Set only for ABI 1.1 plugins that read model tables.
    pub(super) model_neighbours_needed: Option<ModelNeighboursNeededFn>,
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
    pub(super) functions: Functions,
}

impl LoadedPlugin {
    /// Loads `path` and checks its descriptor against this harness's ABI: the header, then
    /// every field (texts, their lengths and encoding, the sampler name, the parameter list,
    /// the function pointers). A library that breaks a rule is refused with the field named.
    ///
    /// Loading runs the library's initialisers: only paths the user named or configured plugin
    /// folders are loaded.
    pub fn load(path: &Path) -> Result<Self, PluginError> {
        let path = path.canonicalize().map_err(|cause| PluginError::Missing {
            path: path.to_path_buf(),
            cause,
        })?;
        // SAFETY: loading a library runs its initialisers; the harness only loads files the user
        // named or that sit in plugin folders (see the README's safety note).
        let library =
            unsafe { libloading::Library::new(&path) }.map_err(|cause| PluginError::Load {
                path: path.clone(),
                cause,
            })?;
        let library: &'static libloading::Library = Box::leak(Box::new(library));
        // SAFETY: the ABI defines the entry symbol's type as `EntryFn`.
        let entry = unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) }
            .map_err(|_| PluginError::NotAPlugin { path: path.clone() })?;
        let entry: EntryFn = *entry;
        if MemoryMap::current().is_some_and(|m| !m.executable(entry as usize)) {
            return Err(PluginError::EntryNotCode { path });
        }
        // SAFETY: calling the entry symbol is the ABI's first step; it points to code, and the
        // plugin's shim never unwinds.
        let address = unsafe { entry() };
        if address.is_null() {
            return Err(PluginError::NoDescriptor { path });
        }
        // Taken after the entry call, which may have allocated the descriptor's strings.
        let memory = MemoryMap::current();
        let readable =
            |address: usize, len: usize| memory.as_ref().is_none_or(|m| m.readable(address, len));
        if !readable(address as usize, size_of::<AbiHeader>()) {
            return Err(PluginError::BadDescriptor {
                path,
                address: address as usize,
            });
        }
        // SAFETY: the header's layout is fixed across all ABI versions and its bytes are
        // readable; an unaligned read copes with a misplaced descriptor.
        let header = unsafe { address.cast::<AbiHeader>().read_unaligned() };
        check_header(&path, &header)?;
        if !readable(address as usize, size_of::<PluginDescriptor>()) {
            return Err(PluginError::BadDescriptor {
                path,
                address: address as usize,
            });
        }
        // SAFETY: the header checks proved the plugin speaks an ABI whose descriptor layout this
        // harness knows (every bit pattern is a valid `PluginDescriptor`: integers, raw pointers
        // and nullable function pointers), and its bytes are readable. The copy is what gets
        // validated and used, so the plugin cannot change it afterwards.
        let descriptor = unsafe { address.read_unaligned() };
        let checker = Checker {
            path: &path,
            memory: memory.as_ref(),
        };
        let name = checker.text("name", descriptor.name, MAX_TEXT_LEN)?;
        checker.name(&name)?;
        let version = checker.text("version", descriptor.version, MAX_TEXT_LEN)?;
        if let Some(c) = version.chars().find(|c| c.is_control()) {
            return Err(checker.bad(
                "version",
                format!("{version:?} contains the control character {c:?}"),
            ));
        }
        let description = checker.text("description", descriptor.description, MAX_TEXT_LEN)?;
        let parameters_json =
            checker.text("parameters_json", descriptor.parameters_json, MAX_JSON_LEN)?;
        let parameters = checker.parameters(&parameters_json)?;
        let functions = Functions {
            create: checker.required("create", descriptor.create)?,
            destroy: checker.optional("destroy", descriptor.destroy)?,
            neighbours_needed: checker
                .required("neighbours_needed", descriptor.neighbours_needed)?,
            epoch: checker.required("epoch", descriptor.epoch)?,
            // A set pointer must be code; in a 1.0 descriptor the slot was reserved, so it is
            // never called.
            model_neighbours_needed: checker
                .optional(
                    "model_neighbours_needed",
                    descriptor.model_neighbours_needed,
                )?
                .filter(|_| header.abi_minor >= 1),
        };
        Ok(LoadedPlugin {
            name,
            version,
            description,
            abi_major: header.abi_major,
            abi_minor: header.abi_minor,
            parameters,
            functions,
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

/// Validates the fields of one descriptor, naming the library and the field on failure.
struct Checker<'a> {
    path: &'a Path,
    /// `None` where the platform cannot tell mapped memory from unmapped.
    memory: Option<&'a MemoryMap>,
}

impl Checker<'_> {
    fn bad(&self, field: &'static str, reason: impl Into<String>) -> PluginError {
        PluginError::BadField {
            path: self.path.to_path_buf(),
            field,
            reason: reason.into(),
        }
    }

    /// Copies a descriptor text after checking its pointer, length and encoding.
    fn text(&self, field: &'static str, raw: RawStr, limit: usize) -> Result<String, PluginError> {
        if raw.len == 0 {
            return Ok(String::new());
        }
        if raw.ptr.is_null() {
            return Err(self.bad(field, format!("NULL pointer with length {}", raw.len)));
        }
        if raw.len > limit {
            return Err(self.bad(
                field,
                format!("length {} exceeds the limit of {limit} bytes", raw.len),
            ));
        }
        let address = raw.ptr as usize;
        if self.memory.is_some_and(|m| !m.readable(address, raw.len)) {
            return Err(self.bad(
                field,
                format!("{address:#x} (length {}) is not readable memory", raw.len),
            ));
        }
        // SAFETY: the pointer is non-null, the length is bounded, the bytes are mapped readable
        // (where the platform tells), and descriptor strings live as long as the library, which
        // is never unloaded; the bytes are copied at once.
        let bytes = unsafe { std::slice::from_raw_parts(raw.ptr, raw.len) };
        String::from_utf8(bytes.to_vec())
            .map_err(|e| self.bad(field, format!("not UTF-8: {}", e.utf8_error())))
    }

    /// A sampler name must be usable on the command line: in `--samplers A,B`, `LABEL=NAME`,
    /// `--set NAME.KEY=VALUE`, and distinct from a path.
    fn name(&self, name: &str) -> Result<(), PluginError> {
        if name.is_empty() {
            return Err(self.bad("name", "empty (a sampler needs a name)"));
        }
        let forbidden = |c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | '.' | '=' | '/' | '\\')
        };
        if let Some(c) = name.chars().find(|&c| forbidden(c)) {
            return Err(self.bad(
                "name",
                format!(
                    "{name:?} contains {c:?}; a sampler name has no whitespace, control characters, commas, dots, '=' or path separators"
                ),
            ));
        }
        Ok(())
    }

    /// The parameter list: a JSON array of `{"name", "default", "help"}` objects with distinct,
    /// non-empty names; empty text means no parameters.
    fn parameters(&self, json: &str) -> Result<Vec<Parameter>, PluginError> {
        if json.trim().is_empty() {
            return Ok(Vec::new());
        }
        let parameters: Vec<Parameter> = serde_json::from_str(json).map_err(|e| {
            self.bad(
                "parameters_json",
                format!("not a JSON array of {{\"name\", \"default\", \"help\"}} objects: {e}"),
            )
        })?;
        let mut seen = BTreeSet::new();
        for parameter in &parameters {
            if parameter.name.is_empty() {
                return Err(self.bad("parameters_json", "a parameter has an empty name"));
            }
            if !seen.insert(parameter.name.as_str()) {
                return Err(self.bad(
                    "parameters_json",
                    format!("parameter {:?} is listed twice", parameter.name),
                ));
            }
        }
        Ok(parameters)
    }

    fn required<F: CodeAddress>(
        &self,
        field: &'static str,
        function: Option<F>,
    ) -> Result<F, PluginError> {
        self.optional(field, function)?
            .ok_or_else(|| self.bad(field, "NULL, but the function is required"))
    }

    fn optional<F: CodeAddress>(
        &self,
        field: &'static str,
        function: Option<F>,
    ) -> Result<Option<F>, PluginError> {
        if let Some(function) = function {
            let address = function.address();
            if self.memory.is_some_and(|m| !m.executable(address)) {
                return Err(self.bad(
                    field,
                    format!("{address:#x} does not point into executable memory"),
                ));
            }
        }
        Ok(function)
    }
}

/// The address of a function pointer of the ABI, to look up in the memory map.
trait CodeAddress: Copy {
    fn address(self) -> usize;
}

macro_rules! code_address {
    ($($function:ty),*) => {
        $(impl CodeAddress for $function {
            fn address(self) -> usize {
                self as usize
            }
        })*
    };
}

code_address!(
    CreateFn,
    DestroyFn,
    NeighboursNeededFn,
    EpochFn,
    ModelNeighboursNeededFn
);

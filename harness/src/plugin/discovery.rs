use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::inspect::try_in_worker;
use super::{LoadedPlugin, PluginError};

/// Environment variable with extra plugin folders, separated like `PATH`.
pub const PLUGIN_PATH_ENV: &str = "SAMPLER_PLUGIN_PATH";

/// Plugin libraries are recognised by name: `lib<anything>_sampler.so` (`.dylib` on macOS,
/// `<anything>_sampler.dll` on Windows). Other libraries in a folder are never loaded.
pub fn is_plugin_file_name(file_name: &str) -> bool {
    let stem = file_name
        .strip_prefix(std::env::consts::DLL_PREFIX)
        .and_then(|rest| rest.strip_suffix(std::env::consts::DLL_SUFFIX));
    stem.is_some_and(|stem| stem.ends_with("_sampler") && stem.len() > "_sampler".len())
}

/// The plugins of the configured folders, by sampler name, plus the libraries that failed.
///
/// Folders are scanned lazily, on the first look-up by name or listing: commands that never
/// use a plugin never load one, and a path given explicitly loads only that library. A library
/// that fails to load is recorded with the reason and never hides the others.
#[derive(Debug)]
pub struct PluginRegistry {
    explicit: Vec<PathBuf>,
    loading: Loading,
    scan: OnceCell<Scan>,
}

/// How libraries are loaded into this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loading {
    /// Directly (inside a worker, or where this process is not the harness binary).
    Direct,
    /// Only after a worker process loaded it unharmed (see [`super::inspect`]).
    AfterWorker,
}

/// The outcome of scanning every plugin folder once.
#[derive(Debug, Default)]
struct Scan {
    folders: Vec<PathBuf>,
    by_name: BTreeMap<String, LoadedPlugin>,
    failures: Vec<PluginError>,
}

impl PluginRegistry {
    /// A registry over `folders` (searched in order; earlier folders win when two plugins share
    /// a name), then the folders in `SAMPLER_PLUGIN_PATH`, then the folder of the running
    /// executable (the workspace's build output, where cargo puts the built-in samplers).
    /// Nothing is scanned or loaded yet.
    ///
    /// Libraries are loaded directly into this process: for workers, tests and benchmarks.
    pub fn new(folders: &[PathBuf]) -> Self {
        PluginRegistry {
            explicit: folders.to_vec(),
            loading: Loading::Direct,
            scan: OnceCell::new(),
        }
    }

    /// As [`PluginRegistry::new`], but each library is first loaded by a worker process (the
    /// harness binary started again), so that one whose initialisers or entry call crash or
    /// hang is reported as not loaded instead of taking this process down. For the commands.
    pub fn isolated(folders: &[PathBuf]) -> Self {
        PluginRegistry {
            loading: Loading::AfterWorker,
            ..Self::new(folders)
        }
    }

    /// A registry whose folders are scanned now (see [`PluginRegistry::new`]).
    pub fn discover(folders: &[PathBuf]) -> Self {
        let registry = Self::new(folders);
        registry.scanned();
        registry
    }

    fn scanned(&self) -> &Scan {
        self.scan.get_or_init(|| {
            let mut scan = Scan::default();
            for folder in search_folders(&self.explicit) {
                scan.folder(&folder, self.loading);
            }
            scan
        })
    }

    /// Finds a sampler by name, or loads it from a path (anything with a path separator or a
    /// library suffix is a path; a path never triggers a scan of the folders).
    pub fn resolve(&self, name_or_path: &str) -> Result<LoadedPlugin, ResolveError> {
        let looks_like_path = name_or_path.contains(std::path::MAIN_SEPARATOR)
            || name_or_path.contains('/')
            || name_or_path.ends_with(std::env::consts::DLL_SUFFIX);
        if looks_like_path {
            let path = PathBuf::from(name_or_path);
            let loaded = load_all(std::slice::from_ref(&path), self.loading).pop();
            return loaded
                .expect("one outcome per library")
                .map_err(ResolveError::Plugin);
        }
        let scan = self.scanned();
        if let Some(plugin) = scan.by_name.get(name_or_path) {
            return Ok(plugin.clone());
        }
        Err(ResolveError::Unknown {
            name: name_or_path.to_string(),
            known: scan.by_name.keys().cloned().collect(),
            folders: scan.folders.clone(),
            not_loaded: scan.failures.len(),
        })
    }

    /// Plugins that loaded, sorted by name.
    pub fn plugins(&self) -> impl Iterator<Item = &LoadedPlugin> {
        self.scanned().by_name.values()
    }

    /// Libraries that looked like plugins but failed to load, with the reason.
    pub fn failures(&self) -> &[PluginError] {
        &self.scanned().failures
    }

    /// The folders searched, in order.
    pub fn folders(&self) -> &[PathBuf] {
        &self.scanned().folders
    }
}

impl Scan {
    fn folder(&mut self, folder: &Path, loading: Loading) {
        if self.folders.iter().any(|seen| seen == folder) {
            return;
        }
        self.folders.push(folder.to_path_buf());
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_plugin_file_name)
            })
            .collect();
        files.sort();
        for loaded in load_all(&files, loading) {
            match loaded {
                Ok(plugin) => {
                    self.by_name.entry(plugin.name.clone()).or_insert(plugin);
                }
                Err(error) => self.failures.push(error),
            }
        }
    }
}

/// Loads `libraries` in order; with [`Loading::AfterWorker`], only those a worker loaded
/// unharmed (the others are [`PluginError::Crashed`]).
fn load_all(libraries: &[PathBuf], loading: Loading) -> Vec<Result<LoadedPlugin, PluginError>> {
    let tried = match loading {
        Loading::Direct => libraries.iter().map(|_| Ok(())).collect(),
        Loading::AfterWorker => try_in_worker(libraries),
    };
    libraries
        .iter()
        .zip(tried)
        .map(|(library, tried)| tried.and_then(|()| LoadedPlugin::load(library)))
        .collect()
}

/// A sampler name that matched nothing, or a path that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "no sampler named '{name}'{} (known: {}; searched: {}{}). Give a path to a plugin library, or add its folder with --plugin-dir",
        closest(name, known).map(|m| format!(", did you mean '{m}'?")).unwrap_or_default(),
        if known.is_empty() { "none".to_string() } else { known.join(", ") },
        folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
        match not_loaded {
            0 => String::new(),
            1 => "; 1 library there was not loaded, `harness list` says why".to_string(),
            n => format!("; {n} libraries there were not loaded, `harness list` says why"),
        }
    )]
    Unknown {
        name: String,
        known: Vec<String>,
        folders: Vec<PathBuf>,
        /// Plugin-named libraries in those folders that failed to load.
        not_loaded: usize,
    },
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// The known name closest to `name` when it is a likely misspelling (at most two edits, and at
/// most half the name's length).
fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|&(distance, _)| distance <= 2 && distance <= name.chars().count() / 2)
        .min()
        .map(|(_, candidate)| candidate.as_str())
}

/// Levenshtein distance between two short names, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn search_folders(explicit: &[PathBuf]) -> Vec<PathBuf> {
    let mut folders = explicit.to_vec();
    if let Some(paths) = std::env::var_os(PLUGIN_PATH_ENV) {
        folders.extend(std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        // Test and bench executables live in target/<profile>/deps; plugins one level up.
        if exe_dir.file_name().is_some_and(|name| name == "deps") {
            folders.extend(exe_dir.parent().map(Path::to_path_buf));
        }
        folders.push(exe_dir);
    }
    folders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_name_gets_a_suggestion_and_an_unrelated_one_none() {
        let known: Vec<String> = ["curriculum", "hard", "progressive", "random"]
            .map(String::from)
            .to_vec();
        assert_eq!(closest("hrad", &known), Some("hard"));
        assert_eq!(closest("curiculum", &known), Some("curriculum"));
        assert_eq!(closest("randmo", &known), Some("random"));
        assert_eq!(closest("ance", &known), None);
        assert_eq!(closest("xy", &known), None);
        let error = ResolveError::Unknown {
            name: "hrad".into(),
            known,
            folders: Vec::new(),
            not_loaded: 0,
        }
        .to_string();
        assert!(
            error.starts_with("no sampler named 'hrad', did you mean 'hard'? (known: "),
            "{error}"
        );
    }

    #[test]
    fn plugin_file_names_follow_the_convention() {
        let lib = |stem: &str| {
            format!(
                "{}{stem}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            )
        };
        assert!(is_plugin_file_name(&lib("hard_sampler")));
        assert!(is_plugin_file_name(&lib("my_team_sampler")));
        assert!(!is_plugin_file_name(&lib("_sampler")));
        assert!(!is_plugin_file_name(&lib("faulty_plugin")));
        assert!(!is_plugin_file_name("hard_sampler.rlib"));
    }
}

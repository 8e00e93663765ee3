use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The cargo profile folder holding the built plugins (this test runs from its `deps/`).
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps folder");
    deps.parent().expect("profile folder").to_path_buf()
}

/// `folder/` + the platform's file name of the shared library `stem` (`lib<stem>.so` on Linux).
pub fn library_file(folder: &Path, stem: &str) -> PathBuf {
    folder.join(format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// Path of a plugin library built by this workspace, e.g. `library("hard_sampler")`.
pub fn library(stem: &str) -> PathBuf {
    let path = library_file(&build_dir(), stem);
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        path.display()
    );
    path
}

/// A neighbour-table cache folder of this test process, so tests never write into the user's
/// cache.
pub fn test_cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("sampler-harness-tests-{}", std::process::id()))
}

/// The harness binary, with no plugin path from the environment and the test cache.
pub fn harness() -> Command {
    Command::from_std(harness_process())
}

/// [`harness`] as a plain process command, for tests that start it and signal it.
pub fn harness_process() -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("harness"));
    command.env_remove("SAMPLER_PLUGIN_PATH");
    command.env(harness::neighbours::cache::CACHE_ENV, test_cache_dir());
    command
}

/// Runs the harness and returns (exit code, stdout, stderr).
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    outcome(harness().args(args))
}

/// Runs a prepared harness command and returns (exit code, stdout, stderr).
pub fn outcome(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("harness runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Fails the test, showing `text`, unless `text` contains every one of `parts`.
#[track_caller]
pub fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is missing from:\n{text}");
    }
}

/// Fails the test, showing the output, unless the harness exited with `code` and its stderr
/// contains every one of `parts`; returns that stderr for further checks.
#[track_caller]
pub fn assert_exit(outcome: (i32, String, String), code: i32, parts: &[&str]) -> String {
    let (actual, stdout, stderr) = outcome;
    assert_eq!(actual, code, "{stdout}{stderr}");
    assert_contains(&stderr, parts);
    stderr
}

/// The first line of `text` that starts with `prefix`; fails the test, showing `text`, where
/// there is none.
#[track_caller]
pub fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?} in:\n{text}"))
}

/// The arguments of a quiet `compare` of `samplers` on the synthetic task, with `seeds` seeds of
/// `epochs` epochs, writing into `out`.
pub fn quiet_compare(samplers: &str, seeds: u32, epochs: u32, out: &Path) -> Vec<String> {
    let out = out.to_str().expect("UTF-8 temporary path");
    let (seeds, epochs) = (seeds.to_string(), epochs.to_string());
    [
        "compare",
        "--samplers",
        samplers,
        "--seeds",
        &seeds,
        "--epochs",
        &epochs,
        "--quiet",
        "--out",
        out,
    ]
    .map(String::from)
    .to_vec()
}

/// A C compiler and a temporary folder for what a test builds with it.
pub struct CBuild {
    cc: String,
    /// Sources and libraries of the test; removed when it ends.
    pub folder: tempfile::TempDir,
}

impl CBuild {
    /// The system C compiler (`$CC`, else `cc`) and an empty folder, or `None` with a note on
    /// stderr, so that a test of the C route passes, saying why it did nothing, where no
    /// compiler is installed.
    pub fn new() -> Option<Self> {
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let works = std::process::Command::new(&cc)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !works {
            // libtest runs each test on a thread named after it.
            let thread = std::thread::current();
            let test = thread.name().unwrap_or("a C test");
            eprintln!("skipping {test}: no C compiler `{cc}` found (install gcc or set CC)");
            return None;
        }
        let folder = tempfile::tempdir().unwrap();
        Some(CBuild { cc, folder })
    }

    /// `name` in the test's folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    /// Compiles `source` into `output` with `flags`, the folder of `sampler_abi.h` included,
    /// failing the test with the compiler's output.
    #[track_caller]
    pub fn compile(&self, source: &Path, output: &Path, flags: &[&str]) {
        let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../samplers/api/include");
        let result = std::process::Command::new(&self.cc)
            .args(flags)
            .args(["-I", include, "-o"])
            .arg(output)
            .arg(source)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{} {flags:?} {} failed:\n{}",
            self.cc,
            source.display(),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

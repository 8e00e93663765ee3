use std::path::PathBuf;

use assert_cmd::Command;

/// The cargo profile folder holding the built plugins (this test runs from its `deps/`).
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps folder");
    deps.parent().expect("profile folder").to_path_buf()
}

/// Path of a plugin library built by this workspace, e.g. `library("hard_sampler")`.
pub fn library(stem: &str) -> PathBuf {
    let path = build_dir().join(format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
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

/// The arguments of a quiet one-seed, one-epoch `compare` of `samplers` on the synthetic task.
pub fn one_epoch_compare(samplers: &str, out: &std::path::Path) -> Vec<String> {
    let out = out.to_str().expect("UTF-8 temporary path");
    [
        "compare",
        "--samplers",
        samplers,
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        out,
    ]
    .map(String::from)
    .to_vec()
}

/// The folder of `sampler_abi.h`, for compiling C plugins.
pub const C_INCLUDE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../samplers/api/include");

/// The system C compiler (`$CC`, else `cc`), or `None` with a note on stderr, so that a test
/// of the C route passes, saying why it did nothing, where no compiler is installed.
pub fn c_compiler(test: &str) -> Option<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let works = std::process::Command::new(&cc)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !works {
        eprintln!("skipping {test}: no C compiler `{cc}` found (install gcc or set CC)");
        return None;
    }
    Some(cc)
}

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

/// The harness binary, with no plugin path from the environment.
pub fn harness() -> Command {
    let mut command = Command::cargo_bin("harness").expect("harness binary");
    command.env_remove("SAMPLER_PLUGIN_PATH");
    command
}

/// Runs the harness and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let output = harness().args(args).output().expect("harness runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

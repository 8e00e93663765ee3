//! `scripts/rustc-libtorch-check`, cargo's rustc wrapper for the workspace: before torch-sys is
//! compiled it checks that libtorch is set up, and says in one line what to run when it is not.

use std::path::{Path, PathBuf};
use std::process::Command;

const WRAPPER: &str = "scripts/rustc-libtorch-check";

/// Runs `script` as cargo runs its rustc wrapper, around `echo compiled`, for `package` with
/// `LIBTORCH` set to `libtorch` (and `LIBTORCH_USE_PYTORCH` if `pytorch`); returns (exit code,
/// stdout, stderr).
fn wrapped(script: &Path, package: &str, libtorch: &Path, pytorch: bool) -> (i32, String, String) {
    let mut command = Command::new(script);
    command
        .args(["echo", "compiled"])
        .env("CARGO_PKG_NAME", package)
        .env("LIBTORCH", libtorch)
        .env_remove("LIBTORCH_INCLUDE")
        .env_remove("LIBTORCH_USE_PYTORCH");
    if pytorch {
        command.env("LIBTORCH_USE_PYTORCH", "1");
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The wrapper of this workspace.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(WRAPPER)
}

/// The one line a refusal prints: a rustc error diagnostic in JSON, which cargo shows as its
/// `rendered` text alone.
fn refusal(code: i32, stdout: &str, stderr: &str) -> String {
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "", "rustc must not run");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let diagnostic: serde_json::Value = serde_json::from_str(stderr).unwrap();
    assert_eq!(diagnostic["level"], "error");
    diagnostic["rendered"].as_str().unwrap().to_string()
}

#[test]
fn a_clone_never_set_up_stops_before_torch_sys_with_one_line() {
    // A copy of the wrapper in a clone whose `.libtorch` link does not exist yet, with the
    // LIBTORCH that .cargo/config.toml gives it.
    let clone = tempfile::tempdir().unwrap();
    let clone = clone.path().canonicalize().unwrap();
    std::fs::create_dir(clone.join("scripts")).unwrap();
    std::fs::copy(script(), clone.join(WRAPPER)).unwrap();
    let (code, stdout, stderr) = wrapped(
        &clone.join(WRAPPER),
        "torch-sys",
        &clone.join(".libtorch"),
        false,
    );
    assert_eq!(
        refusal(code, &stdout, &stderr),
        "error: libtorch is not set up: run scripts/setup-libtorch.sh (it installs libtorch 2.13.0 once into ~/.cache/sampler-harness and links it as .libtorch)\n"
    );
}

#[test]
fn a_libtorch_of_ones_own_without_headers_is_named() {
    let empty = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = wrapped(&script(), "torch-sys", empty.path(), false);
    let rendered = refusal(code, &stdout, &stderr);
    assert!(
        rendered.starts_with(&format!(
            "error: LIBTORCH={} holds no libtorch headers",
            empty.path().display()
        )) && rendered.contains("run scripts/setup-libtorch.sh"),
        "{rendered}"
    );
}

#[test]
fn everything_else_compiles_untouched() {
    let empty = tempfile::tempdir().unwrap();
    let compiled = (0, "compiled\n".to_string(), String::new());
    // Another package, or torch-sys taking PyTorch's libtorch: not checked.
    assert_eq!(wrapped(&script(), "harness", empty.path(), false), compiled);
    assert_eq!(
        wrapped(&script(), "torch-sys", empty.path(), true),
        compiled
    );
    // A libtorch with its headers.
    let installed = tempfile::tempdir().unwrap();
    let header = installed
        .path()
        .join("include/torch/csrc/api/include/torch/torch.h");
    std::fs::create_dir_all(header.parent().unwrap()).unwrap();
    std::fs::write(&header, "").unwrap();
    assert_eq!(
        wrapped(&script(), "torch-sys", installed.path(), false),
        compiled
    );
}

//! The README's plugin guide must stay true: its code builds as written and passes the check.

use std::process::Command;

use crate::support::{CBuild, assert_contains, library_file, run};

/// The first fenced block of `language` in the README that contains `marker`.
fn readme_block(language: &str, marker: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let fence = format!("```{language}\n");
    readme
        .split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|block| block.contains(marker))
        .unwrap_or_else(|| panic!("README has no {language} block with {marker:?}"))
        .to_string()
}

#[test]
fn the_readme_plugin_example_builds_and_passes_the_check() {
    let folder = tempfile::tempdir().unwrap();
    let api = concat!(env!("CARGO_MANIFEST_DIR"), "/../samplers/api");
    let manifest =
        readme_block("toml", "cdylib").replace("path/to/samplers/api", api) + "\n[workspace]\n";
    std::fs::create_dir(folder.path().join("src")).unwrap();
    std::fs::write(folder.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        folder.path().join("src/lib.rs"),
        readme_block("rust", "export_sampler!"),
    )
    .unwrap();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--offline", "--quiet"])
        .current_dir(folder.path())
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(status.success(), "the README plugin does not build");
    let built = library_file(&folder.path().join("target/release"), "my_sampler");
    let (code, stdout, stderr) = run(&[
        "check",
        built.to_str().unwrap(),
        "--config",
        r#"{"reverse":true}"#,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_contains(&stdout, &["shuffled: all 11 checks passed"]);
}

#[test]
fn the_readme_c_plugin_builds_and_passes_the_check() {
    let Some(c) = CBuild::new() else { return };
    let source = c.path("rotated.c");
    std::fs::write(&source, readme_block("c", "sampler_plugin_descriptor")).unwrap();
    let built = library_file(c.folder.path(), "rotated_sampler");
    // The README's command, with every warning an error.
    let flags = [
        "-std=c11",
        "-O2",
        "-shared",
        "-fPIC",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
    ];
    c.compile(&source, &built, &flags);
    let (code, stdout, stderr) = run(&["check", built.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_contains(&stdout, &["rotated: all 11 checks passed"]);
}

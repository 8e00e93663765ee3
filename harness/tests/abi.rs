//! Loading through the ABI: refusals, untrusted output, and interchangeable samplers.

use harness::epochs::run_epoch;
use harness::plugin::{ForeignSampler, LoadedPlugin, PluginError, PluginRegistry};
use sampler_api::{EpochBuffers, Sampler, SamplerPlugin};

use crate::support::{assert_contains, library, library_file, quiet_compare, run};

fn refusal(fault: &str) -> String {
    // The fixture reads its fault from the environment, so each case runs in its own process.
    let path = library("abi_mismatch_plugin");
    let output = crate::support::harness()
        .env("ABI_MISMATCH_FAULT", fault)
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "fault {fault} must be refused"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn wrong_headers_are_refused_with_file_and_versions() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "major",
            &[
                "libabi_mismatch_plugin",
                "plugin ABI 2.1",
                "harness's ABI 1.1",
            ],
        ),
        ("minor", &["plugin ABI 1.2", "newer than the harness"]),
        ("magic", &["not a sampler plugin of this harness"]),
        ("size", &["descriptor of", "ABI 1.1 descriptors have"]),
        ("null", &["returned no descriptor"]),
    ];
    for (fault, phrases) in cases {
        assert_contains(&refusal(fault), phrases);
    }
}

#[test]
fn a_library_without_the_entry_symbol_is_not_a_plugin() {
    // The harness binary's folder holds other shared libraries of the build; any non-plugin
    // library works. The test plugin crate's rlib-less cdylib exports the symbol, so use libc.
    let error =
        LoadedPlugin::load(std::path::Path::new("/definitely/not/here_sampler.so")).unwrap_err();
    assert!(matches!(error, PluginError::Missing { .. }), "{error}");
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if let Some(libc) = libc {
        let error = LoadedPlugin::load(std::path::Path::new(libc)).unwrap_err();
        assert!(
            error.to_string().contains("not a sampler plugin"),
            "{error}"
        );
    }
}

#[test]
fn panics_become_errors_and_the_harness_survives() {
    let plugin = LoadedPlugin::load(&library("faulty_plugin")).unwrap();
    let error = ForeignSampler::new(&plugin, r#"{"fault":"panic_on_create"}"#).unwrap_err();
    assert_contains(
        &error.to_string(),
        &["sampler 'faulty'", "panicked: deliberate panic in create"],
    );

    let sampler = ForeignSampler::new(&plugin, r#"{"fault":"panic_on_epoch"}"#).unwrap();
    let fixture = fixtures::clustered_embeddings(50, 5, 8, 0.5, 1);
    let data =
        sampler_api::SamplerData::new(50, 10, 1, false, &fixture.embeddings, 8, &[], 0).unwrap();
    let mut buffers = EpochBuffers::new(50);
    let error = run_epoch(&sampler, &data, 1, &mut buffers).unwrap_err();
    assert_contains(&error.to_string(), &["panicked: deliberate panic in epoch"]);
    // The same process keeps working with a healthy instance of the same library.
    let healthy = ForeignSampler::new(&plugin, "{}").unwrap();
    assert!(run_epoch(&healthy, &data, 1, &mut buffers).is_ok());
}

#[test]
fn bad_batches_are_caught_by_the_host() {
    let plugin = LoadedPlugin::load(&library("faulty_plugin")).unwrap();
    let fixture = fixtures::clustered_embeddings(50, 5, 8, 0.5, 1);
    let data =
        sampler_api::SamplerData::new(50, 10, 1, false, &fixture.embeddings, 8, &[], 0).unwrap();
    let mut buffers = EpochBuffers::new(50);
    let cases = [
        ("out_of_range", "holds item 57, beyond the 50 items"),
        (
            "duplicate",
            "item 0 appears in batch 1 and again in batch 1",
        ),
        ("drop_item", "1 items are in no batch (first: item 49)"),
        ("malformed", "malformed epoch note"),
    ];
    for (fault, expected) in cases {
        let sampler = ForeignSampler::new(&plugin, &format!(r#"{{"fault":"{fault}"}}"#)).unwrap();
        let error = run_epoch(&sampler, &data, 1, &mut buffers)
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{fault}: {error}");
    }
}

#[test]
fn configuration_errors_name_the_plugin_and_key() {
    let registry = PluginRegistry::discover(&[]);
    let hard = registry.resolve("hard").unwrap();
    let error = ForeignSampler::new(&hard, r#"{"hard_ration":0.5}"#)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("sampler 'hard'") && error.contains("hard_ration"),
        "{error}"
    );
    for bad in ["-0.1", "1.5"] {
        let error = ForeignSampler::new(&hard, &format!(r#"{{"hard_ratio":{bad}}}"#))
            .unwrap_err()
            .to_string();
        assert!(error.contains("hard_ratio"), "{error}");
    }
    let error = ForeignSampler::new(&hard, "not json")
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalid configuration"), "{error}");
}

#[test]
fn loaded_and_in_process_samplers_give_identical_batches() {
    let registry = PluginRegistry::discover(&[]);
    let fixture = fixtures::clustered_embeddings(300, 5, 16, 0.5, 3);
    let neighbours = fixtures::exact_neighbours(&fixture.embeddings, 16, 20);
    let data =
        sampler_api::SamplerData::new(300, 32, 9, false, &fixture.embeddings, 16, &neighbours, 20)
            .unwrap();
    let config = r#"{"hard_ratio":0.5,"hardness_k":20}"#;
    let loaded = ForeignSampler::new(&registry.resolve("hard").unwrap(), config).unwrap();
    let in_process = hard_sampler::HardSampler::from_config(config).unwrap();
    let mut buffers = EpochBuffers::new(300);
    for epoch in 1..=3 {
        let (sink, note) = run_epoch(&loaded, &data, epoch, &mut buffers).unwrap();
        let loaded_batches = sink.to_vecs();
        let (sink, in_process_note) =
            run_epoch(&in_process as &dyn Sampler, &data, epoch, &mut buffers).unwrap();
        assert_eq!(loaded_batches, sink.to_vecs(), "epoch {epoch}");
        assert_eq!(note, in_process_note);
    }
}

#[test]
fn a_broken_library_does_not_hide_the_others() {
    let folder = tempfile::tempdir().unwrap();
    let broken = library_file(folder.path(), "broken_sampler");
    std::fs::copy(library("abi_mismatch_plugin"), &broken).unwrap();
    let (code, stdout, _) = run(&["list", "--plugin-dir", folder.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_contains(&stdout, &["not loaded:", "broken_sampler"]);
    for name in ["random", "hard", "curriculum", "progressive", "cluster"] {
        assert!(
            stdout.lines().any(|line| line.starts_with(name)),
            "{name} missing:\n{stdout}"
        );
    }
    let (code, stdout, _) = run(&[
        "check",
        "hard",
        "--plugin-dir",
        folder.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn errors_name_the_sampler_and_its_path_once() {
    let path = library("faulty_plugin");
    let shown = path.canonicalize().unwrap().display().to_string();
    let folder = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "epoch failure",
            &["--set", "faulty.fault=error_on_epoch"],
            &["sampler 'faulty'", "deliberate failure in epoch", "epoch 1"],
        ),
        (
            "configuration refused",
            &["--set", "faulty.nonsense=1"],
            &["sampler 'faulty'", "unknown field `nonsense`"],
        ),
        (
            "labelled",
            &["--set", "x.nonsense=1"],
            &[
                "sampler 'x'",
                "sampler 'faulty'",
                "unknown field `nonsense`",
            ],
        ),
    ];
    for (index, (case, sets, once)) in cases.into_iter().enumerate() {
        let target = if case == "labelled" {
            format!("x={}", path.display())
        } else {
            path.display().to_string()
        };
        let out = folder.path().join(index.to_string());
        let mut args = quiet_compare(&target, 1, 1, &out);
        args.extend(sets.iter().map(|s| s.to_string()));
        let (code, _, stderr) = run(&args);
        // A run that fails in an epoch fails alone (exit 3); a refused configuration stops all.
        let expected = if case == "epoch failure" { 3 } else { 2 };
        assert_eq!(code, expected, "{case}: {stderr}");
        for text in once.iter().copied().chain([shown.as_str()]) {
            assert_eq!(
                stderr.matches(text).count(),
                1,
                "{case}: {text:?} should appear once in:\n{stderr}"
            );
        }
    }
}

//! The C route to a plugin: `sampler_abi.h` matches the Rust ABI, a plugin written in plain C
//! passes the check and runs in a comparison, and misbehaving C plugins are refused (or fail
//! their call) without harming the harness or the other plugins.
//!
//! The C sources live in `tests/c/`; they are compiled with the system C compiler (`cc`, or
//! `$CC`). Without one these tests say so and pass.

use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use sampler_api::abi::{
    ABI_MAJOR, ABI_MINOR, AbiHeader, CreateFn, ENTRY_SYMBOL, EntryFn, MAGIC, MAX_JSON_LEN,
    MAX_TEXT_LEN, ModelNeighboursNeededFn, PluginDescriptor, RawBatches, RawInputs, RawModelNeeds,
    RawStr, STATUS_ERROR, STATUS_OK, STATUS_PANIC, Status, TEXT_CAPACITY, TRUNCATION_MARK,
    TextBuffer,
};

use crate::support::{
    CBuild, assert_contains, harness, library_file, line_starting, outcome, quiet_compare, run,
};

/// `tests/c/<name>`.
fn source(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c")).join(name)
}

/// Builds `tests/c/<source_name>` into the shared library `stem` in `folder`.
pub fn plugin(
    c: &CBuild,
    source_name: &str,
    folder: &Path,
    stem: &str,
    defines: &[&str],
) -> PathBuf {
    let path = library_file(folder, stem);
    let mut flags = vec!["-std=c11", "-shared", "-fPIC"];
    flags.extend_from_slice(defines);
    c.compile(&source(source_name), &path, &flags);
    path
}

/// The well-behaved C plugin, compiled with every warning an error.
fn sequential(c: &CBuild) -> PathBuf {
    let strict = ["-Wall", "-Wextra", "-Werror", "-pedantic"];
    plugin(
        c,
        "sequential_sampler.c",
        c.folder.path(),
        "sequential_sampler",
        &strict,
    )
}

/// `tests/c/broken_sampler.c` with `-DFAULT_<fault>`, as `<fault>_sampler` in the test's folder.
fn with_fault(c: &CBuild, fault: &str) -> PathBuf {
    let stem = format!("{}_sampler", fault.to_lowercase());
    let define = format!("-DFAULT_{fault}");
    plugin(c, "broken_sampler.c", c.folder.path(), &stem, &[&define])
}

/// `(name, value)` lines that `tests/c/layout.c` must print, from the Rust definitions.
fn rust_layout() -> Vec<(String, String)> {
    let mut expected: Vec<(String, String)> = Vec::new();
    macro_rules! size {
        ($c:literal, $rust:ty) => {
            expected.push((format!("size {}", $c), size_of::<$rust>().to_string()));
        };
    }
    macro_rules! fields {
        ($c:literal, $rust:ty, $($field:ident),+) => {
            size!($c, $rust);
            $(expected.push((
                format!("offset {}.{}", $c, stringify!($field)),
                offset_of!($rust, $field).to_string(),
            ));)+
        };
    }
    fields!(
        "SamplerAbiHeader",
        AbiHeader,
        magic,
        descriptor_size,
        abi_major,
        abi_minor
    );
    fields!("SamplerRawStr", RawStr, ptr, len);
    fields!("SamplerTextBuffer", TextBuffer, ptr, capacity, len);
    fields!(
        "SamplerRawInputs",
        RawInputs,
        n_items,
        batch_size,
        seed,
        drop_last,
        _reserved,
        embeddings,
        embedding_dim,
        neighbours,
        neighbours_k,
        model_neighbours,
        model_confusions,
        model_k,
        model_epoch,
        _reserved_model
    );
    fields!(
        "SamplerModelNeeds",
        RawModelNeeds,
        k,
        refresh_every,
        _reserved
    );
    fields!(
        "SamplerRawBatches",
        RawBatches,
        items,
        items_capacity,
        items_len,
        batch_ends,
        batch_ends_capacity,
        n_batches
    );
    fields!(
        "SamplerPluginDescriptor",
        PluginDescriptor,
        header,
        name,
        version,
        description,
        parameters_json,
        create,
        destroy,
        neighbours_needed,
        epoch,
        model_neighbours_needed
    );
    size!("SamplerStatus", Status);
    size!("SamplerCreateFn", Option<CreateFn>);
    size!("SamplerEntryFn", Option<EntryFn>);
    size!(
        "SamplerModelNeighboursNeededFn",
        Option<ModelNeighboursNeededFn>
    );
    let constants: [(&str, String); 11] = [
        ("SAMPLER_ABI_MAGIC", MAGIC.to_string()),
        ("SAMPLER_ABI_MAJOR", ABI_MAJOR.to_string()),
        ("SAMPLER_ABI_MINOR", ABI_MINOR.to_string()),
        ("SAMPLER_STATUS_OK", STATUS_OK.to_string()),
        ("SAMPLER_STATUS_ERROR", STATUS_ERROR.to_string()),
        ("SAMPLER_STATUS_PANIC", STATUS_PANIC.to_string()),
        ("SAMPLER_TEXT_CAPACITY", TEXT_CAPACITY.to_string()),
        ("SAMPLER_MAX_TEXT_LEN", MAX_TEXT_LEN.to_string()),
        ("SAMPLER_MAX_JSON_LEN", MAX_JSON_LEN.to_string()),
        ("SAMPLER_ENTRY_SYMBOL", ENTRY_SYMBOL.to_string()),
        (
            "SAMPLER_TRUNCATION_MARK",
            TRUNCATION_MARK
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    for (name, value) in constants {
        expected.push((format!("const {name}"), value));
    }
    expected
}

#[test]
fn the_c_header_matches_the_rust_abi() {
    let Some(c) = CBuild::new() else { return };
    let program = c.path("layout");
    // C99 and pedantic: the header must suit old and strict C compilers alike.
    let flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];
    c.compile(&source("layout.c"), &program, &flags);
    let output = Command::new(&program).output().unwrap();
    assert!(output.status.success());
    let printed: BTreeMap<String, String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            // "kind name value", where the value may hold spaces.
            let mut parts = line.splitn(3, ' ');
            let key = format!("{} {}", parts.next()?, parts.next()?);
            Some((key, parts.next()?.to_string()))
        })
        .collect();
    let expected = rust_layout();
    for (key, value) in &expected {
        assert_eq!(printed.get(key), Some(value), "{key}: C vs Rust");
    }
    assert_eq!(
        printed.len(),
        expected.len(),
        "layout.c prints something the Rust side does not check"
    );
}

#[test]
fn a_c_plugin_passes_the_check_and_runs_in_a_comparison() {
    let Some(c) = CBuild::new() else { return };
    let library = sequential(&c);
    let path = library.to_str().unwrap();
    let (code, stdout, stderr) = run(&["check", path]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_contains(&stdout, &["sequential: all 11 checks passed"]);

    let out = c.path("out");
    let (code, stdout, stderr) = run(&quiet_compare(&format!("random,{path}"), 1, 1, &out));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_contains(&stdout, &["sequential"]);
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_contains(&runs, &["sequential"]);
}

/// Descriptor faults of `tests/c/broken_sampler.c`: the define, the field the refusal must name,
/// and a phrase of the reason.
const LOAD_FAULTS: [(&str, &str, &str); 16] = [
    ("NULL_NAME", "field `name`", "NULL pointer with length 6"),
    ("EMPTY_NAME", "field `name`", "empty"),
    (
        "NAME_WITH_SPACE",
        "field `name`",
        "\"has space\" contains ' '",
    ),
    ("NAME_WITH_DOT", "field `name`", "\"v1.2\" contains '.'"),
    ("UNMAPPED_NAME", "field `name`", "not readable memory"),
    (
        "HUGE_VERSION",
        "field `version`",
        "exceeds the limit of 4096 bytes",
    ),
    (
        "VERSION_WITH_NEWLINE",
        "field `version`",
        "control character '\\n'",
    ),
    ("BAD_UTF8_DESCRIPTION", "field `description`", "not UTF-8"),
    (
        "HUGE_DESCRIPTION",
        "field `description`",
        "exceeds the limit",
    ),
    (
        "BAD_PARAMETERS",
        "field `parameters_json`",
        "not a JSON array",
    ),
    (
        "NULL_CREATE",
        "field `create`",
        "NULL, but the function is required",
    ),
    (
        "NULL_NEIGHBOURS_NEEDED",
        "field `neighbours_needed`",
        "NULL, but the function is required",
    ),
    (
        "NULL_EPOCH",
        "field `epoch`",
        "NULL, but the function is required",
    ),
    (
        "UNMAPPED_EPOCH",
        "field `epoch`",
        "not point into executable memory",
    ),
    (
        "UNMAPPED_DESCRIPTOR",
        "entry symbol returned",
        "not readable memory",
    ),
    (
        "DATA_ENTRY",
        "symbol is not a function",
        "executable memory",
    ),
];

/// Faults only a loader that knows the process's memory map can catch (Linux); elsewhere such a
/// pointer would crash the harness, so those libraries are not built.
fn needs_memory_map(fault: &str) -> bool {
    fault.starts_with("UNMAPPED") || fault == "DATA_ENTRY"
}

/// A folder with the sequential plugin and one library per descriptor fault (file names that
/// discovery picks up), with the fault of each library.
fn broken_folder(c: &CBuild) -> Vec<(PathBuf, &'static str, &'static str)> {
    sequential(c);
    LOAD_FAULTS
        .iter()
        .filter(|(fault, ..)| cfg!(target_os = "linux") || !needs_memory_map(fault))
        .map(|&(fault, field, reason)| {
            let path = with_fault(c, fault);
            (path.canonicalize().unwrap(), field, reason)
        })
        .collect()
}

#[test]
fn broken_c_plugins_are_listed_as_not_loaded_beside_the_good_ones() {
    let Some(c) = CBuild::new() else { return };
    let broken = broken_folder(&c);
    let dir = c.folder.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&["list", "--plugin-dir", dir]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for name in [
        "random",
        "hard",
        "curriculum",
        "progressive",
        "cluster",
        "sequential",
    ] {
        assert!(
            stdout.lines().any(|line| line.starts_with(name)),
            "{name} missing:\n{stdout}"
        );
    }
    for (path, field, reason) in &broken {
        let prefix = format!("not loaded: {}: ", path.display());
        let line = line_starting(&stdout, &prefix);
        assert_contains(line, &[field, reason]);
    }
}

#[test]
fn broken_c_plugins_in_the_plugin_path_harm_no_command() {
    let Some(c) = CBuild::new() else { return };
    let broken = broken_folder(&c);
    let with_path = |args: &[String]| {
        outcome(
            harness()
                .env("SAMPLER_PLUGIN_PATH", c.folder.path())
                .args(args),
        )
    };
    let (code, stdout, stderr) =
        with_path(&["knn", "--synthetic", "200", "--dim", "8", "--k", "5"].map(String::from));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = with_path(&["check", "sequential"].map(String::from));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let out = c.path("out");
    let (code, stdout, stderr) = with_path(&quiet_compare("random", 1, 1, &out));
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Checking a broken library by path says why, as an error (exit 2), not a signal.
    for (path, field, reason) in broken {
        let (code, stdout, stderr) = run(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{}:\n{stdout}{stderr}", path.display());
        assert_contains(&stderr, &[&path.display().to_string(), field, reason]);
    }
}

#[test]
fn only_commands_that_use_plugins_load_them() {
    let Some(c) = CBuild::new() else { return };
    let plugins = c.path("plugins");
    std::fs::create_dir(&plugins).unwrap();
    plugin(
        &c,
        "broken_sampler.c",
        &plugins,
        "spy_sampler",
        &["-DSPY_LOAD_MARKER"],
    );
    let marker = c.path("loaded");
    let code_of = |args: &[&str]| {
        harness()
            .env("SAMPLER_PLUGIN_PATH", &plugins)
            .env("SAMPLER_TEST_LOAD_MARKER", &marker)
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    let missing = c.path("missing");
    let missing = missing.to_str().unwrap();
    let untouched: [&[&str]; 6] = [
        &["--help"],
        &["compare", "--help"],
        &["knn", "--synthetic", "200", "--dim", "8", "--k", "5"],
        &["report", missing],
        &["regress", "--baseline", missing, "--current", missing],
        &["check", "--help"],
    ];
    for args in untouched {
        assert!(code_of(args).is_some(), "{args:?} ended by a signal");
        assert!(!marker.exists(), "{args:?} loaded the plugin folder");
    }
    assert_eq!(code_of(&["list"]), Some(0));
    assert!(marker.exists(), "list must load the plugin folder");
}

#[test]
fn run_time_faults_of_c_plugins_are_reported() {
    let Some(c) = CBuild::new() else { return };
    let null_state = with_fault(&c, "NULL_STATE");
    let (code, stdout, _) = run(&["check", null_state.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert_contains(&stdout, &["sampler 'broken'", "NULL state"]);

    // A message longer than the buffer, reported snprintf-style, is shown cut and marked.
    let long_error = with_fault(&c, "LONG_ERROR");
    let (code, stdout, _) = run(&["check", long_error.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    let row = line_starting(&stdout, "creates with");
    assert!(
        row.ends_with(&format!("{}{TRUNCATION_MARK}", "x".repeat(100))),
        "{row}"
    );
    assert!(row.len() < TEXT_CAPACITY + 200, "{row}");

    // Without a fault the same source is a valid plugin with a destroy function.
    let good = plugin(&c, "broken_sampler.c", c.folder.path(), "good_sampler", &[]);
    let (code, stdout, stderr) = run(&["check", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

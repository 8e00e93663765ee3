//! Isolated runs: every run of a comparison executes in a worker process, so a plugin that
//! crashes, hangs or exits fails its own run (named, with seed and epoch) and the others go on;
//! results equal in-process runs and do not depend on `--jobs`; an interrupted comparison
//! resumes to the same files as an uninterrupted one; a refused command leaves nothing behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::c_plugins::plugin;
use crate::support::{
    CBuild, assert_contains, assert_exit, harness, harness_process, outcome, quiet_compare, run,
};

/// The comparison every test here runs (or a variant of it): 2 seeds x 3 epochs.
fn compare_args(samplers: &str, out: &Path) -> Vec<String> {
    quiet_compare(samplers, 2, 3, out)
}

/// A CSV file's rows by column, without the timing columns (the only ones that may differ
/// between two runs of the same comparison).
pub(crate) fn rows_without_timing(file: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|row| {
            header
                .iter()
                .zip(row.unwrap().iter())
                .filter(|(name, _)| !name.contains("seconds") && !name.contains("overhead"))
                .map(|(name, value)| (name.clone(), value.to_string()))
                .collect()
        })
        .collect()
}

/// Asserts that two comparison folders hold the same results.
pub(crate) fn assert_same_results(expected: &Path, actual: &Path) {
    for file in ["runs.csv", "epochs.csv", "summary.csv"] {
        let (expected_rows, actual_rows) = (
            rows_without_timing(&expected.join(file)),
            rows_without_timing(&actual.join(file)),
        );
        assert!(!expected_rows.is_empty(), "{file} is empty");
        assert_eq!(expected_rows, actual_rows, "{file} differs");
    }
}

#[test]
fn worker_runs_equal_in_process_runs_at_any_jobs_setting() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("in-process");
    let mut args = compare_args("random,hard", &reference);
    args.push("--in-process".into());
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    for jobs in ["1", "3"] {
        let out = dir.path().join(format!("jobs{jobs}"));
        let mut args = compare_args("random,hard", &out);
        args.extend(["--jobs".to_string(), jobs.to_string()]);
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 0, "{stderr}");
        assert_same_results(&reference, &out);
        assert!(out.join("plan.json").is_file());
    }
}

/// Builds the C sequential plugin with misbehaviour `defines` into `folder`.
fn misbehaving(c: &CBuild, folder: &Path, defines: &[&str]) -> PathBuf {
    let mut flags = vec!["-DMISBEHAVE"];
    flags.extend_from_slice(defines);
    plugin(
        c,
        "sequential_sampler.c",
        folder,
        "sequential_sampler",
        &flags,
    )
}

/// A C compiler and the misbehaving plugin built with `defines` in its folder (`None` without a
/// compiler).
fn misbehaving_plugin(defines: &[&str]) -> Option<(CBuild, PathBuf)> {
    let c = CBuild::new()?;
    let library = misbehaving(&c, c.folder.path(), defines);
    Some((c, library))
}

#[test]
fn a_crashing_plugin_fails_its_own_run_and_the_others_finish() {
    let Some(c) = CBuild::new() else {
        return;
    };
    let cases: [(&str, &str, &[&str], &str); 4] = [
        (
            "segv",
            "-DMISBEHAVE_SEGV",
            &[],
            "the worker process was killed by SIGSEGV (segmentation fault",
        ),
        (
            "abort",
            "-DMISBEHAVE_ABORT",
            &[],
            "the worker process was killed by SIGABRT (abort",
        ),
        (
            "exit",
            "-DMISBEHAVE_EXIT",
            &[],
            "the worker process ended in epoch 2 before writing the run's files",
        ),
        (
            "hang",
            "-DMISBEHAVE_HANG",
            &["--run-timeout", "30s"],
            "exceeded --run-timeout (30 s) in epoch 2",
        ),
    ];
    for (name, define, extra, cause) in cases {
        let folder = c.path(name);
        std::fs::create_dir(&folder).unwrap();
        let library = misbehaving(
            &c,
            &folder,
            &["-DMISBEHAVE_SEED=2", "-DMISBEHAVE_EPOCH=2", define],
        );
        let out = folder.join("out");
        let samplers = format!("random,{}", library.display());
        let mut args = compare_args(&samplers, &out);
        args.extend(extra.iter().map(|s| s.to_string()));
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 3, "{name}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("sequential_sampler.so), seed 2: {cause}")),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("continue with: harness compare --resume"),
            "{stderr}"
        );
        // Three of the four runs finished and are reported; the failure is listed with its epoch.
        assert_eq!(
            rows_without_timing(&out.join("runs.csv")).len(),
            3,
            "{name}"
        );
        let failures = rows_without_timing(&out.join("failed_runs.csv"));
        assert_eq!(failures.len(), 1, "{name}");
        assert_eq!(failures[0]["sampler"], "sequential");
        assert_eq!(
            (failures[0]["seed"].as_str(), failures[0]["epoch"].as_str()),
            ("2", "2")
        );
        assert!(
            failures[0]["reason"].contains(cause),
            "{name}: {failures:?}"
        );
        assert!(stdout.contains("sequential"), "{name}: no table\n{stdout}");
        let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(summary.contains("Failed runs"), "{name}: {summary}");
        assert!(
            !out.join("sequential-seed2").exists(),
            "{name}: partial run kept"
        );
    }
}

#[test]
fn plugin_output_on_stdout_does_not_disturb_the_worker_protocol() {
    let Some((c, library)) = misbehaving_plugin(&["-DMISBEHAVE_CHATTER"]) else {
        return;
    };
    let out = c.path("out");
    let (code, _, stderr) = run(&compare_args(&library.display().to_string(), &out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(rows_without_timing(&out.join("runs.csv")).len(), 2);
}

/// Compares random with the test plugin built with `defines` (and the `extra` arguments), which
/// must be refused (exit 2, an error containing every one of `parts`) before anything is
/// written; the plugin, or `None` without a C compiler.
fn refused_at_creation(
    defines: &[&str],
    extra: &[&str],
    parts: &[&str],
) -> Option<(CBuild, PathBuf)> {
    let (c, library) = misbehaving_plugin(defines)?;
    let out = c.path("out");
    let mut args = compare_args(&format!("random,{}", library.display()), &out);
    args.extend(extra.iter().map(|s| s.to_string()));
    assert_exit(run(&args), 2, parts);
    assert!(!out.exists(), "a refused comparison left {}", out.display());
    Some((c, library))
}

#[test]
fn a_plugin_that_crashes_when_created_is_refused_before_anything_is_written() {
    let Some((_c, library)) = refused_at_creation(
        &["-DMISBEHAVE_SEGV", "-DMISBEHAVE_IN_CREATE"],
        &[],
        &[
            "sampler 'sequential'",
            "crashed while being created",
            "SIGSEGV",
        ],
    ) else {
        return;
    };
    // `check` prints its table with the crash as a failed row.
    let (code, stdout, _) = run(&["check", library.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("suite runs to the end"), "{stdout}");
    assert!(stdout.contains("killed by SIGSEGV"), "{stdout}");
}

#[test]
fn a_plugin_that_hangs_when_created_is_stopped_and_refused() {
    refused_at_creation(
        &["-DMISBEHAVE_HANG", "-DMISBEHAVE_IN_CREATE"],
        &["--run-timeout", "3s"],
        &["creating the sampler took longer than 3 s and was stopped"],
    );
}

#[test]
fn a_check_that_hangs_is_stopped_at_its_timeout() {
    let Some((_c, library)) = misbehaving_plugin(&["-DMISBEHAVE_HANG", "-DMISBEHAVE_EPOCH=3"])
    else {
        return;
    };
    let (code, stdout, _) = run(&["check", library.to_str().unwrap(), "--timeout", "3s"]);
    assert_eq!(code, 1, "{stdout}");
    // The checks before the hang are kept.
    assert_contains(&stdout, &["did not finish within --timeout 3 s", "PASS"]);
}

#[test]
fn refused_comparisons_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: [(&str, &[&str], &str); 3] = [
        ("random,hard", &["--batch-size", "5000"], "batch"),
        ("random,nosuchsampler", &[], "nosuchsampler"),
        ("random,hard", &["--set", "hard.hard_ratio=7"], "hard_ratio"),
    ];
    for (samplers, extra, expected) in cases {
        let mut args = compare_args(samplers, &out);
        args.extend(extra.iter().map(|s| s.to_string()));
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left {}", out.display());
    }
}

/// Starts a comparison, waits until its first run is in `runs.csv`, stops the harness with
/// `signal`, and returns its exit code.
fn interrupt_after_first_run(out: &Path, signal: nix::sys::signal::Signal) -> Option<i32> {
    let mut child = harness_process()
        .args(compare_args("random,hard", out))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let runs = out.join("runs.csv");
    while !std::fs::read_to_string(&runs).is_ok_and(|text| text.lines().count() > 1) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the first run never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, signal).unwrap();
    let status = child.wait().unwrap();
    status.code()
}

#[test]
fn an_interrupted_comparison_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("uninterrupted");
    let (code, _, stderr) = run(&compare_args("random,hard", &reference));
    assert_eq!(code, 0, "{stderr}");
    for signal in [
        nix::sys::signal::Signal::SIGINT,
        nix::sys::signal::Signal::SIGKILL,
    ] {
        let out = dir.path().join(signal.as_str());
        let code = interrupt_after_first_run(&out, signal);
        match signal {
            nix::sys::signal::Signal::SIGINT => assert_eq!(code, Some(130)),
            _ => assert_eq!(code, None),
        }
        // What finished is reported already.
        let finished = rows_without_timing(&out.join("runs.csv")).len();
        assert!((1..4).contains(&finished), "{finished} runs after {signal}");
        if signal == nix::sys::signal::Signal::SIGINT {
            // Stopped cleanly, the harness leaves the reports current (SIGKILL may hit between
            // the tables and the reports; --resume completes them).
            let summary = rows_without_timing(&out.join("summary.csv"));
            assert!(!summary.is_empty(), "no summary after {signal}");
        }
        // A worker left by SIGKILL dies with the harness; give it a moment.
        std::thread::sleep(Duration::from_millis(500));
        let resume = ["compare", "--resume", out.to_str().unwrap(), "--quiet"];
        let (code, stdout, stderr) = outcome(harness().args(resume));
        assert_eq!(code, 0, "{signal}: {stdout}{stderr}");
        assert_same_results(&reference, &out);
    }
}

#[test]
fn resume_refuses_other_settings_and_folders_without_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = compare_args("random", &out);
    let seeds = args.iter().position(|a| a == "--seeds").unwrap();
    args[seeds + 1] = "1".into();
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    let folder = out.to_str().unwrap();
    assert_exit(
        run(&["compare", "--resume", folder, "--epochs", "5"]),
        2,
        &["--epochs 5 given without --samplers"],
    );
    assert_exit(
        run(&[
            "compare",
            "--resume",
            folder,
            "--samplers",
            "random",
            "--seeds",
            "1",
            "--epochs",
            "4",
        ]),
        2,
        &["--epochs (4 here, 3 in the plan)"],
    );
    // Nothing left to do: the finished run is kept as it is.
    let (code, _, stderr) = run(&["compare", "--resume", folder, "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_exit(
        run(&["compare", "--resume", empty.to_str().unwrap()]),
        2,
        &["no plan here"],
    );
}

#[test]
fn a_library_that_crashes_when_loaded_is_listed_as_not_loaded_and_harms_no_command() {
    let Some(c) = CBuild::new() else {
        return;
    };
    // The crashing library, a second one that aborts, and a good plugin after them.
    let plugins = c.path("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let [crashing, aborting] = [
        ("a_crashing_sampler", "SEGV"),
        ("b_aborting_sampler", "ABORT"),
    ]
    .map(|(stem, kind)| {
        let fault = format!("-DMISBEHAVE_{kind}");
        let defines = ["-DMISBEHAVE", fault.as_str(), "-DMISBEHAVE_ON_LOAD"];
        plugin(&c, "sequential_sampler.c", &plugins, stem, &defines)
    });
    plugin(
        &c,
        "sequential_sampler.c",
        &plugins,
        "sequential_sampler",
        &[],
    );
    let dir = plugins.to_str().unwrap();

    let (code, stdout, stderr) = run(&["list", "--plugin-dir", dir]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.lines().any(|line| line.starts_with("sequential")),
        "{stdout}"
    );
    for (library, signal) in [(&crashing, "SIGSEGV"), (&aborting, "SIGABRT")] {
        let line = format!(
            "not loaded: {}: loading it crashed a separate process, so the harness did not load it: the process was killed by {signal}",
            library.canonicalize().unwrap().display()
        );
        assert!(stdout.contains(&line), "{line} missing:\n{stdout}");
    }

    // A comparison with the good plugin of that folder runs; the crashing one by path is refused.
    let out = c.path("out");
    let mut args = quiet_compare("random,sequential", 1, 1, &out);
    args.extend(["--plugin-dir".to_string(), dir.to_string()]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, _, stderr) = run(&["check", crashing.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert_contains(
        &stderr,
        &["loading it crashed a separate process", "SIGSEGV"],
    );
}

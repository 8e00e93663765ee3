//! The binary's commands as a user runs them.

use crate::support::{assert_contains, assert_exit, build_dir, library, line_starting, run};

/// Runs `harness check` on the faulty test plugin with the JSON `config` ("{}": no fault) and
/// returns (exit code, stdout, stderr).
fn check_faulty(config: &str) -> (i32, String, String) {
    let path = library("faulty_plugin");
    run(&["check", path.to_str().unwrap(), "--config", config])
}

#[test]
fn list_shows_the_built_in_samplers_with_defaults() {
    let (code, stdout, _) = run(&["list"]);
    assert_eq!(code, 0);
    let build = build_dir().canonicalize().unwrap();
    let listing = stdout.replace(build.to_str().unwrap(), "[build]");
    for line in listing.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    insta::assert_snapshot!(listing);
}

#[test]
fn every_built_in_sampler_passes_the_conformance_suite() {
    for name in ["random", "hard", "curriculum", "progressive", "cluster"] {
        let (code, stdout, stderr) = run(&["check", name]);
        assert_eq!(code, 0, "{name}:\n{stdout}{stderr}");
        assert!(stdout.contains("checks passed"), "{stdout}");
    }
    // With false-negative control, a cap low enough to bite on the fixture's clusters.
    for name in ["hard", "curriculum", "progressive", "cluster"] {
        let (code, stdout, stderr) = run(&["check", name, "--config", r#"{"max_similarity":0.7}"#]);
        assert_eq!(code, 0, "{name}:\n{stdout}{stderr}");
        assert!(
            stdout.contains("false-negative cap") && stdout.contains("with max_similarity 0.7:"),
            "{stdout}"
        );
    }
}

#[test]
fn check_reports_failures_in_a_table_and_exits_non_zero() {
    let (code, stdout, _) = check_faulty(r#"{"fault":"duplicate"}"#);
    assert_eq!(code, 1, "{stdout}");
    assert_contains(&stdout, &["FAIL", "appears in batch"]);
    let (code, stdout, _) = check_faulty(r#"{"fault":"panic_on_epoch"}"#);
    assert_eq!(code, 1, "{stdout}");
    assert_contains(&stdout, &["panicked: deliberate panic in epoch"]);
    // Batches in index order put cluster mates (cosine about 0.8) beside each batch's first item.
    let (code, stdout, _) = check_faulty(r#"{"fault":"ignores_cap"}"#);
    assert_eq!(code, 1, "{stdout}");
    let row = stdout
        .lines()
        .find(|line| line.starts_with("false-negative cap"))
        .unwrap_or_else(|| panic!("no cap row:\n{stdout}"));
    assert!(
        row.contains("FAIL") && row.contains("hold an item at cosine >= 0.5"),
        "{row}"
    );
}

#[test]
fn check_reports_a_plugin_that_starts_failing_mid_run_in_its_table() {
    // 75 calls in the batch-validity checks, 3 + 1 for determinism and seed, then the
    // hard-share run: its second epoch is call 81.
    for (fault, expected) in [
        ("error_on_epoch", "deliberate failure in epoch"),
        ("panic_on_epoch", "panicked: deliberate panic in epoch"),
    ] {
        let config = format!(r#"{{"fault":"{fault}","after":80}}"#);
        let (code, stdout, stderr) = check_faulty(&config);
        assert_eq!(code, 1, "{fault}:\n{stdout}{stderr}");
        let row = line_starting(&stdout, "realised hard share");
        let failure = "seed 1: epoch 2: `epoch` call 81 failed";
        assert_contains(row, &["FAIL", failure, expected]);
        assert_contains(&stdout, &["checks FAILED"]);
    }
    // Failing inside the determinism run still prints the table.
    let (code, stdout, _) = check_faulty(r#"{"fault":"error_on_epoch","after":76}"#);
    assert_eq!(code, 1, "{stdout}");
    assert_contains(
        &stdout,
        &["seed 1: epoch 2: `epoch` call 77 failed: deliberate failure in epoch"],
    );
}

#[test]
fn check_flags_a_sampler_that_ignores_seed_and_epoch() {
    let (code, stdout, _) = check_faulty("{}");
    // The fixture without a fault puts items in index order: valid batches, but the same for
    // every seed and epoch, which the suite must flag.
    assert_eq!(code, 1, "{stdout}");
    assert_contains(&stdout, &["seeds 1 and 2 give identical batches"]);
}

#[test]
fn unknown_sampler_names_list_the_known_ones() {
    assert_exit(
        run(&["check", "hardd"]),
        2,
        &["no sampler named 'hardd'", "hard, progressive, random"],
    );
}

#[test]
fn selftest_passes_and_shows_dominant_clusters() {
    let (code, stdout, stderr) = run(&["selftest"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("batch 1:") && stdout.contains("selftest passed"),
        "{stdout}"
    );
}

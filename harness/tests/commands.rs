//! The binary's commands as a user runs them.

use crate::support::{library, run};

#[test]
fn list_shows_the_built_in_samplers_with_defaults() {
    let (code, stdout, _) = run(&["list"]);
    assert_eq!(code, 0);
    let table: String = stdout
        .lines()
        .take_while(|line| !line.contains(": /"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(table);
}

#[test]
fn every_built_in_sampler_passes_the_conformance_suite() {
    for name in ["random", "hard", "curriculum", "progressive"] {
        let (code, stdout, stderr) = run(&["check", name]);
        assert_eq!(code, 0, "{name}:\n{stdout}{stderr}");
        assert!(stdout.contains("checks passed"), "{stdout}");
    }
}

#[test]
fn check_reports_failures_in_a_table_and_exits_non_zero() {
    let path = library("faulty_plugin");
    let (code, stdout, _) = run(&[
        "check",
        path.to_str().unwrap(),
        "--config",
        r#"{"fault":"duplicate"}"#,
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("appears in batch"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&[
        "check",
        path.to_str().unwrap(),
        "--config",
        r#"{"fault":"panic_on_epoch"}"#,
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("panicked: deliberate panic in epoch"),
        "{stdout}"
    );
}

#[test]
fn check_flags_a_sampler_that_ignores_seed_and_epoch() {
    let path = library("faulty_plugin");
    let (code, stdout, _) = run(&["check", path.to_str().unwrap()]);
    // The fixture without a fault puts items in index order: valid batches, but the same for
    // every seed and epoch, which the suite must flag.
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("seeds 1 and 2 give identical batches"),
        "{stdout}"
    );
}

#[test]
fn unknown_sampler_names_list_the_known_ones() {
    let (code, _, stderr) = run(&["check", "hardd"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no sampler named 'hardd'") && stderr.contains("hard, progressive, random"),
        "{stderr}"
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

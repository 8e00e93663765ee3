//! The regression gate against the committed synthetic baseline.

use std::path::{Path, PathBuf};

use crate::support::{assert_contains, quiet_compare, run};

fn baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/baseline/synthetic.csv")
}

/// A comparison of `samplers` for `epochs` on the gate's seeds, with extra flags.
fn compare(out: &Path, samplers: &str, epochs: u32, extra: &[&str]) {
    let mut args = quiet_compare(samplers, 3, epochs, out);
    args.extend(extra.iter().map(|arg| arg.to_string()));
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// The gate's comparison (see reports/baseline/synthetic.toml), with extra flags.
fn gate_compare(out: &Path, extra: &[&str]) {
    let mut extra = extra.to_vec();
    extra.extend(["--jobs", "2"]);
    compare(out, "random,hard,ance", 20, &extra);
}

fn regress(current: &Path) -> (i32, String, String) {
    run(&[
        "regress",
        "--baseline",
        baseline().to_str().unwrap(),
        "--current",
        current.to_str().unwrap(),
    ])
}

#[test]
fn the_committed_baseline_passes_and_a_weakened_sampler_fails() {
    let folder = tempfile::tempdir().unwrap();
    let honest = folder.path().join("honest");
    gate_compare(&honest, &[]);
    let (code, stdout, stderr) = regress(&honest);
    assert_eq!(
        code, 0,
        "the committed baseline is stale or the gain is gone:\n{stdout}{stderr}"
    );
    assert_contains(&stdout, &["no regression"]);

    // hard_ratio 0 turns `hard` into random batching: its gain must be reported lost.
    let weakened = folder.path().join("weakened");
    gate_compare(&weakened, &["--set", "hard.hard_ratio=0"]);
    let (code, stdout, _) = regress(&weakened);
    assert_eq!(code, 1, "{stdout}");
    assert_contains(
        &stdout,
        &[
            "hard    | text_to_item_mrr",
            "REGRESSION",
            "expectation failed: hard beats random on text_to_item_mrr",
        ],
    );
}

#[test]
fn incomparable_or_incomplete_summaries_are_errors() {
    let folder = tempfile::tempdir().unwrap();
    let other = folder.path().join("other");
    compare(&other, "random,curriculum", 2, &[]);
    let shorter = folder.path().join("shorter");
    compare(&shorter, "random,hard,ance", 2, &[]);
    for (current, refusal) in [
        (&other, "is in the baseline"),
        (
            &shorter,
            "not comparable: epochs is 20 in the baseline but 2",
        ),
    ] {
        let (code, _, stderr) = regress(current);
        assert_eq!(code, 2, "{stderr}");
        assert_contains(&stderr, &[refusal]);
    }

    // --update rewrites a baseline on purpose and shows old and new values.
    let copy = folder.path().join("synthetic.csv");
    std::fs::copy(baseline(), &copy).unwrap();
    std::fs::copy(
        baseline().with_extension("toml"),
        copy.with_extension("toml"),
    )
    .unwrap();
    let (code, stdout, _) = run(&[
        "regress",
        "--baseline",
        copy.to_str().unwrap(),
        "--current",
        shorter.to_str().unwrap(),
        "--update",
        "--all",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert_contains(&stdout, &["Old", "updated from"]);
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(shorter.join("summary.csv")).unwrap()
    );
}

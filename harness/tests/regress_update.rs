//! `harness regress --update`: only the named samplers' baseline rows change, or every row with
//! an explicit `--all`, and each changed value is shown.

use std::path::{Path, PathBuf};

use crate::support::{assert_exit, quiet_compare, run};

/// A quick comparison of random and hard into `out`, with extra flags.
fn compare(out: &Path, extra: &[&str]) {
    let mut args = quiet_compare("random,hard", 1, 1, out);
    args.extend(extra.iter().map(|s| s.to_string()));
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// Two comparisons in `folder`: `first`, and `weakened` with hard's hard_ratio at 0 (so that
/// hard's rows differ from `first`'s).
fn first_and_weakened(folder: &Path) -> [PathBuf; 2] {
    let (first, weakened) = (folder.join("first"), folder.join("weakened"));
    compare(&first, &[]);
    compare(&weakened, &["--set", "hard.hard_ratio=0"]);
    [first, weakened]
}

/// A baseline path in `folder` whose rules check text->item MRR with no tolerance.
fn baseline_in(folder: &Path) -> PathBuf {
    let baseline = folder.join("baseline.csv");
    std::fs::write(
        baseline.with_extension("toml"),
        "metrics = [\"text_to_item_mrr\"]\n[tolerance]\nabsolute = 0.0\n",
    )
    .unwrap();
    baseline
}

fn regress(baseline: &Path, current: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "regress",
        "--baseline",
        baseline.to_str().unwrap(),
        "--current",
        current.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The CSV line of `sampler` in a summary file.
fn row(path: &Path, sampler: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find(|line| line.starts_with(&format!("{sampler},")))
        .unwrap_or_else(|| panic!("no {sampler} in {}:\n{text}", path.display()))
        .to_string()
}

/// The old and new value of one row of the update's table.
fn change(stdout: &str, sampler: &str, value: &str) -> [String; 2] {
    let cells: Vec<String> = stdout
        .lines()
        .map(|line| {
            line.split('|')
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .find(|cells: &Vec<String>| cells.len() == 4 && cells[0] == sampler && cells[1] == value)
        .unwrap_or_else(|| panic!("no {sampler} {value} row:\n{stdout}"));
    [cells[2].clone(), cells[3].clone()]
}

#[test]
fn update_replaces_only_the_named_samplers_rows() {
    let folder = tempfile::tempdir().unwrap();
    let [first, weakened] = first_and_weakened(folder.path());
    let baseline = baseline_in(folder.path());

    assert_exit(
        regress(&baseline, &first, &["--update"]),
        2,
        &["<--samplers <LIST>|--all>"],
    );
    assert!(!baseline.exists(), "nothing written without a choice");

    let (code, stdout, stderr) = regress(&baseline, &first, &["--update", "--all"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("every row replaced"), "{stdout}");
    assert_eq!(
        std::fs::read(&baseline).unwrap(),
        std::fs::read(first.join("summary.csv")).unwrap()
    );

    let (code, stdout, stderr) = regress(&baseline, &weakened, &["--update", "--samplers", "hard"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        change(&stdout, "hard", "sampler_config"),
        ["{}", r#"{"hard_ratio":0}"#],
        "{stdout}"
    );
    let [old, new] = change(&stdout, "hard", "text_to_item_mrr");
    assert_ne!(old, new, "the checked metric, old -> new:\n{stdout}");
    assert!(
        !stdout.contains("random  |"),
        "random is not named:\n{stdout}"
    );
    assert!(
        stdout.contains("kept as they were: random (not named in --samplers)")
            && stdout.contains("rows of hard replaced"),
        "{stdout}"
    );
    let summary = |folder: &Path| folder.join("summary.csv");
    assert_eq!(row(&baseline, "random"), row(&summary(&first), "random"));
    assert_eq!(row(&baseline, "hard"), row(&summary(&weakened), "hard"));
    assert_ne!(row(&baseline, "hard"), row(&summary(&first), "hard"));

    assert_exit(
        regress(&baseline, &weakened, &["--update", "--samplers", "hardd"]),
        2,
        &[
            "--samplers names 'hardd', which the current summary",
            "(it has hard, random)",
        ],
    );
}

#[test]
fn update_refuses_to_mix_rows_of_incomparable_runs() {
    let folder = tempfile::tempdir().unwrap();
    let (short, longer) = (folder.path().join("short"), folder.path().join("longer"));
    compare(&short, &[]);
    let mut args = quiet_compare("random,hard", 1, 1, &longer);
    let epochs = args.iter().position(|a| a == "--epochs").unwrap();
    args[epochs + 1] = "2".to_string();
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let baseline = baseline_in(folder.path());
    assert_eq!(regress(&baseline, &short, &["--update", "--all"]).0, 0);
    let before = std::fs::read(&baseline).unwrap();
    assert_exit(
        regress(&baseline, &longer, &["--update", "--samplers", "hard"]),
        2,
        &[
            "not comparable: epochs is 1 in the baseline rows kept but 2",
            "--update --all",
        ],
    );
    assert_eq!(
        std::fs::read(&baseline).unwrap(),
        before,
        "baseline untouched"
    );
}

#[test]
fn regression_messages_suggest_updating_only_the_samplers_concerned() {
    let folder = tempfile::tempdir().unwrap();
    let [first, weakened] = first_and_weakened(folder.path());
    let baseline = baseline_in(folder.path());

    // A baseline without hard: the error says how to add only its row.
    assert_eq!(
        regress(&baseline, &first, &["--update", "--samplers", "random"]).0,
        0
    );
    assert_exit(
        regress(&baseline, &first, &[]),
        2,
        &["add only its row with --update --samplers hard"],
    );

    // With no tolerance, hard's MRR drops one way or the other between the two runs (random's
    // runs are identical): the failure names hard alone in its --update hint.
    assert_eq!(regress(&baseline, &first, &["--update", "--all"]).0, 0);
    let (mut code, mut stdout, _) = regress(&baseline, &weakened, &[]);
    if code == 0 {
        assert_eq!(regress(&baseline, &weakened, &["--update", "--all"]).0, 0);
        (code, stdout, _) = regress(&baseline, &first, &[]);
    }
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("REGRESSION") && stdout.contains("--update --samplers hard ("),
        "{stdout}"
    );
}

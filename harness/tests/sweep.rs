//! `harness sweep` end to end on a small synthetic grid, and its refusals.

use std::path::Path;

use crate::support::{assert_exit, run};

/// A quiet two-seed, two-epoch sweep of `hard` over `grid` into `out`: (exit code, stdout, stderr).
fn sweep(out: &Path, grid: &[&str], extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "sweep",
        "--sampler",
        "hard",
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    for axis in grid {
        args.extend(["--grid", axis]);
    }
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_sweep_compares_every_cell_with_random_and_writes_its_reports() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("sweep");
    let (code, stdout, stderr) = sweep(&out, &["hard_ratio=0.3,0.7"], &["--jobs", "2"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mut reader = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    insta::assert_snapshot!("sweep_csv_header", header.join("\n"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((&rows[0][0], &rows[0][1]), ("0.3", "hard[hard_ratio:0.3]"));
    assert_eq!((&rows[1][0], &rows[1][1]), ("0.7", "hard[hard_ratio:0.7]"));
    for row in &rows {
        assert_eq!(&row[2], "2", "two seeds");
        assert!(row[3].parse::<f64>().unwrap() > 0.0, "an MRR mean");
    }
    let svg = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    assert!(svg.contains("by hard_ratio") && svg.contains("<polyline"));
    // The cells ran as labelled samplers of a comparison, with their values.
    let plan = std::fs::read_to_string(out.join("plan.json")).unwrap();
    assert!(
        plan.contains(r#""config": "{\"hard_ratio\":0.7}""#),
        "{plan}"
    );
    assert!(out.join("hard[hard_ratio:0.3]-seed2/run.csv").is_file());
    // The terminal table, with numbers and their signs masked: they may differ across CPUs.
    let masked: String = stdout
        .lines()
        .filter(|line| !line.starts_with("reports:"))
        .map(|line| {
            let digits: String = line
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            digits.replace("+#", "~#").replace("-#", "~#") + "\n"
        })
        .collect();
    insta::assert_snapshot!("sweep_table", masked);

    // Resuming a finished sweep runs nothing and rewrites its reports.
    std::fs::remove_file(out.join("sweep.csv")).unwrap();
    let (code, _, stderr) = run(&["sweep", "--resume", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        csv::Reader::from_path(out.join("sweep.csv"))
            .unwrap()
            .records()
            .count(),
        2
    );
    // The same flags again are accepted; another grid is not.
    let again = [
        "--grid",
        "hard_ratio=0.3,0.7",
        "--seeds",
        "2",
        "--epochs",
        "2",
    ];
    let resume = |grid: &[&str]| {
        let mut args = vec![
            "sweep",
            "--sampler",
            "hard",
            "--resume",
            out.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(grid);
        run(&args)
    };
    assert_eq!(resume(&again).0, 0);
    let other_grid = [
        "--grid",
        "hard_ratio=0.3,0.5",
        "--seeds",
        "2",
        "--epochs",
        "2",
    ];
    assert_exit(resume(&other_grid), 2, &["other settings"]);
}

#[test]
fn bad_sweeps_are_refused_before_any_run_naming_the_problem() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("never");
    for (grid, extra, expected) in [
        (&["nope=1,2"][..], &[][..], "nope"),
        (
            &["hard_ratio=0.3", "hard_ratio=0.7"],
            &[],
            "'hard_ratio' has two --grid flags",
        ),
        (&["hard_ratio="], &[], "an empty value"),
        (
            &["hard_ratio=0.3"],
            &["--set", "hard.hard_ratio=0.5"],
            "is swept by --grid",
        ),
        (
            &["hard_ratio=0.3"],
            &["--samplers", "random,hard"],
            "--samplers does not apply",
        ),
    ] {
        assert_exit(sweep(&out, grid, extra), 2, &[expected]);
        assert!(!out.exists(), "nothing written for {grid:?} {extra:?}");
    }
    let baseline = ["sweep", "--sampler", "random", "--grid", "x=1", "--quiet"];
    assert_exit(run(&baseline), 2, &["random is the baseline"]);
    let no_grid = ["sweep", "--sampler", "hard", "--quiet"];
    assert_exit(run(&no_grid), 2, &["--grid is required"]);
}

#[test]
fn a_planned_sweep_runs_anywhere_and_its_report_writes_the_sweep_files() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("planned");
    let (code, stdout, stderr) = sweep(&out, &["hard_ratio=0.3,0.7"], &["--plan-only"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(out.join("plan.json").is_file() && !out.join("sweep.csv").exists());
    let plan = out.to_str().unwrap();
    let (code, _, stderr) = run(&["run", "--plan", plan, "--all", "--jobs", "2", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&["report", plan]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Sweep of hard"), "{stdout}");
    let rows = csv::Reader::from_path(out.join("sweep.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(rows, 2);
    assert!(out.join("sweep.svg").is_file());
}

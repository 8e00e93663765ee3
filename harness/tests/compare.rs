//! `harness compare` end to end on a small configuration of the synthetic task.

use std::collections::BTreeMap;
use std::path::Path;

use harness::report::schema::{
    Direction, FALSE_NEGATIVE_COSINE, FALSE_NEGATIVE_SHARE, MetricColumn, PairedStat, SeedStat,
    Timing,
};

use crate::support::{harness, line_starting, quiet_compare, run};

/// Runs a short comparison into `out` and returns the exit code and stderr.
fn compare(out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = quiet_compare("random,curriculum", 2, 2, out);
    let switch = ["--set", "curriculum.curriculum_epoch=1"];
    args.extend(switch.iter().chain(extra).map(|arg| arg.to_string()));
    let (code, _, stderr) = run(&args);
    (code, stderr)
}

/// A CSV file as header + rows, with timing columns removed.
fn without_timings(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !Timing::is_timing(&header[i]))
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            keep.iter().map(|&i| record[i].to_string()).collect()
        })
        .collect();
    (keep.iter().map(|&i| header[i].clone()).collect(), rows)
}

#[test]
fn the_same_command_gives_the_same_reports_apart_from_timings() {
    let folder = tempfile::tempdir().unwrap();
    let (first, second) = (folder.path().join("first"), folder.path().join("second"));
    assert_eq!(compare(&first, &[]).0, 0);
    assert_eq!(compare(&second, &[]).0, 0);
    for file in ["runs.csv", "epochs.csv", "summary.csv"] {
        let (a, b) = (
            without_timings(&first.join(file)),
            without_timings(&second.join(file)),
        );
        assert!(!a.1.is_empty(), "{file} has rows");
        assert_eq!(a, b, "{file} differs between identical runs");
    }
    let log = std::fs::read_to_string(first.join("random-seed2/training_logs.json")).unwrap();
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(log["config"]["seed"], 2);
    assert_eq!(log["epochs"].as_array().unwrap().len(), 2);
}

#[test]
fn reports_have_the_documented_columns_and_record_the_switch() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    assert_eq!(compare(&out, &[]).0, 0);
    let headers: BTreeMap<&str, String> = ["runs.csv", "epochs.csv", "summary.csv"]
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            (file, text.lines().next().unwrap().replace(',', "\n"))
        })
        .collect();
    insta::assert_snapshot!("runs_csv_header", headers["runs.csv"]);
    insta::assert_snapshot!("epochs_csv_header", headers["epochs.csv"]);
    insta::assert_snapshot!("summary_csv_header", headers["summary.csv"]);

    let (header, rows) = without_timings(&out.join("epochs.csv"));
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let stages: Vec<(&str, &str, &str)> = rows
        .iter()
        .filter(|row| row[column("seed")] == "1")
        .map(|row| {
            (
                row[column("sampler")].as_str(),
                row[column("epoch")].as_str(),
                row[column("stage")].as_str(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("random", "1", "random"),
            ("random", "2", "random"),
            ("curriculum", "1", "random (warm-up)"),
            ("curriculum", "2", "hard")
        ]
    );
}

#[test]
fn a_bad_output_folder_fails_before_training_and_keeps_existing_files() {
    let folder = tempfile::tempdir().unwrap();
    let precious = folder.path().join("precious.csv");
    std::fs::write(&precious, "keep me").unwrap();
    let (code, stderr) = compare(folder.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    let (code, stderr) = compare(&precious.join("sub"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--out"), "{stderr}");
    // Both refusals come before anything is written.
    let entries: Vec<_> = std::fs::read_dir(folder.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
}

#[test]
fn bad_flags_and_settings_are_named() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("x");
    let cases: [(&[&str], &str); 7] = [
        (&["--temp", "0"], "--temp"),
        (
            &["--lr", "-1"],
            "invalid protocol setting --lr: must be a positive number",
        ),
        (&["--batch-size", "1"], "--batch-size"),
        (
            &["--set", "hard.hard_ratio=2"],
            "names sampler 'hard', which is not in the list",
        ),
        (&["--set", "curriculum.hard_ratio=2"], "hard_ratio"),
        (
            &["--device", "tpu"],
            "--device <DEVICE>': expected cpu, cuda or cuda:N",
        ),
        (
            &["--set", "curriculum.curriculum_epoch=2"],
            "--set curriculum.curriculum_epoch is given twice (1 and 2)",
        ),
    ];
    for (extra, expected) in cases {
        let (code, stderr) = compare(&out, extra);
        assert_eq!(code, 2, "{extra:?}");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
    }
    let (code, _, stderr) = run(&[
        "compare",
        "--samplers",
        "random,random",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("listed twice"), "{stderr}");
}

#[test]
fn chebi20_without_a_folder_points_at_the_shared_copy_when_there_is_one() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = harness()
        .current_dir(&repo)
        .args(["compare", "--samplers", "random", "--dataset", "chebi20"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("needs --data-dir DIR"), "{stderr}");
    let shared_exists = repo.join("../shared/data/chebi20/train.tsv").is_file();
    assert_eq!(
        stderr.contains("--data-dir ../shared/data/chebi20"),
        shared_exists,
        "{stderr}"
    );
}

/// Runs `harness compare --samplers random,hard` with `seeds` seeds of one epoch into `out` and
/// returns stdout.
fn compare_random_hard(out: &Path, seeds: u32) -> String {
    let (code, stdout, stderr) = run(&quiet_compare("random,hard", seeds, 1, out));
    assert_eq!(code, 0, "{stderr}");
    stdout
}

/// The value of `column` in the row of `sampler` of a CSV file.
fn cell(path: &Path, sampler: &str, column: &str) -> String {
    let (header, rows) = without_timings(path);
    let index = header.iter().position(|h| h == column).unwrap();
    let label = header.iter().position(|h| h == "sampler").unwrap();
    rows.iter()
        .find(|row| row[label] == sampler)
        .unwrap_or_else(|| panic!("{sampler} in {}", path.display()))[index]
        .clone()
}

#[test]
fn two_seeds_claim_no_significance_anywhere() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    let stdout = compare_random_hard(&out, 2);
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for text in [&stdout, &markdown] {
        assert!(!text.contains('*'), "{text}");
        assert!(!text.contains("significant"), "{text}");
        assert!(
            text.contains("fewer than 3 paired seeds: no significance claimed"),
            "{text}"
        );
    }
    let summary = out.join("summary.csv");
    for direction in Direction::ALL {
        let significant = PairedStat::Significant.column(*direction);
        assert_eq!(cell(&summary, "hard", &significant), "false");
        assert_eq!(cell(&summary, "random", &significant), "");
    }
    // Nearest-neighbour batches hold several times random's near-duplicate pairs (about 0.08
    // against 0.02 on the synthetic task, whose same-topic descriptions lie at cosine >= 0.95).
    let false_negatives = |sampler: &str| {
        let share = cell(
            &summary,
            sampler,
            &SeedStat::Mean.column(FALSE_NEGATIVE_SHARE),
        );
        share.parse::<f64>().unwrap()
    };
    assert!(
        false_negatives("random") > 0.0
            && false_negatives("hard") > 3.0 * false_negatives("random"),
        "hard {} random {}",
        false_negatives("hard"),
        false_negatives("random")
    );
    assert_eq!(cell(&summary, "hard", FALSE_NEGATIVE_COSINE), "0.95");
    let difference = std::fs::read_to_string(out.join("paired_difference.svg")).unwrap();
    assert!(difference.contains("hard †") && !difference.contains('*'));
    for section in [
        "## Item->text retrieval",
        "## Paired differences against random",
        "| hard | item->text | 1, 2 |",
        "- hard: plugin hard 1.1.0; settings: the plugin's defaults; seeds 1, 2; realised hard share 0.",
        "; false-negative share 0.0",
        " (of in-batch pairs, at description cosine >= 0.95)\n",
    ] {
        assert!(markdown.contains(section), "{section}: {markdown}");
    }
}

#[test]
fn one_seed_plots_claim_no_ci_and_start_at_zero() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    compare_random_hard(&out, 1);
    for plot in ["final_mrr.svg", "mrr_by_epoch.svg"] {
        let svg = std::fs::read_to_string(out.join(plot)).unwrap();
        assert!(!svg.contains("95% CI"), "{plot}: {svg}");
        assert!(svg.contains("no CI"), "{plot}");
        assert!(
            svg.contains(r#"text-anchor="end">0</text>"#),
            "{plot}: a tick at 0"
        );
    }
    let difference = std::fs::read_to_string(out.join("paired_difference.svg")).unwrap();
    assert!(difference.contains("stroke-dasharray"), "a zero line");
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("paired_difference.svg"));
}

#[test]
fn gains_use_only_the_seeds_both_samplers_finished() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    compare_random_hard(&out, 3);
    // As if the comparison had been interrupted during hard's third seed: its run folder is
    // gone, and `report` rebuilds the tables from the finished runs.
    std::fs::remove_dir_all(out.join("hard-seed3")).unwrap();
    let runs = out.join("runs.csv");
    let (code, stdout, stderr) = run(&["report", out.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("hard seed 3"), "{stderr}");
    assert!(
        stdout.contains(
            "Gain and p compare only the seeds both the sampler and the baseline finished: hard on seeds 1, 2."
        ),
        "{stdout}"
    );
    let mrr = MetricColumn::HEADLINE.to_string();
    let (header, rows) = without_timings(&runs);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mean = |sampler: &str, seeds: &[&str]| {
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| r[column("sampler")] == sampler && seeds.contains(&&*r[column("seed")]))
            .map(|r| r[column(&mrr)].parse().unwrap())
            .collect();
        values.iter().sum::<f64>() / values.len() as f64
    };
    let paired = (mean("hard", &["1", "2"]) / mean("random", &["1", "2"]) - 1.0) * 100.0;
    let mixed = (mean("hard", &["1", "2"]) / mean("random", &["1", "2", "3"]) - 1.0) * 100.0;
    assert!(
        (paired - mixed).abs() > 1e-6,
        "the seed sets must matter here"
    );
    let gain: f64 = cell(
        &out.join("summary.csv"),
        "hard",
        &SeedStat::GainPct.column(MetricColumn::HEADLINE),
    )
    .parse()
    .unwrap();
    assert!((gain - paired).abs() < 1e-9, "{gain} vs paired {paired}");
}

#[test]
fn the_epoch_log_line_ends_with_the_epoch_seconds() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    // Not quiet: the log is what this test reads.
    let mut args = quiet_compare("random", 1, 1, &out);
    args.retain(|arg| arg != "--quiet");
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    let line = line_starting(&stderr, "[random seed 1] epoch 1/1 ");
    let seconds = line
        .rsplit_once(" | ")
        .and_then(|(_, last)| last.strip_suffix(" s"))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(seconds.parse::<f64>().is_ok_and(|s| s >= 0.0), "{line}");
}

#[test]
fn ance_beats_random_on_the_synthetic_task_with_the_gates_statistics() {
    // Model-aware batches (ABI 1.1 confusion tables re-mined every epoch) against random ones,
    // 3 seeds x 10 epochs: the gain must be significant (paired test, Holm, bootstrap CI) and at
    // least 5% (measured: about +16%).
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("ance");
    let mut args = quiet_compare("random,ance", 3, 10, &out);
    args.extend(["--jobs".to_string(), "2".to_string()]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary = out.join("summary.csv");
    let direction = MetricColumn::HEADLINE.direction;
    let significant = PairedStat::Significant.column(direction);
    assert_eq!(cell(&summary, "ance", &significant), "true", "{stdout}");
    let gain: f64 = cell(
        &summary,
        "ance",
        &SeedStat::GainPct.column(MetricColumn::HEADLINE),
    )
    .parse()
    .unwrap();
    assert!(gain >= 5.0, "ance gains only {gain:.1}%:\n{stdout}");
    // The model tables were computed, and timed, after every epoch but the last.
    let (header, _) = without_timings(&out.join("epochs.csv"));
    assert!(!header.contains(&"epoch_model_neighbours_seconds".to_string()));
    let epochs = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
    assert!(
        epochs
            .lines()
            .next()
            .unwrap()
            .contains("epoch_model_neighbours_seconds")
    );
}

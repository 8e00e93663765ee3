//! `harness diff RUN_A RUN_B`: two comparison folders set against each other.

use std::path::Path;

use harness::report::runs::{RECIPROCAL_RANKS_FILE, run_folder};
use harness::report::schema::{ContextField, Direction, Metric, MetricColumn, SEED, SamplerField};

use crate::support::{assert_exit, harness, outcome, quiet_compare, run};

/// Held-out queries of the hand-made folders.
const QUERIES: u64 = 60;

/// One finished run of a hand-made comparison folder.
struct FakeRun {
    sampler: &'static str,
    seed: u64,
    /// Ranks improve by one on every `improve_every`-th query (0: never).
    improve_every: u64,
    config: &'static str,
}

fn fake(sampler: &'static str, seeds: &[u64], improve_every: u64) -> Vec<FakeRun> {
    seeds
        .iter()
        .map(|&seed| FakeRun {
            sampler,
            seed,
            improve_every,
            config: "{}",
        })
        .collect()
}

/// The reciprocal ranks of a run in one direction: a fixed pseudo-random rank per (seed,
/// query), one better on the improved queries.
fn reciprocal_ranks(run: &FakeRun, direction: Direction) -> Vec<f64> {
    (0..QUERIES)
        .map(|query| {
            let spread = (query * 7_919 + run.seed * 104_729 + direction.index() as u64 * 31) % 9;
            let better = run.improve_every > 0 && query % run.improve_every == 0;
            let rank = 2 + spread - u64::from(better);
            1.0 / rank as f64
        })
        .collect()
}

/// Writes a comparison folder as `harness compare` lays it out: `runs.csv` (the columns `diff`
/// reads) and each run's `reciprocal_ranks.csv`.
fn write_folder(folder: &Path, runs: &[FakeRun], context: &[(ContextField, &str)]) {
    let mut header: Vec<String> = SamplerField::ALL
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    header.push(SEED.to_string());
    let mrr = |direction| MetricColumn {
        direction,
        metric: Metric::Mrr,
    };
    header.extend(Direction::ALL.iter().map(|&d| mrr(d).to_string()));
    header.extend(ContextField::ALL.iter().map(|f| f.name().to_string()));
    std::fs::create_dir_all(folder).unwrap();
    let mut table = csv::Writer::from_path(folder.join("runs.csv")).unwrap();
    table.write_record(&header).unwrap();
    for run in runs {
        let mut row: Vec<String> = SamplerField::ALL
            .iter()
            .map(|field| match field {
                SamplerField::Label | SamplerField::Plugin => run.sampler.to_string(),
                SamplerField::Version => "1.0.0".to_string(),
                SamplerField::Abi => "1.0".to_string(),
                SamplerField::Config => run.config.to_string(),
            })
            .collect();
        row.push(run.seed.to_string());
        let by_direction: Vec<Vec<f64>> = Direction::ALL
            .iter()
            .map(|&d| reciprocal_ranks(run, d))
            .collect();
        let dir = run_folder(folder, run.sampler, run.seed);
        std::fs::create_dir_all(&dir).unwrap();
        let mut ranks = csv::Writer::from_path(dir.join(RECIPROCAL_RANKS_FILE)).unwrap();
        ranks
            .write_record([
                "query",
                Direction::TextToItem.name(),
                Direction::ItemToText.name(),
            ])
            .unwrap();
        for (query, (text_to_item, item_to_text)) in
            by_direction[0].iter().zip(&by_direction[1]).enumerate()
        {
            ranks
                .write_record([
                    query.to_string(),
                    text_to_item.to_string(),
                    item_to_text.to_string(),
                ])
                .unwrap();
        }
        ranks.flush().unwrap();
        row.extend(
            by_direction
                .iter()
                .map(|values| (values.iter().sum::<f64>() / values.len() as f64).to_string()),
        );
        row.extend(ContextField::ALL.iter().map(|field| {
            context
                .iter()
                .find(|(f, _)| f == field)
                .map_or("x", |(_, value)| value)
                .to_string()
        }));
        table.write_record(&row).unwrap();
    }
    table.flush().unwrap();
}

/// `harness diff a b` of two hand-made folders `a` and `b` (run where they are, so that the
/// output names them as given) with their `runs` and `field` set to their `values`.
fn diff_of(runs: [&[FakeRun]; 2], field: ContextField, values: [&str; 2]) -> (i32, String, String) {
    let folder = tempfile::tempdir().unwrap();
    for ((name, runs), value) in ["a", "b"].into_iter().zip(runs).zip(values) {
        write_folder(&folder.path().join(name), runs, &[(field, value)]);
    }
    outcome(
        harness()
            .current_dir(folder.path())
            .args(["diff", "a", "b"]),
    )
}

#[test]
fn diff_pairs_the_shared_seeds_and_names_what_it_left_out() {
    let a: Vec<FakeRun> = [
        fake("random", &[1, 2, 3, 4], 0),
        fake("hard", &[1, 2, 3, 4], 0),
        fake("curriculum", &[1, 2, 3], 0),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut b: Vec<FakeRun> = [
        fake("random", &[1, 2, 3, 4], 0),
        fake("hard", &[1, 2, 3, 5], 4),
        fake("progressive", &[1, 2], 3),
    ]
    .into_iter()
    .flatten()
    .collect();
    for run in b.iter_mut().filter(|run| run.sampler == "hard") {
        run.config = r#"{"hard_ratio":0.7}"#;
    }
    let (code, stdout, stderr) =
        diff_of([&a, &b], ContextField::HarnessVersion, ["0.1.0", "0.2.0"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn diff_refuses_runs_on_other_held_out_data() {
    let runs = fake("random", &[1, 2, 3], 0);
    assert_exit(
        diff_of(
            [&runs, &runs],
            ContextField::DatasetFingerprint,
            ["aaaa", "bbbb"],
        ),
        2,
        &["not comparable: dataset_fingerprint is aaaa in a but bbbb in b"],
    );
}

#[test]
fn a_real_run_diffed_with_itself_differs_by_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    let (code, _, stderr) = run(&quiet_compare("random,hard", 1, 1, &out));
    assert_eq!(code, 0, "{stderr}");
    let out = out.to_str().unwrap();
    let (code, stdout, stderr) = run(&["diff", out, out]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("random ") || line.starts_with("hard "))
        .collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    for row in rows {
        assert!(
            row.contains("| +0.0000 | +0.0000 to +0.0000 | 1.0000 † | 0/1 ")
                && row.ends_with("untested †"),
            "{row}"
        );
    }
    assert!(!stdout.contains("Settings that differ") && !stdout.contains("Left out"));
}

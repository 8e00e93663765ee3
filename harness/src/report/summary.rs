//! Per-sampler summaries over seeds and paired comparisons against the baseline, as
//! `summary.csv` rows, the terminal table and the Markdown summary.

use anyhow::{Context, Result};

use super::csv_file::{Row, RowBuilder};
use super::paired::{PairedDifferences, PairedTest, holm};
use super::runs::{DIRECTIONS, RunSet, read_reciprocal_ranks};
use super::stats::Summary;
use crate::table::TextTable;

/// The final-epoch metrics summarised over seeds (`runs.csv` columns), in column order.
pub const SUMMARY_METRICS: [&str; 10] = [
    "text_to_item_mrr",
    "text_to_item_r1",
    "text_to_item_r5",
    "text_to_item_r10",
    "text_to_item_mean_rank",
    "item_to_text_mrr",
    "item_to_text_r1",
    "item_to_text_r5",
    "item_to_text_r10",
    "item_to_text_mean_rank",
];

/// Family-wise significance level of the paired tests.
pub const ALPHA: f64 = 0.05;
/// Seed of the randomisation test and bootstrap (fixed: reports are reproducible).
const TEST_SEED: u64 = 20_240_601;

/// Columns copied from the baseline's first run into every summary row, so a summary names the
/// protocol and data it came from.
const CONTEXT_COLUMNS: [&str; 5] = [
    "protocol_version",
    "dataset",
    "dataset_fingerprint",
    "epochs",
    "batch_size",
];

/// A paired comparison with its multiplicity-corrected p-value and verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub test: PairedTest,
    pub p_holm: f64,
    /// Holm-corrected p below [`ALPHA`] and a bootstrap interval that excludes zero.
    pub significant: bool,
}

/// One sampler's results over its seeds.
#[derive(Debug, Clone)]
pub struct SamplerSummary {
    pub label: String,
    pub identity: Vec<(String, String)>,
    pub is_baseline: bool,
    pub seeds: Vec<u64>,
    /// Per metric of [`SUMMARY_METRICS`]: the summary and the gain in % of the baseline's mean.
    pub metrics: Vec<(Summary, Option<f64>)>,
    /// Per direction of [`DIRECTIONS`]: the paired comparison against the baseline (none for
    /// the baseline itself).
    pub comparisons: Vec<Option<Comparison>>,
}

/// Relative change in percent; `None` when the baseline is zero.
pub fn gain_pct(value: f64, baseline: f64) -> Option<f64> {
    (baseline != 0.0).then(|| (value - baseline) / baseline * 100.0)
}

/// Summaries of every sampler of `set`, with paired tests against the baseline on the seeds
/// both share, Holm-corrected over the non-baseline samplers per direction.
pub fn summarise(set: &RunSet) -> Result<Vec<SamplerSummary>> {
    let mut summaries = Vec::new();
    for (index, label) in set.samplers.iter().enumerate() {
        let runs = set.of(label);
        let seeds = runs
            .iter()
            .map(|r| r.number("seed").map(|s| s as u64))
            .collect::<Result<Vec<u64>>>()?;
        let mut metrics = Vec::new();
        for metric in SUMMARY_METRICS {
            let values = runs
                .iter()
                .map(|r| r.number(metric))
                .collect::<Result<Vec<f64>>>()?;
            metrics.push(Summary::of(&values));
        }
        let identity = ["plugin", "plugin_version", "sampler_config"]
            .iter()
            .map(|column| Ok((column.to_string(), runs[0].text(column)?.to_string())))
            .collect::<Result<Vec<_>>>()?;
        summaries.push((label.clone(), identity, index == 0, seeds, metrics));
    }
    let baseline_means: Vec<f64> = summaries[0].4.iter().map(|s| s.mean).collect();
    let tests = paired_tests(set)?;
    Ok(summaries
        .into_iter()
        .enumerate()
        .map(
            |(index, (label, identity, is_baseline, seeds, metrics))| SamplerSummary {
                label,
                identity,
                is_baseline,
                seeds,
                metrics: metrics
                    .into_iter()
                    .zip(&baseline_means)
                    .map(|(s, &base)| (s, gain_pct(s.mean, base)))
                    .collect(),
                comparisons: tests.iter().map(|per_sampler| per_sampler[index]).collect(),
            },
        )
        .collect())
}

/// Per direction, per sampler (in `set.samplers` order): the corrected paired test.
fn paired_tests(set: &RunSet) -> Result<Vec<Vec<Option<Comparison>>>> {
    let baseline = set.baseline();
    let baseline_seeds: Vec<u64> = set
        .of(baseline)
        .iter()
        .map(|r| r.number("seed").map(|s| s as u64))
        .collect::<Result<_>>()?;
    let mut per_direction = Vec::new();
    for direction in DIRECTIONS {
        let mut tests: Vec<Option<PairedTest>> = vec![None];
        for label in &set.samplers[1..] {
            let mut by_seed = Vec::new();
            for run in set.of(label) {
                let seed = run.number("seed")? as u64;
                if !baseline_seeds.contains(&seed) {
                    continue;
                }
                let ours = read_reciprocal_ranks(&set.folder, label, seed)?;
                let theirs = read_reciprocal_ranks(&set.folder, baseline, seed)?;
                let (ours, theirs) = (&ours[direction], &theirs[direction]);
                anyhow::ensure!(
                    ours.len() == theirs.len(),
                    "{label} and {baseline} ranked different numbers of queries for seed {seed}"
                );
                by_seed.push(ours.iter().zip(theirs).map(|(a, b)| a - b).collect());
            }
            let differences = PairedDifferences { by_seed };
            tests.push((!differences.by_seed.is_empty()).then(|| differences.test(TEST_SEED)));
        }
        let raw: Vec<f64> = tests.iter().flatten().map(|t| t.p_value).collect();
        let mut adjusted = holm(&raw).into_iter();
        per_direction.push(
            tests
                .into_iter()
                .map(|test| {
                    test.map(|test| {
                        let p_holm = adjusted.next().expect("one adjusted p per test");
                        let excludes_zero = test.ci95.0 > 0.0 || test.ci95.1 < 0.0;
                        Comparison {
                            test,
                            p_holm,
                            significant: p_holm < ALPHA && excludes_zero,
                        }
                    })
                })
                .collect(),
        );
    }
    Ok(per_direction)
}

/// The `summary.csv` header (fixed before any run finishes).
pub fn summary_header() -> Vec<String> {
    let mut header: Vec<String> = [
        "sampler",
        "plugin",
        "plugin_version",
        "sampler_config",
        "baseline",
        "n_seeds",
    ]
    .map(String::from)
    .to_vec();
    header.extend(CONTEXT_COLUMNS.map(String::from));
    for name in SUMMARY_METRICS {
        for suffix in ["mean", "std", "ci95_low", "ci95_high", "gain_pct"] {
            header.push(format!("{name}_{suffix}"));
        }
    }
    for direction in DIRECTIONS {
        for suffix in [
            "mrr_diff",
            "mrr_diff_ci95_low",
            "mrr_diff_ci95_high",
            "p_value",
            "p_holm",
            "significant",
            "seeds_won",
        ] {
            header.push(format!("{direction}_{suffix}"));
        }
    }
    header
}

/// The `summary.csv` rows.
pub fn summary_rows(set: &RunSet, summaries: &[SamplerSummary]) -> Result<Vec<Row>> {
    let context = set.of(set.baseline())[0];
    summaries
        .iter()
        .map(|s| {
            let mut row = RowBuilder::default().text("sampler", &s.label);
            for (column, value) in &s.identity {
                row = row.text(column, value);
            }
            row = row
                .text("baseline", s.is_baseline)
                .text("n_seeds", s.seeds.len());
            for column in CONTEXT_COLUMNS {
                row = row.text(column, context.text(column)?);
            }
            for (name, (summary, gain)) in SUMMARY_METRICS.iter().zip(&s.metrics) {
                row = row
                    .number(&format!("{name}_mean"), summary.mean)
                    .optional(&format!("{name}_std"), summary.std)
                    .optional(&format!("{name}_ci95_low"), summary.ci95.map(|c| c.0))
                    .optional(&format!("{name}_ci95_high"), summary.ci95.map(|c| c.1))
                    .optional(&format!("{name}_gain_pct"), *gain);
            }
            for (direction, comparison) in DIRECTIONS.iter().zip(&s.comparisons) {
                let cell =
                    |f: fn(&Comparison) -> String| comparison.as_ref().map(f).unwrap_or_default();
                row = row
                    .text(
                        &format!("{direction}_mrr_diff"),
                        cell(|c| c.test.mean_difference.to_string()),
                    )
                    .text(
                        &format!("{direction}_mrr_diff_ci95_low"),
                        cell(|c| c.test.ci95.0.to_string()),
                    )
                    .text(
                        &format!("{direction}_mrr_diff_ci95_high"),
                        cell(|c| c.test.ci95.1.to_string()),
                    )
                    .text(
                        &format!("{direction}_p_value"),
                        cell(|c| c.test.p_value.to_string()),
                    )
                    .text(
                        &format!("{direction}_p_holm"),
                        cell(|c| c.p_holm.to_string()),
                    )
                    .text(
                        &format!("{direction}_significant"),
                        cell(|c| c.significant.to_string()),
                    )
                    .text(
                        &format!("{direction}_seeds_won"),
                        cell(|c| format!("{}/{}", c.test.seeds_won, c.test.seeds)),
                    );
            }
            Ok(row.build())
        })
        .collect::<Result<Vec<Row>>>()
        .context("building summary rows")
}

/// Table cells for one sampler: name, seeds, MRR ± CI, R@1/5/10, gain with its significance.
fn table_cells(s: &SamplerSummary) -> Vec<String> {
    let cell = |(summary, _): &(Summary, Option<f64>)| match summary.half_width() {
        Some(half) => format!("{:.3} ± {:.3}", summary.mean, half),
        None => format!("{:.3}", summary.mean),
    };
    let name = if s.is_baseline {
        format!("{} (baseline)", s.label)
    } else {
        s.label.clone()
    };
    let (gain, p) = match (s.is_baseline, s.metrics[0].1, s.comparisons[0]) {
        (true, _, _) => ("-".to_string(), "-".to_string()),
        (false, gain, comparison) => {
            let mark = if comparison.is_some_and(|c| c.significant) {
                " *"
            } else {
                ""
            };
            let gain = gain.map_or("n/a".into(), |g| format!("{g:+.1}%{mark}"));
            (
                gain,
                comparison.map_or("n/a".into(), |c| format!("{:.4}", c.p_holm)),
            )
        }
    };
    vec![
        name,
        s.seeds.len().to_string(),
        cell(&s.metrics[0]),
        cell(&s.metrics[1]),
        cell(&s.metrics[2]),
        cell(&s.metrics[3]),
        gain,
        p,
    ]
}

const TABLE_HEADER: [&str; 8] = [
    "Configuration",
    "Seeds",
    "MRR",
    "R@1",
    "R@5",
    "R@10",
    "Gain",
    "p (Holm)",
];

fn footnote(summaries: &[SamplerSummary]) -> String {
    let comparisons = summaries.len().saturating_sub(1);
    format!(
        "* significant: p < {ALPHA} in a paired randomisation test over seeds x queries{}, and the 95% hierarchical bootstrap CI of the MRR difference excludes 0.",
        if comparisons > 1 {
            format!(", Holm-corrected over {comparisons} comparisons")
        } else {
            String::new()
        }
    )
}

/// The results table in the reference's shape: text->item retrieval, mean ± 95% CI half-width
/// over seeds, the MRR gain against the baseline and its corrected p-value.
pub fn results_table(summaries: &[SamplerSummary]) -> String {
    let mut table = TextTable::new(TABLE_HEADER);
    for s in summaries {
        table.row(table_cells(s));
    }
    format!(
        "Text->item retrieval on the held-out split, final epoch (mean ± 95% CI half-width over seeds):\n{}{}\n",
        table.render(),
        footnote(summaries)
    )
}

/// The same table as Markdown.
pub fn markdown_table(summaries: &[SamplerSummary]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut text = line(TABLE_HEADER.map(String::from).to_vec());
    text.push_str(&line(TABLE_HEADER.map(|_| "---".to_string()).to_vec()));
    for s in summaries {
        text.push_str(&line(table_cells(s)));
    }
    text.push('\n');
    text.push_str(&footnote(summaries));
    text.push('\n');
    text
}

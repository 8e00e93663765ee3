//! Per-sampler summaries over seeds and paired comparisons against the baseline, as
//! `summary.csv` rows, the terminal table and the Markdown summary.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};

use super::csv_file::Columns;
use super::paired::{PairedDifferences, PairedTest, holm};
use super::runs::{Record, RunSet, read_reciprocal_ranks};
use super::schema::{
    BASELINE, ContextField, Direction, FALSE_NEGATIVE_COSINE, FALSE_NEGATIVE_SHARE, Metric,
    MetricColumn, N_SEEDS, PairedStat, SamplerField, SeedStat,
};
use super::stats::Summary;
use crate::table::TextTable;

/// Family-wise significance level of the paired tests.
pub const ALPHA: f64 = 0.05;
/// Fewest seeds paired with the baseline for a significance claim: with fewer, the hierarchical
/// bootstrap has (almost) no seed level to resample, so one lucky seed could pass for a real gain.
pub const MIN_PAIRED_SEEDS: usize = 3;
/// Seed of the randomisation test and bootstrap (fixed: reports are reproducible).
const TEST_SEED: u64 = 20_240_601;

/// What a paired comparison may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Holm-corrected p below [`ALPHA`], a bootstrap interval that excludes zero, and at least
    /// [`MIN_PAIRED_SEEDS`] paired seeds.
    Significant,
    /// Tested, and not significant.
    NotSignificant,
    /// Fewer than [`MIN_PAIRED_SEEDS`] paired seeds: no significance claimed either way.
    TooFewSeeds,
}

impl Verdict {
    /// The verdict of a test with its Holm-corrected p-value.
    pub fn of(test: &PairedTest, p_holm: f64) -> Verdict {
        let excludes_zero = test.ci95.0 > 0.0 || test.ci95.1 < 0.0;
        if test.seeds < MIN_PAIRED_SEEDS {
            Verdict::TooFewSeeds
        } else if p_holm < ALPHA && excludes_zero {
            Verdict::Significant
        } else {
            Verdict::NotSignificant
        }
    }

    pub fn is_significant(self) -> bool {
        self == Verdict::Significant
    }
}

/// A paired comparison with its multiplicity-corrected p-value and verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub test: PairedTest,
    pub p_holm: f64,
    pub verdict: Verdict,
}

/// One sampler's results over its seeds.
#[derive(Debug, Clone)]
pub struct SamplerSummary {
    pub label: String,
    /// The [`SamplerField::SUMMARY`] fields of its first run, in that order.
    pub identity: Vec<(SamplerField, String)>,
    pub is_baseline: bool,
    pub seeds: Vec<u64>,
    /// The seeds that both this sampler and the baseline finished: gains and paired tests use
    /// only these.
    pub paired_seeds: Vec<u64>,
    /// Per metric column, in [`MetricColumn::all`] order: the final-epoch value summarised over
    /// the sampler's seeds, and its gain in % of the baseline's mean over the paired seeds.
    pub metrics: Vec<(Summary, Option<f64>)>,
    /// Per direction, in [`Direction::ALL`] order: the paired comparison against the baseline
    /// (none for the baseline itself).
    pub comparisons: Vec<Option<Comparison>>,
    /// The share of in-batch negative pairs with near-duplicate descriptions, mean over the
    /// seeds that measured it, and the cosine from which a pair counted (none in folders written
    /// before the measure existed).
    pub false_negatives: Option<FalseNegatives>,
}

/// The false-negative measure of a sampler's runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FalseNegatives {
    /// Mean over seeds of each run's mean share over epochs.
    pub share: f64,
    /// Description cosine at or above which a pair counted.
    pub cosine: f64,
}

impl FalseNegatives {
    /// The measure of `runs` (one sampler's rows of `runs.csv`); `None` when no run has it.
    fn of(runs: &[&Record]) -> Result<Option<Self>> {
        let mut shares = Vec::new();
        let mut cosine = None;
        for run in runs {
            if let Some(share) = run.optional_number(FALSE_NEGATIVE_SHARE)? {
                shares.push(share);
                cosine = cosine.or(run.optional_number(FALSE_NEGATIVE_COSINE)?);
            }
        }
        Ok(cosine
            .filter(|_| !shares.is_empty())
            .map(|cosine| FalseNegatives {
                share: shares.iter().sum::<f64>() / shares.len() as f64,
                cosine,
            }))
    }
}

impl SamplerSummary {
    /// One metric column summarised over seeds, and its gain against the baseline.
    pub fn metric(&self, column: MetricColumn) -> (Summary, Option<f64>) {
        self.metrics[column.index()]
    }

    /// The paired comparison against the baseline in one direction.
    pub fn comparison(&self, direction: Direction) -> Option<Comparison> {
        self.comparisons[direction.index()]
    }

    /// One identity field.
    fn identity(&self, field: SamplerField) -> &str {
        self.identity
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, value)| value.as_str())
            .expect("a summarised identity field")
    }
}

/// Relative change in percent; `None` when the baseline is zero.
pub fn gain_pct(value: f64, baseline: f64) -> Option<f64> {
    (baseline != 0.0).then(|| (value - baseline) / baseline * 100.0)
}

/// Summaries of every sampler of `set`, with gains and paired tests against the baseline on the
/// seeds both share, the tests Holm-corrected over the non-baseline samplers per direction.
pub fn summarise(set: &RunSet) -> Result<Vec<SamplerSummary>> {
    let mut finished = Vec::new();
    for label in &set.samplers {
        let runs = set.of(label);
        let seeds = set.seeds(label)?;
        let values = MetricColumn::all()
            .map(|column| {
                runs.iter()
                    .map(|r| r.number(&column.to_string()))
                    .collect::<Result<Vec<f64>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let identity = SamplerField::SUMMARY
            .iter()
            .map(|&field| Ok((field, runs[0].text(field.name())?.to_string())))
            .collect::<Result<Vec<_>>>()?;
        let false_negatives = FalseNegatives::of(&runs)?;
        finished.push((label.clone(), identity, seeds, values, false_negatives));
    }
    let tests = paired_tests(set)?;
    let (_, _, baseline_seeds, baseline_values, _) = &finished[0];
    Ok(finished
        .iter()
        .enumerate()
        .map(
            |(index, (label, identity, seeds, values, false_negatives))| {
                let paired_seeds: Vec<u64> = seeds
                    .iter()
                    .copied()
                    .filter(|seed| baseline_seeds.contains(seed))
                    .collect();
                SamplerSummary {
                    label: label.clone(),
                    identity: identity.clone(),
                    is_baseline: index == 0,
                    seeds: seeds.clone(),
                    metrics: values
                        .iter()
                        .zip(baseline_values)
                        .map(|(ours, theirs)| {
                            let gain = mean_on(&paired_seeds, seeds, ours)
                                .zip(mean_on(&paired_seeds, baseline_seeds, theirs))
                                .and_then(|(ours, theirs)| gain_pct(ours, theirs));
                            (Summary::of(ours), gain)
                        })
                        .collect(),
                    paired_seeds,
                    comparisons: tests.iter().map(|per_sampler| per_sampler[index]).collect(),
                    false_negatives: *false_negatives,
                }
            },
        )
        .collect())
}

/// The mean of the `values` (one per seed of `seeds`) whose seed is in `on`; `None` when none is.
fn mean_on(on: &[u64], seeds: &[u64], values: &[f64]) -> Option<f64> {
    let chosen: Vec<f64> = seeds
        .iter()
        .zip(values)
        .filter(|(seed, _)| on.contains(seed))
        .map(|(_, value)| *value)
        .collect();
    (!chosen.is_empty()).then(|| chosen.iter().sum::<f64>() / chosen.len() as f64)
}

/// Per direction, per sampler (in `set.samplers` order): the corrected paired test.
fn paired_tests(set: &RunSet) -> Result<Vec<Vec<Option<Comparison>>>> {
    let baseline = Side {
        folder: &set.folder,
        sampler: set.baseline(),
    };
    let baseline_seeds = set.seeds(baseline.sampler)?;
    let mut per_sampler = vec![vec![None; Direction::ALL.len()]];
    for label in &set.samplers[1..] {
        let seeds: Vec<u64> = set
            .seeds(label)?
            .into_iter()
            .filter(|seed| baseline_seeds.contains(seed))
            .collect();
        let ours = Side {
            folder: &set.folder,
            sampler: label,
        };
        per_sampler.push(paired_tests_between(ours, baseline, &seeds)?);
    }
    Ok(corrected_per_direction(&per_sampler))
}

/// One side of a paired comparison: a sampler's runs in a comparison folder.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub folder: &'a Path,
    pub sampler: &'a str,
}

impl fmt::Display for Side<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.sampler, self.folder.display())
    }
}

/// Per direction (in [`Direction::ALL`] order): the paired test of `ours` minus `theirs` over
/// the (seed, query) pairs of `seeds`, read from both sides' per-query files; `None` without
/// seeds.
pub fn paired_tests_between(
    ours: Side,
    theirs: Side,
    seeds: &[u64],
) -> Result<Vec<Option<PairedTest>>> {
    let mut by_direction = vec![Vec::new(); Direction::ALL.len()];
    for &seed in seeds {
        let ours_ranks = read_reciprocal_ranks(ours.folder, ours.sampler, seed)?;
        let theirs_ranks = read_reciprocal_ranks(theirs.folder, theirs.sampler, seed)?;
        for direction in Direction::ALL {
            let (a, b) = (&ours_ranks[direction], &theirs_ranks[direction]);
            anyhow::ensure!(
                a.len() == b.len(),
                "{ours} and {theirs} ranked different numbers of queries for seed {seed} ({} and {})",
                a.len(),
                b.len()
            );
            by_direction[direction.index()].push(a.iter().zip(b).map(|(a, b)| a - b).collect());
        }
    }
    Ok(by_direction
        .into_iter()
        .map(|by_seed| {
            let differences = PairedDifferences { by_seed };
            (!differences.by_seed.is_empty()).then(|| differences.test(TEST_SEED))
        })
        .collect())
}

/// Regroups per-sampler tests (each in [`Direction::ALL`] order) by direction, each direction
/// Holm-corrected over the samplers compared in it.
pub fn corrected_per_direction(
    per_sampler: &[Vec<Option<PairedTest>>],
) -> Vec<Vec<Option<Comparison>>> {
    Direction::ALL
        .iter()
        .map(|direction| {
            corrected(
                per_sampler
                    .iter()
                    .map(|tests| tests[direction.index()])
                    .collect(),
            )
        })
        .collect()
}

/// Holm-corrects one direction's tests (`None` where nothing was compared) over the
/// comparisons made, and gives each its verdict.
fn corrected(tests: Vec<Option<PairedTest>>) -> Vec<Option<Comparison>> {
    let raw: Vec<f64> = tests.iter().flatten().map(|t| t.p_value).collect();
    let mut adjusted = holm(&raw).into_iter();
    tests
        .into_iter()
        .map(|test| {
            test.map(|test| {
                let p_holm = adjusted.next().expect("one adjusted p per test");
                Comparison {
                    test,
                    p_holm,
                    verdict: Verdict::of(&test, p_holm),
                }
            })
        })
        .collect()
}

/// The [`ContextField::COMPARABLE`] values of a comparison (from its baseline's first run), which
/// every `summary.csv` row repeats so that a summary names the protocol and data it came from.
pub type SummaryContext = BTreeMap<ContextField, String>;

/// The context of `set`'s summary rows.
pub fn summary_context(set: &RunSet) -> Result<SummaryContext> {
    let first = set.of(set.baseline())[0];
    ContextField::COMPARABLE
        .iter()
        .map(|&field| Ok((field, first.text(field.name())?.to_string())))
        .collect::<Result<SummaryContext>>()
        .context("building summary rows")
}

/// The columns of `summary.csv`: one row per sampler.
pub fn summary_columns() -> Columns<SamplerSummary, SummaryContext> {
    let columns = Columns::new().text(SamplerField::Label.name(), |s: &SamplerSummary, _| {
        s.label.clone()
    });
    let columns = SamplerField::SUMMARY
        .iter()
        .fold(columns, |columns, &field| {
            columns.text(field.name(), move |s, _| s.identity(field).to_string())
        })
        .text(BASELINE, |s, _| s.is_baseline)
        .text(N_SEEDS, |s, _| s.seeds.len());
    let columns = ContextField::COMPARABLE
        .iter()
        .fold(columns, |columns, &field| {
            columns.text(field.name(), move |_, context: &SummaryContext| {
                context[&field].clone()
            })
        });
    let columns = MetricColumn::all().fold(columns, |columns, metric| {
        let summary = move |s: &SamplerSummary| s.metric(metric).0;
        columns
            .number(SeedStat::Mean.column(metric), move |s, _| summary(s).mean)
            .optional(SeedStat::Std.column(metric), move |s, _| summary(s).std)
            .optional(SeedStat::Ci95Low.column(metric), move |s, _| {
                summary(s).ci95.map(|c| c.0)
            })
            .optional(SeedStat::Ci95High.column(metric), move |s, _| {
                summary(s).ci95.map(|c| c.1)
            })
            .optional(SeedStat::GainPct.column(metric), move |s, _| {
                s.metric(metric).1
            })
    });
    let columns = Direction::ALL.iter().fold(columns, |columns, &direction| {
        let comparison = move |s: &SamplerSummary| s.comparison(direction);
        columns
            .optional(PairedStat::MrrDiff.column(direction), move |s, _| {
                comparison(s).map(|c| c.test.mean_difference)
            })
            .optional(PairedStat::MrrDiffCi95Low.column(direction), move |s, _| {
                comparison(s).map(|c| c.test.ci95.0)
            })
            .optional(
                PairedStat::MrrDiffCi95High.column(direction),
                move |s, _| comparison(s).map(|c| c.test.ci95.1),
            )
            .optional(PairedStat::PValue.column(direction), move |s, _| {
                comparison(s).map(|c| c.test.p_value)
            })
            .optional(PairedStat::PHolm.column(direction), move |s, _| {
                comparison(s).map(|c| c.p_holm)
            })
            .text(PairedStat::Significant.column(direction), move |s, _| {
                comparison(s).map_or(String::new(), |c| c.verdict.is_significant().to_string())
            })
            .text(PairedStat::SeedsWon.column(direction), move |s, _| {
                comparison(s).map_or(String::new(), |c| {
                    format!("{}/{}", c.test.seeds_won, c.test.seeds)
                })
            })
    });
    columns
        .optional(SeedStat::Mean.column(FALSE_NEGATIVE_SHARE), |s, _| {
            s.false_negatives.map(|f| f.share)
        })
        .optional(FALSE_NEGATIVE_COSINE, |s, _| {
            s.false_negatives.map(|f| f.cosine)
        })
}

/// Table cells for one sampler: name, seeds, MRR ± CI, R@1/5/10, gain with its significance, in
/// one direction.
fn table_cells(s: &SamplerSummary, direction: Direction) -> Vec<String> {
    let cell = |(summary, _): &(Summary, Option<f64>)| match summary.half_width() {
        Some(half) => format!("{:.3} ± {:.3}", summary.mean, half),
        None => format!("{:.3}", summary.mean),
    };
    let name = if s.is_baseline {
        format!("{} (baseline)", s.label)
    } else {
        s.label.clone()
    };
    let mrr = MetricColumn {
        direction,
        metric: Metric::Mrr,
    };
    let (gain, p) = match (s.is_baseline, s.metric(mrr).1, s.comparison(direction)) {
        (true, _, _) => ("-".to_string(), "-".to_string()),
        (false, gain, comparison) => {
            let verdict = comparison.map(|c| c.verdict);
            let mark = match verdict {
                Some(Verdict::Significant) => " *",
                _ => "",
            };
            let gain = gain.map_or("n/a".into(), |g| format!("{g:+.1}%{mark}"));
            let too_few = if verdict == Some(Verdict::TooFewSeeds) {
                " †"
            } else {
                ""
            };
            (
                gain,
                comparison.map_or("n/a".into(), |c| format!("{:.4}{too_few}", c.p_holm)),
            )
        }
    };
    let mut cells = vec![name, s.seeds.len().to_string()];
    cells.extend(TABLE_METRICS.map(|metric| cell(&s.metric(MetricColumn { direction, metric }))));
    cells.extend([gain, p]);
    cells
}

/// The metrics of the table's headline direction, under "MRR", "R@1", "R@5", "R@10".
const TABLE_METRICS: [Metric; 4] = [Metric::Mrr, Metric::R1, Metric::R5, Metric::R10];

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

/// The note under the table, saying when a gain is marked significant and which comparisons
/// had too few paired seeds for any claim.
fn footnote(summaries: &[SamplerSummary], direction: Direction) -> Vec<String> {
    let verdicts = || {
        summaries
            .iter()
            .filter_map(|s| s.comparison(direction).map(|c| (s, c.verdict)))
    };
    let mut lines = Vec::new();
    if verdicts().any(|(_, v)| v != Verdict::TooFewSeeds) {
        let comparisons = summaries.len().saturating_sub(1);
        lines.push(format!(
            "* significant: p < {ALPHA} in a paired randomisation test over seeds x queries{}, and the 95% hierarchical bootstrap CI of the MRR difference excludes 0.",
            if comparisons > 1 {
                format!(", Holm-corrected over {comparisons} comparisons")
            } else {
                String::new()
            }
        ));
    }
    let too_few: Vec<&str> = verdicts()
        .filter(|(_, v)| *v == Verdict::TooFewSeeds)
        .map(|(s, _)| s.label.as_str())
        .collect();
    let baseline_seeds = summaries.first().map_or(&[][..], |s| s.seeds.as_slice());
    let partial: Vec<String> = summaries
        .iter()
        .filter(|s| {
            !s.is_baseline && (s.paired_seeds != s.seeds || s.paired_seeds != baseline_seeds)
        })
        .map(|s| format!("{} on seeds {}", s.label, seed_list(&s.paired_seeds)))
        .collect();
    if !partial.is_empty() {
        lines.push(format!(
            "Gain and p compare only the seeds both the sampler and the baseline finished: {}.",
            partial.join("; ")
        ));
    }
    if !too_few.is_empty() {
        lines.push(format!(
            "† {}: fewer than {MIN_PAIRED_SEEDS} paired seeds: no significance claimed (its p-value counts queries, not seeds; run --seeds {MIN_PAIRED_SEEDS} or more).",
            too_few.join(", ")
        ));
    }
    lines
}

/// The paired comparisons with the baseline as a Markdown table: per sampler and direction, the
/// MRR difference with its bootstrap CI, the p-values, seeds won and the verdict.
pub fn markdown_differences(summaries: &[SamplerSummary]) -> String {
    let mut text = String::from(
        "| Sampler | Direction | Paired seeds | MRR difference | 95% bootstrap CI | p | p (Holm) | Seeds won | Verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for s in summaries {
        for &direction in Direction::ALL {
            let Some(c) = s.comparison(direction) else {
                continue;
            };
            let verdict = match c.verdict {
                Verdict::Significant => "significant *".to_string(),
                Verdict::NotSignificant => "not significant".to_string(),
                Verdict::TooFewSeeds => {
                    format!("untested † (fewer than {MIN_PAIRED_SEEDS} paired seeds)")
                }
            };
            text.push_str(&format!(
                "| {} | {} | {} | {:+.4} | [{:+.4}, {:+.4}] | {:.4} | {:.4} | {}/{} | {verdict} |\n",
                s.label,
                direction.name().replace("_to_", "->"),
                seed_list(&s.paired_seeds),
                c.test.mean_difference,
                c.test.ci95.0,
                c.test.ci95.1,
                c.test.p_value,
                c.p_holm,
                c.test.seeds_won,
                c.test.seeds,
            ));
        }
    }
    text
}

/// Seeds as `1, 2, 3`, or `none`.
pub fn seed_list(seeds: &[u64]) -> String {
    if seeds.is_empty() {
        return "none".to_string();
    }
    seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The results table in the reference's shape: text->item retrieval, mean ± 95% CI half-width
/// over seeds, the MRR gain against the baseline and its corrected p-value.
pub fn results_table(summaries: &[SamplerSummary]) -> String {
    let mut table = TextTable::new(TABLE_HEADER);
    for s in summaries {
        table.row(table_cells(s, MetricColumn::HEADLINE.direction));
    }
    let mut text = format!(
        "Text->item retrieval on the held-out split, final epoch (mean ± 95% CI half-width over seeds):\n{}",
        table.render(),
    );
    for line in footnote(summaries, MetricColumn::HEADLINE.direction) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The same table as Markdown, in either direction.
pub fn markdown_table(summaries: &[SamplerSummary], direction: Direction) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut text = line(TABLE_HEADER.map(String::from).to_vec());
    text.push_str(&line(TABLE_HEADER.map(|_| "---".to_string()).to_vec()));
    for s in summaries {
        text.push_str(&line(table_cells(s, direction)));
    }
    for line in footnote(summaries, direction) {
        text.push('\n');
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn test_with(seeds: usize, ci95: (f64, f64)) -> PairedTest {
        PairedTest {
            mean_difference: (ci95.0 + ci95.1) / 2.0,
            ci95,
            p_value: 0.0001,
            seeds_won: seeds,
            seeds,
        }
    }

    #[test]
    fn significance_needs_three_paired_seeds() {
        assert_eq!(MIN_PAIRED_SEEDS, 3);
        let clear = (0.05, 0.09);
        assert_eq!(
            Verdict::of(&test_with(1, clear), 0.0001),
            Verdict::TooFewSeeds
        );
        assert_eq!(
            Verdict::of(&test_with(2, clear), 0.0001),
            Verdict::TooFewSeeds
        );
        assert_eq!(
            Verdict::of(&test_with(3, clear), 0.0001),
            Verdict::Significant
        );
        assert_eq!(
            Verdict::of(&test_with(3, (-0.01, 0.09)), 0.0001),
            Verdict::NotSignificant
        );
        assert_eq!(
            Verdict::of(&test_with(5, clear), 0.2),
            Verdict::NotSignificant
        );
    }

    /// A baseline and one sampler whose clear gain was paired over `seeds` seeds.
    pub(crate) fn two_samplers(seeds: usize) -> Vec<SamplerSummary> {
        let seed_numbers: Vec<u64> = (1..=seeds as u64).collect();
        let summary = |value: f64| {
            let values: Vec<f64> = seed_numbers
                .iter()
                .map(|s| value + 0.001 * *s as f64)
                .collect();
            Summary::of(&values)
        };
        let sampler = |label: &str, value: f64, comparison: Option<Comparison>| SamplerSummary {
            label: label.to_string(),
            identity: SamplerField::SUMMARY
                .iter()
                .map(|&field| {
                    let value = match field {
                        SamplerField::Config => "{}",
                        SamplerField::Version => "1.0.0",
                        _ => label,
                    };
                    (field, value.to_string())
                })
                .collect(),
            is_baseline: comparison.is_none(),
            seeds: seed_numbers.clone(),
            paired_seeds: seed_numbers.clone(),
            metrics: MetricColumn::all()
                .map(|_| (summary(value), comparison.map(|_| 20.0)))
                .collect(),
            comparisons: Direction::ALL.iter().map(|_| comparison).collect(),
            false_negatives: None,
        };
        let test = test_with(seeds, (0.05, 0.09));
        let comparison = Comparison {
            test,
            p_holm: 0.0001,
            verdict: Verdict::of(&test, 0.0001),
        };
        vec![
            sampler("random", 0.5, None),
            sampler("hard", 0.6, Some(comparison)),
        ]
    }

    /// The `significant` cell of `summary.csv` for the second sampler.
    fn significant_cell(summaries: &[SamplerSummary]) -> String {
        let context: SummaryContext = ContextField::COMPARABLE
            .iter()
            .map(|&field| (field, "x".to_string()))
            .collect();
        let columns = summary_columns();
        let index = columns
            .header()
            .iter()
            .position(|name| *name == PairedStat::Significant.column(Direction::TextToItem))
            .unwrap();
        columns.row(&summaries[1], &context)[index].clone()
    }

    #[test]
    fn fewer_than_three_paired_seeds_claim_no_significance_anywhere() {
        for seeds in [1, 2] {
            let summaries = two_samplers(seeds);
            let markdown = markdown_table(&summaries, Direction::ItemToText);
            for text in [results_table(&summaries), markdown] {
                assert!(!text.contains('*'), "{text}");
                assert!(!text.contains("significant"), "{text}");
                assert!(
                    text.contains("hard: fewer than 3 paired seeds: no significance claimed"),
                    "{text}"
                );
            }
            assert_eq!(significant_cell(&summaries), "false");
        }
        let summaries = two_samplers(3);
        let text = results_table(&summaries);
        assert!(text.contains("+20.0% *") && !text.contains("†"), "{text}");
        assert_eq!(significant_cell(&summaries), "true");
    }

    fn run_with(fields: &[(&str, &str)]) -> Record {
        Record {
            file: "runs.csv".into(),
            line: 2,
            fields: fields
                .iter()
                .map(|(column, value)| (column.to_string(), value.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_false_negative_share_is_averaged_over_the_seeds_that_measured_it() {
        let measured = |share: &str| {
            run_with(&[
                (FALSE_NEGATIVE_SHARE, share),
                (FALSE_NEGATIVE_COSINE, "0.95"),
            ])
        };
        let runs = [measured("0.01"), measured("0.03"), measured("")];
        let of = |runs: &[Record]| FalseNegatives::of(&runs.iter().collect::<Vec<_>>());
        let measure = of(&runs).unwrap().unwrap();
        assert!((measure.share - 0.02).abs() < 1e-12 && measure.cosine == 0.95);
        // Folders written before the measure existed have no such columns.
        assert_eq!(of(&[run_with(&[])]).unwrap(), None);
        assert!(of(&[measured("a lot")]).is_err());
    }

    #[test]
    fn gains_compare_means_over_the_paired_seeds_only() {
        // Baseline seeds 1, 2, 3; the sampler finished 1 and 2 and seed 4.
        let ours = mean_on(&[1, 2], &[1, 2, 4], &[0.6, 0.8, 5.0]).unwrap();
        let theirs = mean_on(&[1, 2], &[1, 2, 3], &[0.5, 0.5, 9.0]).unwrap();
        assert!((ours - 0.7).abs() < 1e-12 && (theirs - 0.5).abs() < 1e-12);
        assert!((gain_pct(ours, theirs).unwrap() - 40.0).abs() < 1e-9);
        assert_eq!(mean_on(&[], &[1], &[0.3]), None);
        assert_eq!(seed_list(&[1, 2]), "1, 2");
    }
}

//! Report files of a comparison, all derived from its CSV files so that `harness report` can
//! regenerate them: `summary.csv`, `summary.md` and the SVG plots.

pub mod csv_file;
pub mod diff;
pub mod paired;
pub mod plot;
pub mod runs;
pub mod schema;
pub mod stats;
pub mod summary;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use csv_file::{CsvTable, write_atomically};
use plot::{Estimate, Point, Series, YAxis, interval_chart, line_chart};
use runs::{Record, RunSet, read_records};
use schema::{ContextField, Direction, EPOCH, MetricColumn, REALISED_HARD_SHARE, SamplerField};
use stats::Summary;
use summary::{
    SamplerSummary, Verdict, markdown_differences, markdown_table, results_table, seed_list,
    summarise, summary_columns, summary_context,
};

/// The context fields `summary.md` lists under "Protocol".
const PROTOCOL_FIELDS: [ContextField; 8] = [
    ContextField::ProtocolVersion,
    ContextField::Epochs,
    ContextField::BatchSize,
    ContextField::DropLast,
    ContextField::LearningRate,
    ContextField::WeightDecay,
    ContextField::Temperature,
    ContextField::GradClipNorm,
];

/// The context fields `summary.md` lists under "Data and environment".
const ENVIRONMENT_FIELDS: [ContextField; 6] = [
    ContextField::Dataset,
    ContextField::DatasetFingerprint,
    ContextField::HarnessVersion,
    ContextField::LibtorchVersion,
    ContextField::Device,
    ContextField::Threads,
];

/// Writes `summary.csv`, `summary.md`, `mrr_by_epoch.svg`, `final_mrr.svg` and
/// `paired_difference.svg` in `folder` from
/// its `runs.csv`, `epochs.csv` and per-query files; returns the terminal table.
pub fn generate(folder: &Path) -> Result<String> {
    let set = RunSet::load(folder)?;
    let summaries = summarise(&set)?;
    let mut table = CsvTable::create(folder.join("summary.csv"), summary_columns())?;
    table.append(&summary_context(&set)?, &summaries)?;
    write_atomically(
        &folder.join("summary.md"),
        markdown(&set, &summaries)?.as_bytes(),
    )?;
    write_atomically(
        &folder.join("mrr_by_epoch.svg"),
        mrr_by_epoch(folder, &set)?.as_bytes(),
    )?;
    let estimates: Vec<Estimate> = summaries
        .iter()
        .map(|s| {
            let (summary, _) = s.metric(MetricColumn::HEADLINE);
            Estimate {
                label: s.label.clone(),
                value: summary.mean,
                interval: summary.ci95,
                legend: format!("{} {:.3}", s.label, summary.mean),
            }
        })
        .collect();
    let with_ci = estimates.iter().filter(|e| e.interval.is_some()).count();
    let final_chart = interval_chart(
        &format!(
            "Final text->item MRR ({})",
            what_is_drawn(with_ci, estimates.len())
        ),
        "MRR",
        &estimates,
        YAxis::FromZero,
    );
    write_atomically(&folder.join("final_mrr.svg"), final_chart.as_bytes())?;
    write_atomically(
        &folder.join(PAIRED_DIFFERENCE_PLOT),
        paired_difference(&summaries).as_bytes(),
    )?;
    Ok(results_table(&summaries))
}

/// File name of the paired-difference plot.
pub const PAIRED_DIFFERENCE_PLOT: &str = "paired_difference.svg";

/// How a title names what is drawn when `with_ci` of `total` estimates (or lines) have a CI.
fn what_is_drawn(with_ci: usize, total: usize) -> &'static str {
    if with_ci == total && total > 0 {
        "mean and 95% CI over seeds"
    } else if with_ci == 0 {
        "mean over seeds; no CI: fewer than 2 seeds"
    } else {
        "mean; 95% CI over seeds where there are 2 or more"
    }
}

/// Per non-baseline sampler: the paired text->item MRR difference against the baseline with its
/// hierarchical bootstrap 95% CI, around a line at zero, marked `*` when significant.
fn paired_difference(summaries: &[SamplerSummary]) -> String {
    let direction = MetricColumn::HEADLINE.direction;
    let estimates: Vec<Estimate> = summaries
        .iter()
        .filter_map(|s| s.comparison(direction).map(|c| (s, c)))
        .map(|(s, c)| {
            let (label, note) = match c.verdict {
                Verdict::Significant => (format!("{} *", s.label), String::new()),
                Verdict::NotSignificant => (s.label.clone(), String::new()),
                Verdict::TooFewSeeds => (format!("{} †", s.label), " (untested)".to_string()),
            };
            Estimate {
                legend: format!("{label} {:+.3}{note}", c.test.mean_difference),
                label,
                value: c.test.mean_difference,
                interval: Some(c.test.ci95),
            }
        })
        .collect();
    let baseline = summaries.first().map_or("", |s| s.label.as_str());
    let title = if estimates.is_empty() {
        format!("No sampler to compare with {baseline}")
    } else {
        format!("Text->item MRR minus {baseline}'s (paired; 95% hierarchical bootstrap CI)")
    };
    interval_chart(&title, "MRR difference", &estimates, YAxis::AroundZero)
}

/// Mean text->item MRR per epoch and sampler, with a 95% CI band over seeds.
fn mrr_by_epoch(folder: &Path, set: &RunSet) -> Result<String> {
    let records = read_records(&folder.join("epochs.csv"))?;
    let mrr = MetricColumn::HEADLINE.to_string();
    let mut series = Vec::new();
    for label in &set.samplers {
        let mut by_epoch: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        for record in records
            .iter()
            .filter(|r| r.fields.get(SamplerField::Label.name()) == Some(label))
        {
            by_epoch
                .entry(record.number(EPOCH)? as u64)
                .or_default()
                .push(record.number(&mrr)?);
        }
        let points = by_epoch
            .into_iter()
            .map(|(epoch, values)| {
                let summary = Summary::of(&values);
                Point {
                    x: epoch as f64,
                    y: summary.mean,
                    band: summary.ci95,
                }
            })
            .collect();
        series.push(Series {
            label: label.clone(),
            points,
        });
    }
    let with_band = series
        .iter()
        .filter(|s| s.points.iter().all(|p| p.band.is_some()))
        .count();
    Ok(line_chart(
        &format!(
            "Text->item MRR by epoch ({})",
            what_is_drawn(with_band, series.len())
        ),
        "epoch",
        "MRR",
        &series,
    ))
}

/// `summary.md`: the tables of both directions, the paired differences, the protocol, the
/// environment and each sampler's settings, realised hard share and false-negative share, for a
/// CI job summary.
fn markdown(set: &RunSet, summaries: &[SamplerSummary]) -> Result<String> {
    let first = set.of(set.baseline())[0];
    let field = |field: ContextField| first.text(field.name()).map(str::to_string);
    let mut text = format!(
        "# Sampler comparison\n\nText->item retrieval on the held-out split ({}), final epoch; mean ± 95% CI half-width over seeds.\n\n",
        field(ContextField::Dataset)?
    );
    text.push_str(&markdown_table(summaries, Direction::TextToItem));
    text.push_str("\n## Item->text retrieval\n\nThe other direction, same runs.\n\n");
    text.push_str(&markdown_table(summaries, Direction::ItemToText));
    text.push_str(&format!(
        "\n## Paired differences against {}\n\nSampler minus baseline, over the (seed, query) pairs of the seeds both finished.\n\n",
        set.baseline()
    ));
    text.push_str(&markdown_differences(summaries));
    text.push_str("\n## Protocol\n\n");
    for column in PROTOCOL_FIELDS {
        text.push_str(&format!("- {}: {}\n", column.name(), field(column)?));
    }
    text.push_str("\n## Data and environment\n\n");
    for column in ENVIRONMENT_FIELDS {
        text.push_str(&format!("- {}: {}\n", column.name(), field(column)?));
    }
    text.push_str("\n## Samplers\n\n");
    for s in summaries {
        text.push_str(&sampler_line(s, &set.of(&s.label))?);
    }
    text.push_str(&failed_runs(&set.folder)?);
    text.push_str("\nPlots: `mrr_by_epoch.svg`, `final_mrr.svg`, `paired_difference.svg`. Data: `runs.csv`, `epochs.csv`, `summary.csv`, per-run folders.\n");
    Ok(text)
}

/// The "Failed runs" section of `summary.md` (empty when every run finished).
fn failed_runs(folder: &Path) -> Result<String> {
    let failures = runs::read_failures(folder)?;
    if failures.is_empty() {
        return Ok(String::new());
    }
    let mut text = format!(
        "\n## Failed runs\n\n{} run(s) did not finish; the tables above use the finished runs only (paired statistics over the seeds both samplers finished). `harness compare --resume` runs them again.\n\n| Sampler | Seed | Epoch | Reason |\n|---|---|---|---|\n",
        failures.len()
    );
    for failure in &failures {
        text.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            failure.text("sampler")?,
            failure.text("seed")?,
            failure.text("epoch")?,
            failure.text("reason")?.replace('|', "\\|")
        ));
    }
    Ok(text)
}

/// One sampler in `summary.md`: plugin and version, the settings it ran with, its seeds, the
/// mean realised hard share of its runs and their false-negative share.
fn sampler_line(s: &SamplerSummary, runs: &[&Record]) -> Result<String> {
    let config = s
        .identity
        .iter()
        .find(|(field, _)| *field == SamplerField::Config)
        .map_or("", |(_, value)| value.as_str());
    let settings = match serde_json::from_str::<serde_json::Value>(config) {
        Ok(serde_json::Value::Object(map)) if map.is_empty() => "the plugin's defaults".to_string(),
        Ok(serde_json::Value::Object(map)) => format!(
            "{} (other parameters at the plugin's defaults)",
            map.iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!("`{config}`"),
    };
    let shares = runs
        .iter()
        .map(|r| r.optional_number(REALISED_HARD_SHARE))
        .collect::<Result<Vec<Option<f64>>>>()?;
    let shares: Vec<f64> = shares.into_iter().flatten().collect();
    let share = if shares.is_empty() {
        "n/a".to_string()
    } else {
        format!("{:.3}", shares.iter().sum::<f64>() / shares.len() as f64)
    };
    let false_negatives = s.false_negatives.map_or("n/a".to_string(), |f| {
        format!(
            "{:.4} (of in-batch pairs, at description cosine >= {})",
            f.share, f.cosine
        )
    });
    let plugin = |field: SamplerField| {
        s.identity
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("?", |(_, value)| value.as_str())
    };
    Ok(format!(
        "- {}: plugin {} {}; settings: {settings}; seeds {}; realised hard share {share}; false-negative share {false_negatives}\n",
        s.label,
        plugin(SamplerField::Plugin),
        plugin(SamplerField::Version),
        seed_list(&s.seeds),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_claim_a_ci_only_when_one_is_drawn() {
        assert_eq!(what_is_drawn(2, 2), "mean and 95% CI over seeds");
        assert!(!what_is_drawn(0, 2).contains("CI over seeds"));
        assert!(what_is_drawn(1, 2).contains("where there are 2 or more"));
    }

    #[test]
    fn the_paired_difference_plot_marks_significance_and_untested_gains() {
        let significant = paired_difference(&summary::tests::two_samplers(3));
        assert!(significant.contains("hard *") && !significant.contains('†'));
        assert!(significant.contains("minus random's"));
        assert_eq!(significant.matches("<circle").count(), 1);
        assert_eq!(significant.matches("stroke-dasharray").count(), 1);
        let untested = paired_difference(&summary::tests::two_samplers(2));
        assert!(untested.contains("hard †") && !untested.contains("hard *"));
        assert!(untested.contains("(untested)"));
        let alone = paired_difference(&summary::tests::two_samplers(2)[..1]);
        assert!(alone.contains("No sampler to compare with random"));
    }

    fn run_with_share(share: &str) -> Record {
        Record {
            file: "runs.csv".into(),
            line: 2,
            fields: [(REALISED_HARD_SHARE.to_string(), share.to_string())].into(),
        }
    }

    #[test]
    fn sampler_lines_show_the_settings_used_and_the_realised_hard_share() {
        let mut summaries = summary::tests::two_samplers(2);
        let runs = [run_with_share("0.5"), run_with_share("0.7")];
        let line = sampler_line(&summaries[1], &runs.iter().collect::<Vec<_>>()).unwrap();
        assert!(
            line.starts_with("- hard: plugin hard 1.0.0; settings: the plugin's defaults;"),
            "{line}"
        );
        assert!(
            line.contains("realised hard share 0.600") && !line.contains("{}"),
            "{line}"
        );
        assert!(line.ends_with("; false-negative share n/a\n"), "{line}");
        summaries[1].false_negatives = Some(summary::FalseNegatives {
            share: 0.01234,
            cosine: 0.95,
        });
        let line = sampler_line(&summaries[1], &runs.iter().collect::<Vec<_>>()).unwrap();
        assert!(
            line.ends_with(
                "; false-negative share 0.0123 (of in-batch pairs, at description cosine >= 0.95)\n"
            ),
            "{line}"
        );
        for (field, value) in &mut summaries[1].identity {
            if *field == SamplerField::Config {
                *value = r#"{"hard_ratio":0.7}"#.to_string();
            }
        }
        let runs = [run_with_share("")];
        let line = sampler_line(&summaries[1], &runs.iter().collect::<Vec<_>>()).unwrap();
        assert!(
            line.contains("settings: hard_ratio=0.7 (other parameters at the plugin's defaults)"),
            "{line}"
        );
        assert!(line.contains("realised hard share n/a"), "{line}");
    }
}

//! Report files of a comparison, all derived from its CSV files so that `harness report` can
//! regenerate them: `summary.csv`, `summary.md` and the SVG plots.

pub mod csv_file;
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
use plot::{Estimate, Point, Series, interval_chart, line_chart};
use runs::{RunSet, read_records};
use schema::{ContextField, EPOCH, MetricColumn, SamplerField};
use stats::Summary;
use summary::{
    SamplerSummary, markdown_table, results_table, summarise, summary_columns, summary_context,
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

/// Writes `summary.csv`, `summary.md`, `mrr_by_epoch.svg` and `final_mrr.svg` in `folder` from
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
            }
        })
        .collect();
    let final_chart = interval_chart(
        "Final text->item MRR (mean and 95% CI over seeds)",
        "MRR",
        &estimates,
    );
    write_atomically(&folder.join("final_mrr.svg"), final_chart.as_bytes())?;
    Ok(results_table(&summaries))
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
    Ok(line_chart(
        "Text->item MRR by epoch (mean and 95% CI over seeds)",
        "epoch",
        "MRR",
        &series,
    ))
}

/// `summary.md`: the table, the protocol and the environment, for a CI job summary.
fn markdown(set: &RunSet, summaries: &[SamplerSummary]) -> Result<String> {
    let first = set.of(set.baseline())[0];
    let field = |field: ContextField| first.text(field.name()).map(str::to_string);
    let mut text = format!(
        "# Sampler comparison\n\nText->item retrieval on the held-out split ({}), final epoch; mean ± 95% CI half-width over seeds.\n\n",
        field(ContextField::Dataset)?
    );
    text.push_str(&markdown_table(summaries));
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
        let identity: Vec<String> = s
            .identity
            .iter()
            .map(|(field, value)| format!("{} {value}", field.name()))
            .collect();
        let seeds: Vec<String> = s.seeds.iter().map(u64::to_string).collect();
        text.push_str(&format!(
            "- {}: {}; seeds {}\n",
            s.label,
            identity.join(", "),
            seeds.join(", ")
        ));
    }
    text.push_str("\nPlots: `mrr_by_epoch.svg`, `final_mrr.svg`. Data: `runs.csv`, `epochs.csv`, `summary.csv`, per-run folders.\n");
    Ok(text)
}

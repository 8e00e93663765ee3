//! Per-sampler summaries over seeds, the `summary.csv` rows and the terminal results table.

use models::Evaluation;

use super::records::{RowBuilder, RunRecord, SamplerIdentity};
use crate::report::csv_file::Row;
use crate::report::stats::Summary;
use crate::table::TextTable;

/// Reads one metric out of an evaluation.
pub type MetricFn = fn(&Evaluation) -> f64;

/// The final-epoch metrics summarised over seeds, in column order.
pub const SUMMARY_METRICS: [(&str, MetricFn); 10] = [
    ("text_to_item_mrr", |e| e.text_to_item.mrr),
    ("text_to_item_r1", |e| e.text_to_item.recall_at_1),
    ("text_to_item_r5", |e| e.text_to_item.recall_at_5),
    ("text_to_item_r10", |e| e.text_to_item.recall_at_10),
    ("text_to_item_mean_rank", |e| e.text_to_item.mean_rank),
    ("item_to_text_mrr", |e| e.item_to_text.mrr),
    ("item_to_text_r1", |e| e.item_to_text.recall_at_1),
    ("item_to_text_r5", |e| e.item_to_text.recall_at_5),
    ("item_to_text_r10", |e| e.item_to_text.recall_at_10),
    ("item_to_text_mean_rank", |e| e.item_to_text.mean_rank),
];

/// One sampler's results over its seeds.
#[derive(Debug, Clone)]
pub struct SamplerSummary {
    pub sampler: SamplerIdentity,
    pub is_baseline: bool,
    pub seeds: Vec<u64>,
    /// Per metric of [`SUMMARY_METRICS`]: the summary and the gain in % of the baseline's mean.
    pub metrics: Vec<(Summary, Option<f64>)>,
}

/// Summarises finished runs per sampler, in `labels` order; the first label is the baseline.
/// Samplers without finished runs are left out.
pub fn summarise(runs: &[RunRecord], labels: &[String]) -> Vec<SamplerSummary> {
    let per_sampler = |label: &String| -> Option<(SamplerIdentity, Vec<u64>, Vec<Summary>)> {
        let mine: Vec<&RunRecord> = runs.iter().filter(|r| &r.sampler.label == label).collect();
        let first = mine.first()?;
        let summaries = SUMMARY_METRICS
            .iter()
            .map(|(_, metric)| {
                let values: Vec<f64> = mine.iter().map(|r| metric(&r.last().evaluation)).collect();
                Summary::of(&values)
            })
            .collect();
        Some((
            first.sampler.clone(),
            mine.iter().map(|r| r.seed).collect(),
            summaries,
        ))
    };
    let baseline = labels
        .first()
        .and_then(per_sampler)
        .map(|(_, _, summaries)| summaries);
    labels
        .iter()
        .enumerate()
        .filter_map(|(index, label)| {
            let (sampler, seeds, summaries) = per_sampler(label)?;
            let metrics = summaries
                .into_iter()
                .enumerate()
                .map(|(m, summary)| {
                    let gain = baseline
                        .as_ref()
                        .and_then(|base| gain_pct(summary.mean, base[m].mean));
                    (summary, gain)
                })
                .collect();
            Some(SamplerSummary {
                sampler,
                is_baseline: index == 0,
                seeds,
                metrics,
            })
        })
        .collect()
}

/// Relative change in percent; `None` when the baseline is zero.
pub fn gain_pct(value: f64, baseline: f64) -> Option<f64> {
    (baseline != 0.0).then(|| (value - baseline) / baseline * 100.0)
}

/// The `summary.csv` rows.
pub fn summary_rows(summaries: &[SamplerSummary]) -> Vec<Row> {
    summaries
        .iter()
        .map(|s| {
            let row = RowBuilder::default()
                .text("sampler", &s.sampler.label)
                .text("plugin", &s.sampler.plugin)
                .text("plugin_version", &s.sampler.version)
                .text("sampler_config", &s.sampler.config_json)
                .text("baseline", s.is_baseline)
                .text("n_seeds", s.seeds.len());
            SUMMARY_METRICS
                .iter()
                .zip(&s.metrics)
                .fold(row, |row, ((name, _), (summary, gain))| {
                    row.number(&format!("{name}_mean"), summary.mean)
                        .optional(&format!("{name}_std"), summary.std)
                        .optional(&format!("{name}_ci95_low"), summary.ci95.map(|c| c.0))
                        .optional(&format!("{name}_ci95_high"), summary.ci95.map(|c| c.1))
                        .optional(&format!("{name}_gain_pct"), *gain)
                })
                .build()
        })
        .collect()
}

/// The header of `summary.csv` (fixed before any run finishes).
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
    for (name, _) in SUMMARY_METRICS {
        for suffix in ["mean", "std", "ci95_low", "ci95_high", "gain_pct"] {
            header.push(format!("{name}_{suffix}"));
        }
    }
    header
}

/// The results table in the reference's shape: text->item retrieval, mean ± 95% CI half-width
/// over seeds, and the MRR gain against the baseline.
pub fn results_table(summaries: &[SamplerSummary]) -> String {
    let mut table = TextTable::new([
        "Configuration",
        "Seeds",
        "MRR",
        "R@1",
        "R@5",
        "R@10",
        "Gain",
    ]);
    let cell = |(summary, _): &(Summary, Option<f64>)| match summary.half_width() {
        Some(half) => format!("{:.3} ± {:.3}", summary.mean, half),
        None => format!("{:.3}", summary.mean),
    };
    for s in summaries {
        let name = if s.is_baseline {
            format!("{} (baseline)", s.sampler.label)
        } else {
            s.sampler.label.clone()
        };
        let gain = match (s.is_baseline, s.metrics[0].1) {
            (true, _) => "-".to_string(),
            (false, Some(gain)) => format!("{gain:+.1}%"),
            (false, None) => "n/a".to_string(),
        };
        table.row([
            name,
            s.seeds.len().to_string(),
            cell(&s.metrics[0]),
            cell(&s.metrics[1]),
            cell(&s.metrics[2]),
            cell(&s.metrics[3]),
            gain,
        ]);
    }
    format!(
        "Text->item retrieval on the held-out split, final epoch (mean ± 95% CI half-width over seeds):\n{}",
        table.render()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::stats::Summary;

    fn summary(label: &str, baseline: bool, mrr: &[f64]) -> SamplerSummary {
        let base = Summary::of(&[0.385, 0.390, 0.380]);
        let mine = Summary::of(mrr);
        SamplerSummary {
            sampler: SamplerIdentity {
                label: label.into(),
                plugin: label.into(),
                version: "1.0.0".into(),
                abi: "1.0".into(),
                config_json: "{}".into(),
            },
            is_baseline: baseline,
            seeds: vec![1, 2, 3],
            metrics: SUMMARY_METRICS
                .iter()
                .map(|_| (mine, gain_pct(mine.mean, base.mean)))
                .collect(),
        }
    }

    #[test]
    fn results_table_format() {
        let table = results_table(&[
            summary("random", true, &[0.385, 0.390, 0.380]),
            summary("hard", false, &[0.43, 0.425, 0.427]),
        ]);
        insta::assert_snapshot!(table, @r"
        Text->item retrieval on the held-out split, final epoch (mean ± 95% CI half-width over seeds):
        Configuration     | Seeds | MRR           | R@1           | R@5           | R@10          | Gain
        ------------------|-------|---------------|---------------|---------------|---------------|-------
        random (baseline) | 3     | 0.385 ± 0.012 | 0.385 ± 0.012 | 0.385 ± 0.012 | 0.385 ± 0.012 | -
        hard              | 3     | 0.427 ± 0.006 | 0.427 ± 0.006 | 0.427 ± 0.006 | 0.427 ± 0.006 | +11.0%
        ");
    }
}

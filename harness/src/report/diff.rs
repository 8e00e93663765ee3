//! `harness diff A B`: two comparison folders set against each other, sampler by sampler, with
//! the paired statistics of the reports: B minus A over the (seed, query) pairs of the seeds
//! both runs finished, a hierarchical bootstrap CI, a sign-flip test Holm-corrected over the
//! samplers compared, and the same significance rule (at least 3 paired seeds).
//!
//! Queries pair only on the same held-out data, so runs on another dataset or dataset
//! fingerprint are refused. Every other difference (protocol version, epochs, settings, plugin
//! versions, harness or libtorch version) is what a diff is for: it is listed above the table,
//! whose differences include its effect.

use std::path::Path;

use anyhow::{Result, bail};

use super::runs::RunSet;
use super::schema::{ContextField, Direction, Metric, MetricColumn, SEED, SamplerField};
use super::summary::{
    ALPHA, Comparison, MIN_PAIRED_SEEDS, Side, Verdict, corrected_per_direction,
    paired_tests_between, seed_list,
};
use crate::table::TextTable;

/// The context fields that must agree: with other held-out data, queries do not pair.
const SAME_DATA: [ContextField; 2] = [ContextField::Dataset, ContextField::DatasetFingerprint];

/// The sampler fields whose differences are listed (the label is what matches samplers).
const SAMPLER_FIELDS: [SamplerField; 4] = [
    SamplerField::Plugin,
    SamplerField::Version,
    SamplerField::Abi,
    SamplerField::Config,
];

/// One sampler in both runs.
struct Matched<'a> {
    label: &'a str,
    /// Seeds both runs finished, in A's order.
    seeds: Vec<u64>,
    only_a: Vec<u64>,
    only_b: Vec<u64>,
    /// Per direction: the mean final MRR over the paired seeds in A and in B.
    means: Vec<(f64, f64)>,
}

/// The `harness diff` text for folders `a` and `b`.
pub fn diff(a: &Path, b: &Path) -> Result<String> {
    let (runs_a, runs_b) = (RunSet::load(a)?, RunSet::load(b)?);
    let (first_a, first_b) = (
        runs_a.of(runs_a.baseline())[0],
        runs_b.of(runs_b.baseline())[0],
    );
    for field in SAME_DATA {
        let (in_a, in_b) = (first_a.text(field.name())?, first_b.text(field.name())?);
        if in_a != in_b {
            bail!(
                "not comparable: {} is {in_a} in {} but {in_b} in {}; queries pair only on the same held-out data",
                field.name(),
                a.display(),
                b.display()
            );
        }
    }
    let mut text = format!(
        "A: {} ({})\nB: {} ({})\n",
        a.display(),
        runs_a.samplers.join(", "),
        b.display(),
        runs_b.samplers.join(", ")
    );
    let mut differences = Vec::new();
    for field in ContextField::ALL {
        let (in_a, in_b) = (first_a.text(field.name())?, first_b.text(field.name())?);
        if in_a != in_b {
            differences.push(format!("{}: {in_a} in A, {in_b} in B", field.name()));
        }
    }
    let mut matched = Vec::new();
    let mut notes = Vec::new();
    for label in &runs_a.samplers {
        if !runs_b.samplers.contains(label) {
            notes.push(format!(
                "{label}: only in A ({})",
                seeds_named(&runs_a.seeds(label)?)
            ));
            continue;
        }
        let (record_a, record_b) = (runs_a.of(label)[0], runs_b.of(label)[0]);
        for field in SAMPLER_FIELDS {
            let (in_a, in_b) = (record_a.text(field.name())?, record_b.text(field.name())?);
            if in_a != in_b {
                differences.push(format!(
                    "{label} {}: {in_a} in A, {in_b} in B",
                    field.name()
                ));
            }
        }
        let m = match_sampler(&runs_a, &runs_b, label)?;
        let mut missing = Vec::new();
        for (seeds, side) in [(&m.only_a, "A"), (&m.only_b, "B")] {
            if !seeds.is_empty() {
                missing.push(format!("{} only in {side}", seeds_named(seeds)));
            }
        }
        if m.seeds.is_empty() {
            missing.push("no seed in both runs: not compared".to_string());
        }
        if !missing.is_empty() {
            notes.push(format!("{label}: {}", missing.join("; ")));
        }
        matched.push(m);
    }
    for label in runs_b
        .samplers
        .iter()
        .filter(|s| !runs_a.samplers.contains(s))
    {
        notes.push(format!(
            "{label}: only in B ({})",
            seeds_named(&runs_b.seeds(label)?)
        ));
    }
    if matched.is_empty() {
        bail!(
            "no sampler is in both runs ({} has {}; {} has {})",
            a.display(),
            runs_a.samplers.join(", "),
            b.display(),
            runs_b.samplers.join(", ")
        );
    }
    if !differences.is_empty() {
        text.push_str("Settings that differ (the differences below include their effect):\n");
        for line in &differences {
            text.push_str(&format!("  {line}\n"));
        }
    }
    let tests = paired(a, b, &matched)?;
    text.push_str(&format!(
        "\nFinal MRR, B minus A, paired over (seed, query) on the seeds both runs finished:\n{}",
        table(&matched, &tests)
    ));
    text.push_str(&footnote(&tests, matched.len()));
    if !notes.is_empty() {
        text.push_str("Left out (in one run only):\n");
        for note in notes {
            text.push_str(&format!("  {note}\n"));
        }
    }
    Ok(text)
}

/// `seed 3` or `seeds 3, 4`.
fn seeds_named(seeds: &[u64]) -> String {
    let noun = if seeds.len() == 1 { "seed" } else { "seeds" };
    format!("{noun} {}", seed_list(seeds))
}

/// The seeds of `label` in both runs and its mean final MRR over them in each.
fn match_sampler<'a>(runs_a: &RunSet, runs_b: &RunSet, label: &'a str) -> Result<Matched<'a>> {
    let (seeds_a, seeds_b) = (runs_a.seeds(label)?, runs_b.seeds(label)?);
    let seeds: Vec<u64> = seeds_a
        .iter()
        .copied()
        .filter(|s| seeds_b.contains(s))
        .collect();
    let mean = |runs: &RunSet, direction: Direction| -> Result<f64> {
        let column = MetricColumn {
            direction,
            metric: Metric::Mrr,
        }
        .to_string();
        let values = runs
            .of(label)
            .into_iter()
            .filter(|r| r.number(SEED).is_ok_and(|s| seeds.contains(&(s as u64))))
            .map(|r| r.number(&column))
            .collect::<Result<Vec<f64>>>()?;
        Ok(values.iter().sum::<f64>() / values.len().max(1) as f64)
    };
    let means = Direction::ALL
        .iter()
        .map(|&direction| Ok((mean(runs_a, direction)?, mean(runs_b, direction)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Matched {
        label,
        only_a: seeds_a
            .iter()
            .copied()
            .filter(|s| !seeds.contains(s))
            .collect(),
        only_b: seeds_b
            .iter()
            .copied()
            .filter(|s| !seeds.contains(s))
            .collect(),
        seeds,
        means,
    })
}

/// Per direction, per matched sampler: B minus A, Holm-corrected over the samplers compared.
fn paired(a: &Path, b: &Path, matched: &[Matched]) -> Result<Vec<Vec<Option<Comparison>>>> {
    let mut per_sampler = Vec::new();
    for m in matched {
        let side = |folder| Side {
            folder,
            sampler: m.label,
        };
        per_sampler.push(paired_tests_between(side(b), side(a), &m.seeds)?);
    }
    Ok(corrected_per_direction(&per_sampler))
}

/// One row per matched sampler and direction.
fn table(matched: &[Matched], tests: &[Vec<Option<Comparison>>]) -> String {
    let mut table = TextTable::new([
        "Sampler",
        "Direction",
        "Seeds",
        "MRR A",
        "MRR B",
        "B - A",
        "95% CI",
        "p (Holm)",
        "B wins",
        "Verdict",
    ]);
    for (index, m) in matched.iter().enumerate() {
        for &direction in Direction::ALL {
            let Some(c) = tests[direction.index()][index] else {
                continue;
            };
            let (mean_a, mean_b) = m.means[direction.index()];
            let (p, verdict) = match c.verdict {
                Verdict::Significant => (format!("{:.4}", c.p_holm), "significant *"),
                Verdict::NotSignificant => (format!("{:.4}", c.p_holm), "not significant"),
                Verdict::TooFewSeeds => (format!("{:.4} †", c.p_holm), "untested †"),
            };
            table.row([
                m.label.to_string(),
                direction.name().replace("_to_", "->"),
                m.seeds.len().to_string(),
                format!("{mean_a:.3}"),
                format!("{mean_b:.3}"),
                format!("{:+.4}", c.test.mean_difference),
                format!("{:+.4} to {:+.4}", c.test.ci95.0, c.test.ci95.1),
                p,
                format!("{}/{}", c.test.seeds_won, c.test.seeds),
                verdict.to_string(),
            ]);
        }
    }
    table.render()
}

/// What the marks mean, as under the reports' tables.
fn footnote(tests: &[Vec<Option<Comparison>>], compared: usize) -> String {
    let verdicts: Vec<Verdict> = tests
        .iter()
        .flatten()
        .flatten()
        .map(|c| c.verdict)
        .collect();
    let mut text = String::new();
    if verdicts.iter().any(|v| *v != Verdict::TooFewSeeds) {
        text.push_str(&format!(
            "* significant: p < {ALPHA} in a paired randomisation test over seeds x queries{}, and the 95% hierarchical bootstrap CI of the MRR difference excludes 0.\n",
            if compared > 1 {
                format!(", Holm-corrected over {compared} samplers")
            } else {
                String::new()
            }
        ));
    }
    if verdicts.contains(&Verdict::TooFewSeeds) {
        text.push_str(&format!(
            "† fewer than {MIN_PAIRED_SEEDS} paired seeds: no significance claimed.\n"
        ));
    }
    text.push_str("B wins: seeds on which B's MRR beats A's.\n");
    text
}

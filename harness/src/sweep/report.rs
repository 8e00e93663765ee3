//! A sweep's reports, read from its comparison's `summary.csv`: `sweep.csv` (one row per cell),
//! `sweep.svg` (a line plot for one key, a heatmap of the gain for two) and the terminal table.

use std::path::Path;

use anyhow::Result;

use super::grid::{Cell, Grid, GridAxis};
use crate::report::csv_file::{Columns, CsvTable, write_atomically};
use crate::report::plot::{
    Categories, Estimate, HeatCell, Heatmap, Point, Series, YAxis, heatmap, interval_chart,
    line_chart,
};
use crate::report::runs::{Record, read_records};
use crate::report::schema::{BASELINE, MetricColumn, N_SEEDS, PairedStat, SamplerField, SeedStat};
use crate::report::summary::{ALPHA, MIN_PAIRED_SEEDS, Verdict};
use crate::table::TextTable;

/// File names of the sweep's reports.
pub const SWEEP_CSV: &str = "sweep.csv";
pub const SWEEP_PLOT: &str = "sweep.svg";

/// One cell with its row of the comparison's summary (none when no run of it finished).
struct CellResult {
    values: Vec<String>,
    label: String,
    summary: Option<Record>,
}

impl CellResult {
    /// A summary cell as written there (empty when absent).
    fn text(&self, column: &str) -> String {
        self.summary
            .as_ref()
            .and_then(|r| r.fields.get(column).cloned())
            .unwrap_or_default()
    }

    fn number(&self, column: &str) -> Option<f64> {
        self.text(column).parse().ok()
    }

    fn mean(&self) -> Option<f64> {
        self.number(&SeedStat::Mean.column(MetricColumn::HEADLINE))
    }

    fn ci95(&self) -> Option<(f64, f64)> {
        let metric = MetricColumn::HEADLINE;
        self.number(&SeedStat::Ci95Low.column(metric))
            .zip(self.number(&SeedStat::Ci95High.column(metric)))
    }

    fn gain(&self) -> Option<f64> {
        self.number(&SeedStat::GainPct.column(MetricColumn::HEADLINE))
    }

    /// The verdict of the paired test against the baseline, as the summary decided it.
    fn verdict(&self) -> Option<Verdict> {
        let direction = MetricColumn::HEADLINE.direction;
        self.number(&PairedStat::PHolm.column(direction))?;
        let won = self.text(&PairedStat::SeedsWon.column(direction));
        let paired: usize = won.split_once('/')?.1.parse().ok()?;
        Some(if paired < MIN_PAIRED_SEEDS {
            Verdict::TooFewSeeds
        } else if self.text(&PairedStat::Significant.column(direction)) == "true" {
            Verdict::Significant
        } else {
            Verdict::NotSignificant
        })
    }

    /// The gain as the table and heatmap write it: `+2.1%`, marked `*` when significant and
    /// `†` when untested.
    fn marked_gain(&self) -> String {
        let mark = match self.verdict() {
            Some(Verdict::Significant) => " *",
            Some(Verdict::TooFewSeeds) => " †",
            _ => "",
        };
        self.gain()
            .map_or("n/a".to_string(), |g| format!("{g:+.1}%{mark}"))
    }
}

/// The summary columns `sweep.csv` copies for each cell: its seeds, text->item MRR with CI and
/// gain, and the paired test against the baseline.
fn copied_columns() -> Vec<String> {
    let metric = MetricColumn::HEADLINE;
    let direction = metric.direction;
    let mut columns = vec![N_SEEDS.to_string()];
    columns.extend(
        [
            SeedStat::Mean,
            SeedStat::Ci95Low,
            SeedStat::Ci95High,
            SeedStat::GainPct,
        ]
        .map(|stat| stat.column(metric)),
    );
    columns.extend(
        [
            PairedStat::MrrDiff,
            PairedStat::MrrDiffCi95Low,
            PairedStat::MrrDiffCi95High,
            PairedStat::PValue,
            PairedStat::PHolm,
            PairedStat::Significant,
            PairedStat::SeedsWon,
        ]
        .map(|stat| stat.column(direction)),
    );
    columns
}

/// The columns of `sweep.csv`: `parameter_<key>` per grid key (as hyperfine names them), the
/// cell's sampler label, then the copied summary columns at full precision.
fn sweep_columns(grid: &Grid) -> Columns<CellResult> {
    let columns = grid
        .axes
        .iter()
        .enumerate()
        .fold(Columns::new(), |columns, (index, axis)| {
            columns.text(
                format!("parameter_{}", axis.key),
                move |c: &CellResult, _| c.values[index].clone(),
            )
        })
        .text(SamplerField::Label.name(), |c, _| c.label.clone());
    copied_columns().into_iter().fold(columns, |columns, name| {
        columns.text(name.clone(), move |c: &CellResult, _| c.text(&name))
    })
}

/// Writes `sweep.csv` and (for one or two keys) `sweep.svg` in `folder` from its
/// `summary.csv`; returns the terminal table.
pub fn write(folder: &Path, sampler: &str, grid: &Grid) -> Result<String> {
    let summary = read_records(&folder.join("summary.csv"))?;
    let label = SamplerField::Label.name();
    let row_of = |name: &str| {
        summary
            .iter()
            .find(|r| r.fields.get(label).is_some_and(|l| l == name))
            .cloned()
    };
    let baseline = summary
        .iter()
        .find(|r| r.fields.get(BASELINE).is_some_and(|b| b == "true"))
        .map(|r| CellResult {
            values: Vec::new(),
            label: super::BASELINE.to_string(),
            summary: Some(r.clone()),
        });
    let cells: Vec<CellResult> = grid
        .cells()
        .into_iter()
        .map(|Cell { values }| {
            let label = grid.label(
                sampler,
                &Cell {
                    values: values.clone(),
                },
            );
            CellResult {
                summary: row_of(&label),
                values,
                label,
            }
        })
        .collect();
    CsvTable::create(folder.join(SWEEP_CSV), sweep_columns(grid))?.append(&(), &cells)?;
    let plot = match grid.axes.len() {
        1 => Some(one_key_plot(sampler, grid, &cells, baseline.as_ref())),
        2 => Some(two_key_heatmap(sampler, grid, &cells)),
        _ => None,
    };
    match &plot {
        Some(svg) => write_atomically(&folder.join(SWEEP_PLOT), svg.as_bytes())?,
        None => {
            // A stale plot from an earlier grid must not pass for this one.
            let _ = std::fs::remove_file(folder.join(SWEEP_PLOT));
        }
    }
    Ok(table(
        sampler,
        grid,
        &cells,
        baseline.as_ref(),
        plot.is_some(),
    ))
}

/// Text->item MRR `0.123 ± 0.010` (no ± with one seed), or `n/a`.
fn mrr_text(cell: &CellResult) -> String {
    match (cell.mean(), cell.ci95()) {
        (Some(mean), Some((low, high))) => format!("{mean:.3} ± {:.3}", (high - low) / 2.0),
        (Some(mean), None) => format!("{mean:.3}"),
        _ => "n/a".to_string(),
    }
}

/// The terminal table: one row per cell with its values, seeds, MRR, gain and Holm p.
fn table(
    sampler: &str,
    grid: &Grid,
    cells: &[CellResult],
    baseline: Option<&CellResult>,
    plotted: bool,
) -> String {
    let keys = grid.axes.iter().map(|axis| axis.key.clone());
    let mut table = TextTable::new(
        keys.chain(
            ["Seeds", "MRR", "Gain", "p (Holm)"]
                .into_iter()
                .map(String::from),
        ),
    );
    for cell in cells {
        let p_holm = cell
            .number(&PairedStat::PHolm.column(MetricColumn::HEADLINE.direction))
            .map_or("n/a".to_string(), |p| format!("{p:.4}"));
        table.row(cell.values.iter().cloned().chain([
            cell.text(N_SEEDS),
            mrr_text(cell),
            cell.marked_gain(),
            p_holm,
        ]));
    }
    let mut text = format!(
        "Sweep of {sampler}: text->item MRR on the held-out split, final epoch (mean ± 95% CI half-width over seeds), against {} {}:\n{}",
        super::BASELINE,
        baseline.map_or("n/a".to_string(), mrr_text),
        table.render()
    );
    let verdicts: Vec<Verdict> = cells.iter().filter_map(CellResult::verdict).collect();
    if verdicts.iter().any(|v| *v != Verdict::TooFewSeeds) {
        text.push_str(&format!(
            "* significant: p < {ALPHA} in a paired randomisation test over seeds x queries, Holm-corrected over all {} cells, and the 95% bootstrap CI of the MRR difference excludes 0.\n",
            cells.len()
        ));
    }
    if verdicts.contains(&Verdict::TooFewSeeds) {
        text.push_str(&format!(
            "† fewer than {MIN_PAIRED_SEEDS} paired seeds: no significance claimed (run --seeds {MIN_PAIRED_SEEDS} or more).\n"
        ));
    }
    if !plotted {
        text.push_str(&format!(
            "No {SWEEP_PLOT}: a plot shows one or two keys, this grid has {}.\n",
            grid.axes.len()
        ));
    }
    text
}

/// One key: MRR with its CI per value, against the baseline's (a flat line and band); over the
/// values themselves when all are numbers, else one point per value.
fn one_key_plot(
    sampler: &str,
    grid: &Grid,
    cells: &[CellResult],
    baseline: Option<&CellResult>,
) -> String {
    let key = &grid.axes[0].key;
    let title = format!("{sampler}: text->item MRR by {key} (mean, 95% CI over seeds)");
    let numeric: Option<Vec<f64>> = cells.iter().map(|c| c.values[0].parse().ok()).collect();
    match numeric {
        Some(xs) => {
            // Each cell's point, or with `instead`, that result drawn at every cell's x.
            let points = |instead: Option<&CellResult>| -> Vec<Point> {
                cells
                    .iter()
                    .zip(&xs)
                    .filter_map(|(cell, &x)| {
                        let cell = instead.unwrap_or(cell);
                        cell.mean().map(|y| Point {
                            x,
                            y,
                            band: cell.ci95(),
                        })
                    })
                    .collect()
            };
            let mut series = vec![Series {
                label: sampler.to_string(),
                points: points(None),
            }];
            if let Some(baseline) = baseline {
                series.push(Series {
                    label: super::BASELINE.to_string(),
                    points: points(Some(baseline)),
                });
            }
            line_chart(&title, key, "MRR", &series)
        }
        None => {
            let estimates: Vec<Estimate> = baseline
                .into_iter()
                .chain(cells)
                .filter_map(|cell| {
                    let name = cell.values.first().unwrap_or(&cell.label);
                    cell.mean().map(|value| Estimate {
                        label: name.clone(),
                        value,
                        interval: cell.ci95(),
                        legend: format!("{name} {value:.3}"),
                    })
                })
                .collect();
            interval_chart(&title, "MRR", &estimates, YAxis::FromZero)
        }
    }
}

/// Two keys: a heatmap of the gain against the baseline, the first key down, the second across,
/// each cell showing its gain (marked as in the table) and MRR.
fn two_key_heatmap(sampler: &str, grid: &Grid, cells: &[CellResult]) -> String {
    let (rows, columns) = (&grid.axes[0], &grid.axes[1]);
    let categories = |axis: &GridAxis| Categories {
        label: axis.key.clone(),
        values: axis.values.clone(),
    };
    let heat_cells = cells
        .chunks(columns.values.len())
        .map(|row| {
            row.iter()
                .map(|cell| HeatCell {
                    value: cell.gain(),
                    lines: vec![cell.marked_gain(), mrr_text(cell)],
                })
                .collect()
        })
        .collect();
    heatmap(&Heatmap {
        title: format!(
            "{sampler}: text->item MRR gain over {} (* significant, † untested)",
            super::BASELINE
        ),
        rows: categories(rows),
        columns: categories(columns),
        cells: heat_cells,
        unit: "%".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `summary.csv` in `folder` with the baseline and `cells` (label, MRR mean, gain, p_holm,
    /// significant, seeds won) in the columns a sweep reads.
    fn write_summary(folder: &Path, cells: &[(&str, f64, f64, f64, bool, &str)]) {
        let mut header = vec![SamplerField::Label.name().to_string(), BASELINE.to_string()];
        header.extend(copied_columns());
        let mut rows = vec![header.join(",")];
        rows.push("random,true,3,0.5,0.45,0.55,,,,,,,,".to_string());
        for (label, mean, gain, p_holm, significant, won) in cells {
            rows.push(format!(
                "\"{label}\",false,3,{mean},{},{},{gain},0.01,0.0,0.02,{p_holm},{p_holm},{significant},{won}",
                mean - 0.05,
                mean + 0.05
            ));
        }
        std::fs::write(folder.join("summary.csv"), rows.join("\n") + "\n").unwrap();
    }

    fn grid(axes: &[&str]) -> Grid {
        Grid::new(axes.iter().map(|a| a.parse().unwrap()).collect()).unwrap()
    }

    #[test]
    fn two_keys_give_a_row_per_cell_a_heatmap_and_marked_gains() {
        let folder = tempfile::tempdir().unwrap();
        let grid = grid(&["hard_ratio=0.3,0.7", "hardness_k=10,30"]);
        write_summary(
            folder.path(),
            &[
                (
                    "hard[hard_ratio:0.3,hardness_k:10]",
                    0.6,
                    20.0,
                    0.001,
                    true,
                    "3/3",
                ),
                (
                    "hard[hard_ratio:0.3,hardness_k:30]",
                    0.45,
                    -10.0,
                    0.2,
                    false,
                    "1/3",
                ),
                (
                    "hard[hard_ratio:0.7,hardness_k:10]",
                    0.52,
                    4.0,
                    0.5,
                    false,
                    "1/2",
                ),
            ],
        );
        let table = write(folder.path(), "hard", &grid).unwrap();
        let rows = read_records(&folder.path().join(SWEEP_CSV)).unwrap();
        assert_eq!(rows.len(), 4, "one row per cell, the unfinished one too");
        assert_eq!(rows[1].text("parameter_hard_ratio").unwrap(), "0.3");
        assert_eq!(rows[1].text("parameter_hardness_k").unwrap(), "30");
        assert_eq!(rows[1].text("text_to_item_mrr_gain_pct").unwrap(), "-10");
        assert_eq!(rows[3].text("text_to_item_mrr_mean").unwrap(), "");
        assert!(
            table.contains("+20.0% *") && table.contains("-10.0%"),
            "{table}"
        );
        assert!(
            table.contains("+4.0% †") && table.contains("† fewer than 3"),
            "{table}"
        );
        assert!(table.contains("against random 0.500 ± 0.050"), "{table}");
        assert!(table.contains("Holm-corrected over all 4 cells"), "{table}");
        let svg = std::fs::read_to_string(folder.path().join(SWEEP_PLOT)).unwrap();
        assert!(svg.contains("+20.0% *") && svg.contains("hardness_k"));
        assert_eq!(
            svg.matches("n/a").count(),
            2,
            "the unfinished cell: gain and MRR"
        );
    }

    #[test]
    fn one_key_draws_lines_and_three_keys_no_plot() {
        let folder = tempfile::tempdir().unwrap();
        write_summary(
            folder.path(),
            &[
                ("hard[hard_ratio:0.3]", 0.6, 20.0, 0.001, true, "3/3"),
                ("hard[hard_ratio:0.7]", 0.4, -20.0, 0.001, true, "0/3"),
            ],
        );
        write(folder.path(), "hard", &grid(&["hard_ratio=0.3,0.7"])).unwrap();
        let svg = std::fs::read_to_string(folder.path().join(SWEEP_PLOT)).unwrap();
        assert_eq!(
            svg.matches("<polyline").count(),
            2,
            "the sampler and random"
        );
        assert!(svg.contains("by hard_ratio"));
        write_summary(
            folder.path(),
            &[("hard[a:1,b:2,c:3]", 0.6, 20.0, 0.001, true, "3/3")],
        );
        let table = write(folder.path(), "hard", &grid(&["a=1", "b=2", "c=3"])).unwrap();
        assert!(table.contains("No sweep.svg: a plot shows one or two keys, this grid has 3"));
        assert!(!folder.path().join(SWEEP_PLOT).exists(), "no stale plot");
    }
}

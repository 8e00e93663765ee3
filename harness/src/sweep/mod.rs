//! `harness sweep`: one sampler under every combination of some parameters' values, each
//! compared with `random` on the same seeds.
//!
//! A sweep is a comparison whose sampler list is `random` plus one labelled entry per grid cell
//! (`hard[hard_ratio:0.3]`, configured with the cell's `--set` values), so it runs, isolates,
//! resumes and tests exactly as `compare` does (the summary's Holm correction spans every cell).
//! Its own reports, `sweep.csv`, `sweep.svg` and the terminal table, are read from that
//! comparison's `summary.csv`; the grid is read back from the plan's labels, so `--resume DIR`
//! needs no other file.

pub mod grid;
pub mod report;

use anyhow::{Context, Result, bail};

use crate::compare::plan::{CompareArgs, ComparePlan, timestamped_out_dir};
use crate::plugin::PluginRegistry;
use crate::sampler_set::{SamplerSetting, SamplerSpec};
use grid::{Grid, GridAxis};

/// The sampler every cell is compared with.
pub const BASELINE: &str = "random";

/// Flags of `harness sweep`: the swept sampler and its grid, and every `compare` flag but
/// `--samplers`.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg("samplers", |arg| arg.hide(true)))]
pub struct SweepArgs {
    /// Sampler to sweep: a plugin name or a path to a plugin library (not `random`, the
    /// baseline of every cell).
    #[arg(long, value_name = "NAME", required_unless_present = "resume")]
    pub sampler: Option<String>,
    /// A parameter and the values it takes, e.g. --grid hard_ratio=0.3,0.5,0.7 (repeatable; the
    /// cells are every combination).
    #[arg(long = "grid", value_name = "KEY=V1,V2,...")]
    pub grid: Vec<GridAxis>,
    #[command(flatten)]
    pub compare: CompareArgs,
}

/// A validated sweep: the comparison that runs it, and its grid.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    pub compare: ComparePlan,
    /// The swept plugin's name.
    pub sampler: String,
    pub grid: Grid,
}

impl SweepArgs {
    /// Checks the flags and turns them into a comparison of `random` and every cell; with
    /// `--resume`, reads the sweep back from the folder's plan.
    pub fn plan(&self, registry: &PluginRegistry) -> Result<SweepPlan> {
        if !self.compare.settings.samplers.is_empty() {
            bail!(
                "--samplers does not apply to a sweep: its samplers are {BASELINE} and one per grid cell of --sampler"
            );
        }
        let mut args = self.compare.clone();
        match &self.sampler {
            Some(target) => {
                let grid = Grid::new(self.grid.clone())?;
                let plugin = registry.resolve(target).context("--sampler")?;
                if plugin.name == BASELINE {
                    bail!(
                        "--sampler {target}: {BASELINE} is the baseline every cell is compared with; sweep another sampler"
                    );
                }
                args.settings.samplers = samplers(target, &plugin.name, &grid);
                args.settings.sets = settings(&plugin.name, target, &grid, &args.settings.sets)?;
                if args.out.is_none() && args.resume.is_none() {
                    args.out = Some(timestamped_out_dir(&format!("sweep-{}", plugin.name)));
                }
            }
            None if !self.grid.is_empty() => bail!("--grid needs --sampler NAME"),
            None => {}
        }
        let compare = args.plan()?;
        let labels = &compare.settings.samplers;
        let Some((sampler, grid)) = read_back(labels) else {
            bail!(
                "{}: this comparison is not a sweep (its samplers are {}); continue it with harness compare --resume",
                compare.out.display(),
                labels
                    .iter()
                    .map(SamplerSpec::short_name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        Ok(SweepPlan {
            compare,
            sampler,
            grid,
        })
    }
}

/// `random`, then one labelled entry per cell.
fn samplers(target: &str, name: &str, grid: &Grid) -> Vec<SamplerSpec> {
    let cells = grid.cells().into_iter().map(|cell| SamplerSpec {
        label: Some(grid.label(name, &cell)),
        target: target.to_string(),
    });
    std::iter::once(SamplerSpec {
        label: None,
        target: BASELINE.to_string(),
    })
    .chain(cells)
    .collect()
}

/// Every cell's `--set` values: its grid values, and the `--set` flags given for the swept
/// sampler (by its name or as given to --sampler); `--set random.KEY=...` stays as it is.
fn settings(
    name: &str,
    target: &str,
    grid: &Grid,
    given: &[SamplerSetting],
) -> Result<Vec<SamplerSetting>> {
    let mut fixed = Vec::new();
    let mut out = Vec::new();
    for setting in given {
        if setting.label == BASELINE {
            out.push(setting.clone());
        } else if setting.label == name || setting.label == target {
            if grid.axes.iter().any(|axis| axis.key == setting.key) {
                bail!(
                    "--set {setting}: '{}' is swept by --grid; give its values there only",
                    setting.key
                );
            }
            fixed.push(setting);
        } else {
            bail!(
                "--set {setting}: names sampler '{}', but a sweep runs only {BASELINE} and {name}",
                setting.label
            );
        }
    }
    for cell in grid.cells() {
        let label = grid.label(name, &cell);
        let swept = grid
            .settings(&cell)
            .map(|(key, value)| (key.to_string(), value));
        let kept = fixed.iter().map(|s| (s.key.clone(), s.value.clone()));
        out.extend(swept.chain(kept).map(|(key, value)| SamplerSetting {
            label: label.clone(),
            key,
            value,
        }));
    }
    Ok(out)
}

/// The swept sampler and grid behind a comparison's sampler list (`random`, then one labelled
/// entry per cell), or `None` when the comparison is not a sweep.
pub fn read_back(samplers: &[SamplerSpec]) -> Option<(String, Grid)> {
    match samplers.split_first() {
        Some((baseline, cells)) if baseline.target == BASELINE => {
            Grid::from_labels(cells.iter().filter_map(|s| s.label.as_deref()))
        }
        _ => None,
    }
}

/// `sweep.csv`, `sweep.svg` and the sweep table of a planned folder when it holds a sweep with
/// finished runs (for `harness report`, e.g. after the runs went through a cluster); `None`
/// otherwise.
pub fn report_if_sweep(folder: &std::path::Path) -> Result<Option<String>> {
    let plan = crate::compare::plan_file::PlanFile::read(folder)?;
    match read_back(&plan.settings.samplers) {
        Some((sampler, grid)) => Ok(Some(report::write(folder, &sampler, &grid)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(axes: &[&str]) -> Grid {
        Grid::new(axes.iter().map(|a| a.parse().unwrap()).collect()).unwrap()
    }

    #[test]
    fn the_samplers_are_random_then_one_labelled_entry_per_cell() {
        let specs = samplers("hard", "hard", &grid(&["hard_ratio=0.3,0.7"]));
        let text: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "random",
                "hard[hard_ratio:0.3]=hard",
                "hard[hard_ratio:0.7]=hard"
            ]
        );
        for (spec, text) in specs.iter().zip(&text) {
            assert_eq!(&text.parse::<SamplerSpec>().unwrap(), spec, "round trip");
        }
    }

    #[test]
    fn cells_get_their_values_and_the_fixed_settings_and_read_back() {
        let grid = grid(&["hard_ratio=0.3,0.7"]);
        let given: Vec<SamplerSetting> = vec!["hard.hardness_k=30".parse().unwrap()];
        let sets = settings("hard", "hard", &grid, &given).unwrap();
        let text: Vec<String> = sets.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "hard[hard_ratio:0.3].hard_ratio=0.3",
                "hard[hard_ratio:0.3].hardness_k=30",
                "hard[hard_ratio:0.7].hard_ratio=0.7",
                "hard[hard_ratio:0.7].hardness_k=30",
            ]
        );
        for (setting, text) in sets.iter().zip(&text) {
            assert_eq!(
                &text.parse::<SamplerSetting>().unwrap(),
                setting,
                "round trip"
            );
        }
        let clash: Vec<SamplerSetting> = vec!["hard.hard_ratio=0.5".parse().unwrap()];
        let error = settings("hard", "hard", &grid, &clash)
            .unwrap_err()
            .to_string();
        assert!(error.contains("'hard_ratio' is swept by --grid"), "{error}");
        let other: Vec<SamplerSetting> = vec!["curriculum.x=1".parse().unwrap()];
        let error = settings("hard", "hard", &grid, &other)
            .unwrap_err()
            .to_string();
        assert!(error.contains("names sampler 'curriculum'"), "{error}");
    }
}

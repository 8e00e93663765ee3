//! The parameter grid of a sweep: `--grid KEY=V1,V2,...` axes, their cells, and the sampler
//! label that names each cell (and from which a sweep folder's grid is read back).

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};
use serde_json::Value;

/// One `--grid KEY=V1,V2,...`: a sampler parameter and the values it takes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridAxis {
    pub key: String,
    pub values: Vec<String>,
}

/// Whether `text` can stand in a cell's label, which becomes part of run folder names and must
/// parse back through `--samplers` and `--set` (so no `=`, `/`, `,` or whitespace).
fn label_safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'))
}

impl FromStr for GridAxis {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (key, values) = text
            .split_once('=')
            .ok_or_else(|| format!("'{text}': expected KEY=V1,V2,..."))?;
        let key = key.trim();
        if !label_safe(key) {
            return Err(format!(
                "'{text}': the key must be a parameter name (letters, digits, '_', '.', '+', '-')"
            ));
        }
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if let Some(bad) = values.iter().find(|v| !label_safe(v)) {
            return Err(if bad.is_empty() {
                format!("'{text}': an empty value; give {key}=V1,V2,...")
            } else {
                format!(
                    "'{text}': value '{bad}' may hold only letters, digits, '_', '.', '+' and '-' (it becomes part of folder names)"
                )
            });
        }
        if let Some(again) = values
            .iter()
            .enumerate()
            .find_map(|(i, v)| values[..i].contains(v).then_some(v))
        {
            return Err(format!("'{text}': value '{again}' is listed twice"));
        }
        Ok(GridAxis {
            key: key.to_string(),
            values,
        })
    }
}

impl fmt::Display for GridAxis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.values.join(","))
    }
}

/// A checked grid: one or more axes with distinct keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub axes: Vec<GridAxis>,
}

/// One point of the grid: a value per axis, in axis order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub values: Vec<String>,
}

impl Grid {
    /// Checks that there is an axis and that no key is given twice.
    pub fn new(axes: Vec<GridAxis>) -> Result<Self> {
        if axes.is_empty() {
            bail!("--grid is required: e.g. --grid hard_ratio=0.3,0.5,0.7");
        }
        for (i, axis) in axes.iter().enumerate() {
            if axes[..i].iter().any(|a| a.key == axis.key) {
                bail!(
                    "--grid {}: the key '{}' has two --grid flags; list all its values in one",
                    axis,
                    axis.key
                );
            }
        }
        Ok(Grid { axes })
    }

    /// Every cell, the first axis varying slowest.
    pub fn cells(&self) -> Vec<Cell> {
        self.axes
            .iter()
            .fold(vec![Cell { values: Vec::new() }], |cells, axis| {
                cells
                    .iter()
                    .flat_map(|cell| {
                        axis.values.iter().map(|value| {
                            let mut values = cell.values.clone();
                            values.push(value.clone());
                            Cell { values }
                        })
                    })
                    .collect()
            })
    }

    /// The label of a cell of `sampler`'s sweep: `hard[hard_ratio:0.3,hardness_k:30]`.
    pub fn label(&self, sampler: &str, cell: &Cell) -> String {
        let pairs: Vec<String> = self
            .axes
            .iter()
            .zip(&cell.values)
            .map(|(axis, value)| format!("{}:{value}", axis.key))
            .collect();
        format!("{sampler}[{}]", pairs.join(","))
    }

    /// The sampler settings of a cell: each key with its value (JSON when it parses as JSON,
    /// as `--set` reads it).
    pub fn settings<'a>(&'a self, cell: &'a Cell) -> impl Iterator<Item = (&'a str, Value)> {
        self.axes.iter().zip(&cell.values).map(|(axis, value)| {
            (
                axis.key.as_str(),
                serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.clone())),
            )
        })
    }

    /// The grid and swept sampler name behind a sweep's cell labels (in plan order), or `None`
    /// when the labels are not those of a sweep.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a str>) -> Option<(String, Grid)> {
        let mut sampler: Option<String> = None;
        let mut axes: Vec<GridAxis> = Vec::new();
        let mut cells = 0;
        for label in labels {
            let (name, inner) = label.strip_suffix(']')?.split_once('[')?;
            if sampler.get_or_insert_with(|| name.to_string()) != name {
                return None;
            }
            let pairs: Vec<(&str, &str)> = inner
                .split(',')
                .map(|pair| pair.split_once(':'))
                .collect::<Option<_>>()?;
            if cells == 0 {
                axes = pairs
                    .iter()
                    .map(|(key, _)| GridAxis {
                        key: key.to_string(),
                        values: Vec::new(),
                    })
                    .collect();
            }
            if pairs.len() != axes.len() {
                return None;
            }
            for (axis, (key, value)) in axes.iter_mut().zip(pairs) {
                if axis.key != key {
                    return None;
                }
                if !axis.values.iter().any(|v| v == value) {
                    axis.values.push(value.to_string());
                }
            }
            cells += 1;
        }
        let grid = Grid { axes };
        (cells > 0 && grid.cells().len() == cells).then(|| (sampler.unwrap_or_default(), grid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(text: &str) -> GridAxis {
        text.parse().unwrap()
    }

    #[test]
    fn axes_parse_trimmed_values_in_order() {
        let parsed = axis(" hard_ratio = 0.3, 0.7 ,1");
        assert_eq!(parsed.key, "hard_ratio");
        assert_eq!(parsed.values, ["0.3", "0.7", "1"]);
        assert_eq!(parsed.to_string(), "hard_ratio=0.3,0.7,1");
        assert_eq!(axis("mode=fast").values, ["fast"]);
    }

    #[test]
    fn bad_axes_say_what_is_wrong() {
        for (text, expected) in [
            ("hard_ratio", "expected KEY=V1,V2"),
            ("=0.3", "must be a parameter name"),
            ("hard_ratio=", "an empty value"),
            ("hard_ratio=0.3,,0.7", "an empty value"),
            ("hard_ratio=0.3,0.3", "value '0.3' is listed twice"),
            ("mode=a/b", "value 'a/b' may hold only"),
            ("mode=a b", "value 'a b' may hold only"),
        ] {
            let error = text.parse::<GridAxis>().unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_grid_refuses_no_axes_and_a_repeated_key() {
        assert!(Grid::new(Vec::new()).is_err());
        let error = Grid::new(vec![axis("hard_ratio=0.3"), axis("hard_ratio=0.7")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("'hard_ratio' has two --grid flags"),
            "{error}"
        );
    }

    #[test]
    fn cells_vary_the_last_axis_fastest_and_labels_read_back() {
        let grid = Grid::new(vec![
            axis("hard_ratio=0.3,0.7"),
            axis("hardness_k=10,30,50"),
        ])
        .unwrap();
        let cells = grid.cells();
        assert_eq!(cells.len(), 6);
        assert_eq!(cells[1].values, ["0.3", "30"]);
        assert_eq!(cells[3].values, ["0.7", "10"]);
        let labels: Vec<String> = cells.iter().map(|c| grid.label("hard", c)).collect();
        assert_eq!(labels[0], "hard[hard_ratio:0.3,hardness_k:10]");
        let settings: Vec<(&str, Value)> = grid.settings(&cells[0]).collect();
        assert_eq!(
            settings,
            [
                ("hard_ratio", serde_json::json!(0.3)),
                ("hardness_k", serde_json::json!(10))
            ]
        );
        let (sampler, back) = Grid::from_labels(labels.iter().map(String::as_str)).unwrap();
        assert_eq!((sampler.as_str(), &back), ("hard", &grid));
        assert_eq!(Grid::from_labels(["hard", "curriculum"]), None);
        assert_eq!(
            Grid::from_labels(labels[..5].iter().map(String::as_str)),
            None
        );
        assert_eq!(Grid::from_labels(["hard[a:1]", "ance[a:2]"]), None);
    }
}

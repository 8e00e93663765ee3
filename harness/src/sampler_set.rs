//! Turns the command line's sampler list and `--set` overrides into configured samplers, and
//! owns the inputs they share (embeddings and the neighbour table).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Result, bail};
use sampler_api::SamplerData;
use serde_json::{Map, Value};

use crate::plugin::{ForeignSampler, LoadedPlugin, PluginRegistry};

/// One sampler of a comparison: its label, its plugin and its configuration.
#[derive(Debug)]
pub struct ConfiguredSampler {
    /// Unique name in this run (the plugin name, or `label` from `label=plugin`).
    pub label: String,
    pub config_json: String,
    pub sampler: ForeignSampler,
}

impl ConfiguredSampler {
    /// The plugin behind this sampler.
    pub fn plugin(&self) -> &LoadedPlugin {
        self.sampler.plugin()
    }

    /// The sampler as errors name it, once per chain: its label, and the plugin's name when it
    /// differs, with the library's path.
    pub fn describe(&self) -> String {
        describe(&self.label, self.plugin())
    }
}

fn describe(label: &str, plugin: &LoadedPlugin) -> String {
    if plugin.name == label {
        format!("sampler '{label}' ({})", plugin.path.display())
    } else {
        format!(
            "sampler '{label}' (plugin '{}', {})",
            plugin.name,
            plugin.path.display()
        )
    }
}

/// One entry of `--samplers`: a plugin name or library path, optionally under a label
/// (`LABEL=NAME-OR-PATH`, to run one plugin under two configurations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplerSpec {
    /// The label before `=`, if any.
    pub label: Option<String>,
    /// The plugin name or library path.
    pub target: String,
}

impl FromStr for SamplerSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (label, target) = match text.split_once('=') {
            Some((label, target)) => (Some(label.trim().to_string()), target.trim()),
            None => (None, text),
        };
        if target.is_empty() || label.as_deref() == Some("") {
            return Err(format!("empty sampler entry '{text}'"));
        }
        Ok(SamplerSpec {
            label,
            target: target.to_string(),
        })
    }
}

impl fmt::Display for SamplerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.label {
            Some(label) => write!(f, "{label}={}", self.target),
            None => f.write_str(&self.target),
        }
    }
}

impl SamplerSpec {
    /// A short name for folder names: the label, else the target's file stem or name.
    pub fn short_name(&self) -> &str {
        self.label.as_deref().unwrap_or_else(|| {
            Path::new(&self.target)
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or(&self.target)
        })
    }
}

/// One `--set SAMPLER.KEY=VALUE`; VALUE is JSON when it parses as JSON, else a string.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerSetting {
    pub label: String,
    pub key: String,
    pub value: Value,
}

impl FromStr for SamplerSetting {
    type Err = String;

    fn from_str(item: &str) -> Result<Self, String> {
        let expected = || format!("{item}: expected SAMPLER.KEY=VALUE");
        let (target, value) = item.split_once('=').ok_or_else(expected)?;
        // The key is after the last dot: a sweep's labels hold values such as 0.3.
        let (label, key) = target
            .rsplit_once('.')
            .filter(|(label, key)| !label.is_empty() && !key.is_empty())
            .ok_or_else(expected)?;
        Ok(SamplerSetting {
            label: label.to_string(),
            key: key.to_string(),
            value: serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string())),
        })
    }
}

impl fmt::Display for SamplerSetting {
    /// The `--set` text that parses back to this setting.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::String(text) if serde_json::from_str::<Value>(text).is_err() => {
                write!(f, "{}.{}={text}", self.label, self.key)
            }
            other => write!(f, "{}.{}={other}", self.label, self.key),
        }
    }
}

/// The settings grouped by sampler label; a key set twice is an error (which value was meant
/// cannot be guessed).
pub fn group_settings(settings: &[SamplerSetting]) -> Result<BTreeMap<String, Map<String, Value>>> {
    let mut grouped: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for setting in settings {
        let keys = grouped.entry(setting.label.clone()).or_default();
        if let Some(first) = keys.insert(setting.key.clone(), setting.value.clone()) {
            bail!(
                "--set {}.{} is given twice ({first} and {}): keep one",
                setting.label,
                setting.key,
                setting.value
            );
        }
    }
    Ok(grouped)
}

/// A sampler of the list, resolved to its library and configuration but not yet created (no
/// plugin code has run beyond its descriptor).
#[derive(Debug, Clone)]
pub struct ResolvedSampler {
    pub label: String,
    pub config_json: String,
    pub plugin: LoadedPlugin,
}

impl ResolvedSampler {
    /// Creates the sampler (runs the plugin's `create`).
    pub fn create(&self) -> Result<ConfiguredSampler> {
        let sampler = ForeignSampler::new(&self.plugin, &self.config_json).map_err(|e| {
            if self.label == self.plugin.name {
                anyhow::Error::new(e)
            } else {
                anyhow::Error::new(e).context(format!("sampler '{}'", self.label))
            }
        })?;
        Ok(ConfiguredSampler {
            label: self.label.clone(),
            config_json: self.config_json.clone(),
            sampler,
        })
    }

    /// The sampler as errors name it (see [`ConfiguredSampler::describe`]).
    pub fn describe(&self) -> String {
        describe(&self.label, &self.plugin)
    }
}

/// Resolves `specs` to libraries and gives each its overrides. Every override must name a
/// sampler of the list.
pub fn resolve_samplers(
    registry: &PluginRegistry,
    specs: &[SamplerSpec],
    overrides: &BTreeMap<String, Map<String, Value>>,
) -> Result<Vec<ResolvedSampler>> {
    let mut samplers: Vec<ResolvedSampler> = Vec::new();
    for spec in specs {
        let target = spec.target.as_str();
        // Errors name the plugin (by name or path) themselves; only a label is news to them.
        let plugin = registry.resolve(target).map_err(|e| match &spec.label {
            Some(label) => anyhow::Error::new(e).context(format!("sampler '{label}'")),
            None => e.into(),
        })?;
        let label = spec.label.clone().unwrap_or_else(|| plugin.name.clone());
        if samplers.iter().any(|s| s.label == label) {
            bail!(
                "sampler '{label}' is listed twice; give the second one a label, e.g. {label}2={target}"
            );
        }
        let config_json =
            Value::Object(overrides.get(&label).cloned().unwrap_or_default()).to_string();
        samplers.push(ResolvedSampler {
            label,
            config_json,
            plugin,
        });
    }
    if let Some(unknown) = overrides
        .keys()
        .find(|label| !samplers.iter().any(|s| &&s.label == label))
    {
        bail!(
            "--set names sampler '{unknown}', which is not in the list ({})",
            samplers
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(samplers)
}

/// The inputs every sampler of a run shares: embeddings and one neighbour table whose width is
/// the largest any sampler asks for.
#[derive(Debug, Clone)]
pub struct SamplerInputs {
    pub n_items: usize,
    pub dim: usize,
    pub embeddings: Vec<f32>,
    pub k: usize,
    pub neighbours: Vec<u32>,
}

impl SamplerInputs {
    /// Computes the neighbour table for the samplers' largest need (each a label and the
    /// neighbours per item it asks for).
    pub fn for_samplers<'a>(
        embeddings: Vec<f32>,
        dim: usize,
        needs: impl IntoIterator<Item = (&'a str, usize)>,
    ) -> Result<Self> {
        let n_items = embeddings.len() / dim.max(1);
        let mut k = 0;
        for (label, needed) in needs {
            if needed >= n_items {
                bail!(
                    "sampler '{label}' needs {needed} neighbours per item, but the dataset has only {n_items} items (k must be smaller): lower its hardness_k"
                );
            }
            k = k.max(needed);
        }
        Self::new(embeddings, dim, k)
    }

    /// Computes a neighbour table of width `k`, or reads it from the neighbour cache.
    pub fn new(embeddings: Vec<f32>, dim: usize, k: usize) -> Result<Self> {
        let n_items = embeddings.len() / dim.max(1);
        let neighbours = crate::neighbours::cache::cached_neighbour_table(&embeddings, dim, k)?;
        Ok(SamplerInputs {
            n_items,
            dim,
            embeddings,
            k,
            neighbours,
        })
    }

    /// A checked view for one run's batch size, seed and drop_last.
    pub fn view(&self, batch_size: usize, seed: u64, drop_last: bool) -> Result<SamplerData<'_>> {
        Ok(SamplerData::new(
            self.n_items,
            batch_size,
            seed,
            drop_last,
            &self.embeddings,
            self.dim,
            &self.neighbours,
            self.k,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_specs_are_trimmed_and_labels_kept() {
        let spec: SamplerSpec = " hard ".parse().unwrap();
        assert_eq!((spec.label, spec.target.as_str()), (None, "hard"));
        let spec: SamplerSpec = "easy = ./libhard_sampler.so".parse().unwrap();
        assert_eq!(spec.label.as_deref(), Some("easy"));
        assert_eq!(spec.short_name(), "easy");
        assert_eq!(spec.to_string(), "easy=./libhard_sampler.so");
        let path: SamplerSpec = "plugins/libmine.so".parse().unwrap();
        assert_eq!(path.short_name(), "libmine");
        for bad in ["", " ", "x=", "=hard"] {
            assert!(bad.parse::<SamplerSpec>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_parse_json_or_text_and_a_repeated_key_is_refused() {
        let ratio: SamplerSetting = "hard.hard_ratio=0.7".parse().unwrap();
        assert_eq!(ratio.value, serde_json::json!(0.7));
        let text: SamplerSetting = "hard.mode=fast".parse().unwrap();
        assert_eq!(text.value, serde_json::json!("fast"));
        assert!("hard=0.7".parse::<SamplerSetting>().is_err());
        let grouped = group_settings(&[ratio.clone(), text]).unwrap();
        assert_eq!(grouped["hard"].len(), 2);
        for text in [
            "hard.hard_ratio=0.7",
            "hard.mode=fast",
            "hard.name=\"0.7\"",
            "hard[hard_ratio:0.3].hard_ratio=0.3",
        ] {
            let setting: SamplerSetting = text.parse().unwrap();
            assert_eq!(setting.to_string().parse::<SamplerSetting>(), Ok(setting));
        }
        let again: SamplerSetting = "hard.hard_ratio=0.5".parse().unwrap();
        let error = group_settings(&[ratio, again]).unwrap_err().to_string();
        assert!(error.contains("given twice (0.7 and 0.5)"), "{error}");
    }
}

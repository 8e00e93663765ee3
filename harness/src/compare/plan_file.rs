//! `plan.json`: everything a comparison will run, written into its folder before any training.
//! Worker processes read their run from it, `--resume` checks a continued comparison against
//! it, and its plugin hashes and dataset fingerprint catch inputs that changed in between.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::plan::RunSettings;
use crate::fnv::Fnv1a;
use crate::report::csv_file::write_atomically;

/// File name of the plan in a comparison folder.
pub const PLAN_FILE: &str = "plan.json";

/// Version of the plan's layout; a harness reads only its own.
pub const PLAN_FORMAT: u32 = 1;

/// A comparison's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub format: u32,
    pub harness_version: String,
    pub protocol_version: String,
    /// The flags that decide the results.
    pub settings: RunSettings,
    pub dataset: PlannedDataset,
    /// Width of the shared neighbour table (the largest any sampler asks for).
    pub neighbour_k: usize,
    /// In `--samplers` order; the first is the baseline.
    pub samplers: Vec<PlannedSampler>,
    /// Seed-major: every sampler's run for a seed comes before the next seed's, so a comparison
    /// stopped early still holds paired results.
    pub runs: Vec<PlannedRun>,
}

/// The dataset a plan was made for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedDataset {
    pub name: String,
    pub fingerprint: String,
}

/// One configured sampler: the library it runs (by path and content hash) and its config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedSampler {
    pub label: String,
    pub plugin: String,
    pub version: String,
    pub abi: String,
    pub library: PathBuf,
    /// FNV-1a of the library's bytes, 16 hex digits.
    pub library_hash: String,
    pub config: String,
}

/// One sampler x seed run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedRun {
    pub sampler: String,
    pub seed: u64,
}

impl PlanFile {
    /// Reads `folder/plan.json`, refusing another layout version.
    pub fn read(folder: &Path) -> Result<Self> {
        let path = folder.join(PLAN_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            if folder.is_dir() {
                format!(
                    "{}: no plan here; only a folder written by `harness compare` can be resumed",
                    path.display()
                )
            } else {
                format!("{}: no such comparison folder", folder.display())
            }
        })?;
        let format = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("format").and_then(serde_json::Value::as_u64));
        if format.is_some_and(|f| f != u64::from(PLAN_FORMAT)) {
            bail!(
                "{}: plan format {} (this harness reads format {PLAN_FORMAT})",
                path.display(),
                format.unwrap_or_default()
            );
        }
        serde_json::from_str(&text).with_context(|| format!("{}: not a valid plan", path.display()))
    }

    /// Writes `folder/plan.json` atomically.
    pub fn write(&self, folder: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        write_atomically(&folder.join(PLAN_FILE), text.as_bytes())
    }

    /// The planned sampler of a label.
    pub fn sampler(&self, label: &str) -> Result<&PlannedSampler> {
        self.samplers
            .iter()
            .find(|s| s.label == label)
            .with_context(|| format!("{PLAN_FILE}: no sampler '{label}'"))
    }

    /// Where this plan and `stored` (the folder's) disagree on something that decides results,
    /// each difference in words; empty when a resumed comparison may keep the stored runs.
    pub fn differences_from(&self, stored: &PlanFile) -> Vec<String> {
        let mut differences = Vec::new();
        let mut differ = |what: &str, ours: &str, theirs: &str| {
            if ours != theirs {
                differences.push(format!("{what}: {theirs} there, {ours} now"));
            }
        };
        differ(
            "harness version",
            &self.harness_version,
            &stored.harness_version,
        );
        differ("protocol", &self.protocol_version, &stored.protocol_version);
        differ(
            "dataset fingerprint",
            &self.dataset.fingerprint,
            &stored.dataset.fingerprint,
        );
        differ(
            "neighbour table width",
            &self.neighbour_k.to_string(),
            &stored.neighbour_k.to_string(),
        );
        for (ours, theirs) in self.samplers.iter().zip(&stored.samplers) {
            let what = |field: &str| format!("sampler '{}' {field}", ours.label);
            differ(&what("label"), &ours.label, &theirs.label);
            differ(
                &what(&format!("library {}", ours.library.display())),
                &ours.library_hash,
                &theirs.library_hash,
            );
            differ(&what("configuration"), &ours.config, &theirs.config);
        }
        if self.samplers.len() != stored.samplers.len() {
            differences.push(format!(
                "samplers: {} there, {} now",
                stored.samplers.len(),
                self.samplers.len()
            ));
        }
        differences
    }
}

/// FNV-1a of a plugin library's bytes, naming the file on failure.
pub fn library_hash(path: &Path) -> Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading plugin {}", path.display()))?;
    let mut hash = Fnv1a::new();
    hash.feed(&bytes);
    Ok(hash.hex())
}

//! `harness compare` flags, validated once into a plan with messages that name the flag.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use models::{ItemEncoderKind, LinearTemperature, ProtocolConfig, TextTowerKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::{DisplayFromStr, serde_as};

use super::plan_file::PlanFile;

use crate::dataset::{DatasetChoice, DatasetSpec, Manifest};
use crate::device::DeviceChoice;
use crate::sampler_set::{SamplerSetting, SamplerSpec};

/// The flags that decide a comparison's results: its samplers, seeds, protocol and data. They
/// are stored in the output folder's `plan.json` (by their command-line text), so a worker
/// process, a resumed comparison and a later check all read the same settings.
#[serde_as]
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// Samplers to compare, comma-separated; the first is the baseline. Each is a plugin name,
    /// a path to a plugin library, or LABEL=NAME-OR-PATH to run one plugin under two configurations.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    #[serde_as(as = "Vec<DisplayFromStr>")]
    pub samplers: Vec<SamplerSpec>,
    /// Run seeds 1..=N (each seed fixes the initial weights and the batches).
    #[arg(
        long,
        default_value_t = 5,
        conflicts_with = "seed_list",
        value_name = "N"
    )]
    pub seeds: u64,
    /// Explicit seeds, comma-separated (instead of --seeds).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub seed_list: Vec<u64>,
    /// Training epochs.
    #[arg(long, default_value_t = 20)]
    pub epochs: u32,
    /// Pairs per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// AdamW learning rate.
    #[arg(long, allow_negative_numbers = true, default_value_t = 3e-4)]
    pub lr: f64,
    /// AdamW weight decay.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// InfoNCE temperature (the end point of --temp-schedule).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.07)]
    pub temp: f64,
    /// Anneal the temperature linearly from 0.1 to --temp over the epochs (the reference's option).
    #[arg(long)]
    pub temp_schedule: bool,
    /// Largest gradient norm before each step.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub grad_clip: f64,
    /// Sampler setting, e.g. --set hard.hard_ratio=0.7 (repeatable; VALUE is JSON or text).
    #[arg(long = "set", value_name = "SAMPLER.KEY=VALUE")]
    #[serde(rename = "set")]
    #[serde_as(as = "Vec<DisplayFromStr>")]
    pub sets: Vec<SamplerSetting>,
    /// Dataset: synthetic (built in), chebi20 (the shared folder layout in --data-dir) or the
    /// path of a dataset manifest (.json).
    #[arg(long, default_value = "synthetic", value_name = "NAME|MANIFEST")]
    #[serde_as(as = "DisplayFromStr")]
    pub dataset: DatasetChoice,
    /// Folder of --dataset chebi20: train.tsv, test.tsv, train.minilm.npy, test.minilm.npy.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Stop at a SMILES that does not parse instead of skipping its pair (and listing it).
    #[arg(long)]
    pub strict: bool,
    /// Item encoder: mlp, graph-transformer, fingerprint-mlp or torchscript:PATH (a module
    /// saved from PyTorch: forward(x: [B, F]) -> [B, D] on dense items, forward(x, edge_index,
    /// edge_attr, batch, num_graphs) -> [B, D] on molecules; see the README) [default: mlp for
    /// dense items (synthetic, manifests with items files), graph-transformer for molecules].
    #[arg(long, value_name = "NAME")]
    #[serde_as(as = "Option<DisplayFromStr>")]
    pub item_encoder: Option<ItemEncoderKind>,
    /// Text side: mlp, frozen, projection or torchscript:PATH (forward(x: [B, E]) -> [B, D])
    /// [default: mlp for synthetic, frozen for datasets on disk].
    #[arg(long, visible_alias = "text-encoder", value_name = "NAME")]
    #[serde_as(as = "Option<DisplayFromStr>")]
    pub text_tower: Option<TextTowerKind>,
    /// Leave out each epoch's short last batch (for every sampler).
    #[arg(long)]
    pub drop_last: bool,
    /// Where tensors live: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    #[serde_as(as = "DisplayFromStr")]
    pub device: DeviceChoice,
    /// libtorch threads per run (fixed, so CPU results are reproducible).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

/// Flags of `harness compare`: the settings, and how and where to run them.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub settings: RunSettings,
    /// Output folder (must be new or empty); default: a new folder under ./runs.
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the interrupted (or partly failed) comparison in DIR: its finished runs are
    /// kept after checking they match, the others run. The folder's plan.json supplies the
    /// settings; flags given with --samplers must repeat them exactly.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Runs at once, each in its own worker process (with --threads libtorch threads each).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// Stop a run that takes longer than this (e.g. 90s, 30m, 2h) and record it as failed.
    #[arg(long, value_name = "DURATION")]
    pub run_timeout: Option<RunTimeout>,
    /// Print only the final table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run every run inside this process instead of worker processes (for a debugger; a
    /// crashing plugin then takes the harness down).
    #[arg(long, hide = true, conflicts_with_all = ["jobs", "run_timeout"])]
    pub in_process: bool,
    /// Check everything and write the plan (DIR/plan.json) without training: its runs are then
    /// executed by `harness run --plan DIR` (one at a time, e.g. as Slurm array tasks, or all
    /// here) and merged by `harness report DIR`.
    #[arg(long, requires = "out", conflicts_with_all = ["resume", "in_process", "jobs", "run_timeout"])]
    pub plan_only: bool,
}

/// `--run-timeout`: seconds, or a number with `s`, `m` or `h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunTimeout(pub Duration);

impl FromStr for RunTimeout {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
            Some((at, _)) => text.split_at(at),
            None => (text, "s"),
        };
        let scale = match unit {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => return Err(format!("unknown unit '{other}' in '{text}': use s, m or h")),
        };
        match number.trim().parse::<f64>() {
            Ok(value) if value > 0.0 && value.is_finite() => {
                Ok(RunTimeout(Duration::from_secs_f64(value * scale)))
            }
            _ => Err(format!(
                "'{text}' is not a positive duration (e.g. 90s, 30m, 2h)"
            )),
        }
    }
}

/// A validated comparison.
#[derive(Debug, Clone)]
pub struct ComparePlan {
    pub settings: RunSettings,
    pub seeds: Vec<u64>,
    pub protocol: ProtocolConfig,
    pub dataset: DatasetSpec,
    pub out: PathBuf,
    /// Whether `out` holds an interrupted comparison to continue.
    pub resume: bool,
    pub jobs: usize,
    pub run_timeout: Option<Duration>,
    pub quiet: bool,
    pub in_process: bool,
    /// Write the plan, train nothing.
    pub plan_only: bool,
}

impl ComparePlan {
    pub fn samplers(&self) -> &[SamplerSpec] {
        &self.settings.samplers
    }

    pub fn sets(&self) -> &[SamplerSetting] {
        &self.settings.sets
    }

    pub fn strict(&self) -> bool {
        self.settings.strict
    }

    pub fn drop_last(&self) -> bool {
        self.settings.drop_last
    }
}

impl CompareArgs {
    /// Checks every flag, naming the first bad one; with `--resume`, reads the folder's stored
    /// settings and checks that any given flags repeat them.
    pub fn plan(&self) -> Result<ComparePlan> {
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        let (settings, out) = match &self.resume {
            Some(folder) => (self.resumed_settings(folder)?, folder.clone()),
            None => {
                if self.settings.samplers.is_empty() {
                    bail!("--samplers is required (or --resume DIR to continue a comparison)");
                }
                let out = match &self.out {
                    Some(out) => out.clone(),
                    None => default_out_dir(&self.settings.samplers),
                };
                (self.settings.with_absolute_paths()?, out)
            }
        };
        let resolved = settings.resolve()?;
        Ok(ComparePlan {
            seeds: resolved.seeds,
            protocol: resolved.protocol,
            dataset: resolved.dataset,
            settings,
            out,
            resume: self.resume.is_some(),
            jobs: self.jobs,
            run_timeout: self.run_timeout.map(|t| t.0),
            quiet: self.quiet,
            in_process: self.in_process,
            plan_only: self.plan_only,
        })
    }

    /// The settings stored in `folder`, after checking the given flags against them.
    fn resumed_settings(&self, folder: &Path) -> Result<RunSettings> {
        let stored = PlanFile::read(folder)?.settings;
        let (given, against) = if self.settings.samplers.is_empty() {
            (self.settings.clone(), RunSettings::defaults())
        } else {
            (self.settings.with_absolute_paths()?, stored.clone())
        };
        let differing = differing_flags(&given, &against)?;
        if differing.is_empty() {
            return Ok(stored);
        }
        let flags = |describe: fn(&(String, Value, Value)) -> String| {
            differing
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.settings.samplers.is_empty() {
            bail!(
                "--resume {}: {} given without --samplers; leave out every setting (the folder's plan.json holds them) or repeat the original command in full",
                folder.display(),
                flags(|(flag, given, _)| format!("{flag} {given}"))
            );
        }
        bail!(
            "--resume {}: the comparison there was run with other settings: {}; continue it with its own flags (or none)",
            folder.display(),
            flags(|(flag, given, stored)| format!("{flag} ({given} here, {stored} in the plan)"))
        )
    }
}

/// Defaults, validation and storage of the settings.
impl RunSettings {
    /// Every flag at its default (no samplers).
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct SettingsOnly {
            #[command(flatten)]
            settings: RunSettings,
        }
        <SettingsOnly as clap::Parser>::try_parse_from(["compare"])
            .expect("every setting has a default")
            .settings
    }

    /// The settings with the data paths made absolute, so a worker started elsewhere (or a
    /// resumed comparison) reads the same files.
    fn with_absolute_paths(&self) -> Result<Self> {
        let mut settings = self.clone();
        if let Some(dir) = &settings.data_dir {
            settings.data_dir = Some(
                std::path::absolute(dir)
                    .with_context(|| format!("--data-dir {}", dir.display()))?,
            );
        }
        if let DatasetChoice::Manifest(path) = &settings.dataset {
            settings.dataset = DatasetChoice::Manifest(
                std::path::absolute(path)
                    .with_context(|| format!("--dataset {}", path.display()))?,
            );
        }
        Ok(settings)
    }

    /// Checks every setting, naming the first bad flag.
    pub fn resolve(&self) -> Result<ResolvedSettings> {
        self.device.ensure_usable().context("--device")?;
        let seeds: Vec<u64> = if self.seed_list.is_empty() {
            if self.seeds == 0 {
                bail!("--seeds must be at least 1");
            }
            (1..=self.seeds).collect()
        } else {
            self.seed_list.clone()
        };
        if let Some(seed) = seeds
            .iter()
            .enumerate()
            .find_map(|(i, s)| seeds[..i].contains(s).then_some(s))
        {
            bail!("--seed-list: seed {seed} is listed twice");
        }
        let dataset = self.dataset_spec()?;
        let (item_encoder, text_tower) = self.architecture(&dataset)?;
        let protocol = ProtocolConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.lr,
            weight_decay: self.weight_decay,
            grad_clip_norm: self.grad_clip,
            temperature: self.temp,
            temperature_schedule: self.temp_schedule.then_some(LinearTemperature {
                start: 0.1,
                end: self.temp,
            }),
            threads: self.threads,
            device: self.device.0,
            item_encoder,
            text_tower,
            ..ProtocolConfig::default()
        };
        protocol.validate().map_err(|error| match error {
            models::ModelError::InvalidConfig { field, reason } => {
                anyhow::anyhow!("invalid protocol setting {}: {reason}", flag_of(field))
            }
            other => anyhow::Error::new(other),
        })?;
        Ok(ResolvedSettings {
            seeds,
            protocol,
            dataset,
        })
    }

    /// The dataset's files, checked to exist (so a bad path fails before any work).
    fn dataset_spec(&self) -> Result<DatasetSpec> {
        let manifest = match (&self.dataset, &self.data_dir) {
            (DatasetChoice::Chebi20, Some(dir)) => Manifest::chebi20(dir),
            (DatasetChoice::Chebi20, None) => {
                let shared = std::path::Path::new("../shared/data/chebi20");
                let hint = if shared.join("train.tsv").is_file() {
                    "; the shared copy is at --data-dir ../shared/data/chebi20"
                } else {
                    ""
                };
                bail!(
                    "--dataset chebi20 needs --data-dir DIR, the folder holding train.tsv, test.tsv, train.minilm.npy and test.minilm.npy{hint}"
                )
            }
            (_, Some(_)) => bail!("--data-dir only applies to --dataset chebi20"),
            (DatasetChoice::Synthetic, None) => return Ok(DatasetSpec::Synthetic),
            (DatasetChoice::Manifest(path), None) => Manifest::read(path).context("--dataset")?,
        };
        manifest.check_files_exist().context("--dataset")?;
        Ok(DatasetSpec::Files(manifest))
    }

    /// The encoders: the flags, else the dataset's defaults; refuses an item encoder that cannot
    /// read the dataset's items.
    fn architecture(&self, dataset: &DatasetSpec) -> Result<(ItemEncoderKind, TextTowerKind)> {
        let molecules = dataset.has_molecules();
        let item_encoder = self.item_encoder.clone().unwrap_or(if molecules {
            ItemEncoderKind::GraphTransformer
        } else {
            ItemEncoderKind::Mlp
        });
        let text_tower = self.text_tower.clone().unwrap_or(match dataset {
            DatasetSpec::Synthetic => TextTowerKind::Mlp,
            DatasetSpec::Files(_) => TextTowerKind::Frozen,
        });
        match (item_encoder.reads(molecules), molecules) {
            (false, false) => bail!(
                "--item-encoder {item_encoder} reads molecules, but the dataset's items are dense vectors: use mlp or torchscript:PATH"
            ),
            (false, true) => bail!(
                "--item-encoder {item_encoder} reads dense vectors, but a molecule dataset has graphs: use graph-transformer, fingerprint-mlp or torchscript:PATH"
            ),
            (true, _) => Ok((item_encoder, text_tower)),
        }
    }
}

/// What valid settings resolve to.
#[derive(Debug, Clone)]
pub struct ResolvedSettings {
    pub seeds: Vec<u64>,
    pub protocol: ProtocolConfig,
    pub dataset: DatasetSpec,
}

/// The flags whose values differ between two settings: the flag, its value in `given` and in
/// `other`.
fn differing_flags(
    given: &RunSettings,
    other: &RunSettings,
) -> Result<Vec<(String, Value, Value)>> {
    let (Value::Object(given), Value::Object(other)) =
        (serde_json::to_value(given)?, serde_json::to_value(other)?)
    else {
        unreachable!("settings serialise as objects");
    };
    Ok(given
        .into_iter()
        .filter(|(key, value)| other.get(key.as_str()) != Some(value))
        .map(|(key, value)| {
            let there = other.get(key.as_str()).cloned().unwrap_or(Value::Null);
            (format!("--{}", key.replace('_', "-")), value, there)
        })
        .collect())
}

/// The flag that sets a protocol field (the field itself, quoted, when no flag does).
fn flag_of(field: &str) -> String {
    let flag = match field {
        "learning_rate" => "--lr",
        "weight_decay" => "--weight-decay",
        "temperature" => "--temp",
        "temperature_schedule" => "--temp-schedule",
        "grad_clip_norm" => "--grad-clip",
        "batch_size" => "--batch-size",
        "epochs" => "--epochs",
        "threads" => "--threads",
        other => return format!("`{other}`"),
    };
    flag.to_string()
}

/// `runs/<unix seconds>-<samplers>`: new for every invocation, sorted by time.
fn default_out_dir(samplers: &[SamplerSpec]) -> PathBuf {
    let names: Vec<&str> = samplers.iter().map(SamplerSpec::short_name).collect();
    timestamped_out_dir(&names.join("-"))
}

/// `runs/<unix seconds>-<name>`.
pub fn timestamped_out_dir(name: &str) -> PathBuf {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("runs").join(format!("{seconds}-{name}"))
}

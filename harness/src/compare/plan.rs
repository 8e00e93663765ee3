//! `harness compare` flags, validated once into a plan with messages that name the flag.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use models::{ItemEncoderKind, LinearTemperature, ProtocolConfig, TextTowerKind};

use crate::dataset::{DatasetChoice, DatasetSpec, Manifest};
use crate::device::DeviceChoice;
use crate::sampler_set::{SamplerSetting, SamplerSpec};

/// Flags of `harness compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Samplers to compare, comma-separated; the first is the baseline. Each is a plugin name,
    /// a path to a plugin library, or LABEL=NAME-OR-PATH to run one plugin under two configurations.
    #[arg(long, value_delimiter = ',', required = true, value_name = "LIST")]
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
    pub sets: Vec<SamplerSetting>,
    /// Dataset: synthetic (built in), chebi20 (the shared folder layout in --data-dir) or the
    /// path of a dataset manifest (.json).
    #[arg(long, default_value = "synthetic", value_name = "NAME|MANIFEST")]
    pub dataset: DatasetChoice,
    /// Folder of --dataset chebi20: train.tsv, test.tsv, train.minilm.npy, test.minilm.npy.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Stop at a SMILES that does not parse instead of skipping its pair (and listing it).
    #[arg(long)]
    pub strict: bool,
    /// Item encoder: mlp, graph-transformer, fingerprint-mlp or torchscript:PATH (a module
    /// saved from PyTorch, forward(x: [B, F]) -> [B, D], on dense items) [default: mlp for dense
    /// items (synthetic, manifests with items files), graph-transformer for molecule datasets].
    #[arg(long, value_name = "NAME")]
    pub item_encoder: Option<ItemEncoderKind>,
    /// Text side: mlp, frozen, projection or torchscript:PATH (forward(x: [B, E]) -> [B, D])
    /// [default: mlp for synthetic, frozen for datasets on disk].
    #[arg(long, value_name = "NAME")]
    pub text_tower: Option<TextTowerKind>,
    /// Leave out each epoch's short last batch (for every sampler).
    #[arg(long)]
    pub drop_last: bool,
    /// Where tensors live: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// libtorch threads (fixed, so CPU results are reproducible).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Output folder (must be new or empty); default: a new folder under ./runs.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print only the final table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A validated comparison.
#[derive(Debug, Clone)]
pub struct ComparePlan {
    pub samplers: Vec<SamplerSpec>,
    pub sets: Vec<SamplerSetting>,
    pub seeds: Vec<u64>,
    pub protocol: ProtocolConfig,
    pub dataset: DatasetSpec,
    /// An unparsable SMILES is an error rather than a skipped pair.
    pub strict: bool,
    pub drop_last: bool,
    pub out: PathBuf,
    pub quiet: bool,
}

impl CompareArgs {
    /// Checks every flag, naming the first bad one.
    pub fn plan(&self) -> Result<ComparePlan> {
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
        let out = match &self.out {
            Some(out) => out.clone(),
            None => default_out_dir(&self.samplers),
        };
        Ok(ComparePlan {
            samplers: self.samplers.clone(),
            sets: self.sets.clone(),
            seeds,
            protocol,
            dataset,
            strict: self.strict,
            drop_last: self.drop_last,
            out,
            quiet: self.quiet,
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
        match (item_encoder.reads_graphs(), molecules) {
            (true, false) => bail!(
                "--item-encoder {item_encoder} reads molecules, but the dataset's items are dense vectors: use mlp"
            ),
            (false, true) => bail!(
                "--item-encoder {item_encoder} reads dense vectors, but a molecule dataset has graphs: use graph-transformer or fingerprint-mlp"
            ),
            _ => Ok((item_encoder, text_tower)),
        }
    }
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
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let names: Vec<&str> = samplers.iter().map(SamplerSpec::short_name).collect();
    PathBuf::from("runs").join(format!("{seconds}-{}", names.join("-")))
}

use std::fmt;
use std::str::FromStr;

use tch::Device;

use crate::loss::LinearTemperature;
use crate::script::ScriptFile;
use crate::{ModelError, Result};

/// Names the default protocol (MLP item and text towers); [`ProtocolConfig::protocol_version`]
/// names every architecture. Change it whenever results would change.
pub const PROTOCOL_VERSION: &str = "dual-mlp-infonce/1";

/// Prefix of a TorchScript tower on the command line: `torchscript:PATH`.
const SCRIPT_PREFIX: &str = "torchscript:";

/// Which network turns items into embeddings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemEncoderKind {
    /// Linear -> LayerNorm -> ReLU -> Linear on dense item vectors (the synthetic task).
    Mlp,
    /// The reference graph transformer on molecular graphs.
    GraphTransformer,
    /// A hashed circular fingerprint of each molecule, then an MLP: the quick molecule option.
    FingerprintMlp,
    /// A TorchScript module on dense item vectors or on molecular graphs, whichever the dataset
    /// holds (see [`crate::script`] for both contracts).
    TorchScript(ScriptFile),
}

/// Which network turns text features into embeddings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextTowerKind {
    /// Linear -> LayerNorm -> ReLU -> Linear into the shared space (the synthetic task).
    Mlp,
    /// The text features themselves, L2-normalised, never trained (the reference's choice for
    /// frozen description embeddings).
    Frozen,
    /// One trainable linear map of the text features (keeping their width), L2-normalised.
    Projection,
    /// A TorchScript module on the text features (see [`crate::script`]).
    TorchScript(ScriptFile),
}

impl ItemEncoderKind {
    /// Every built-in item encoder, in the order help text lists them.
    pub const ALL: [ItemEncoderKind; 3] = [
        ItemEncoderKind::Mlp,
        ItemEncoderKind::GraphTransformer,
        ItemEncoderKind::FingerprintMlp,
    ];

    /// The name flags and protocol versions use (`torchscript` for every TorchScript file).
    pub fn name(&self) -> &'static str {
        match self {
            ItemEncoderKind::Mlp => "mlp",
            ItemEncoderKind::GraphTransformer => "graph-transformer",
            ItemEncoderKind::FingerprintMlp => "fingerprint-mlp",
            ItemEncoderKind::TorchScript(_) => "torchscript",
        }
    }

    /// Revision of the encoder's architecture, part of the protocol version: 2 for the molecule
    /// encoders since they follow the PyTorch reference (its initialisation, attention dropout,
    /// batch LayerNorm, tanh attention pooling, evaluation in batches of 64).
    fn revision(&self) -> u32 {
        match self {
            ItemEncoderKind::Mlp | ItemEncoderKind::TorchScript(_) => 1,
            ItemEncoderKind::GraphTransformer | ItemEncoderKind::FingerprintMlp => 2,
        }
    }

    /// Whether the encoder reads items of this form: molecular graphs when `molecules`, dense
    /// vectors otherwise. A TorchScript tower reads either (its contract follows the dataset).
    pub fn reads(&self, molecules: bool) -> bool {
        match self {
            ItemEncoderKind::Mlp => !molecules,
            ItemEncoderKind::GraphTransformer | ItemEncoderKind::FingerprintMlp => molecules,
            ItemEncoderKind::TorchScript(_) => true,
        }
    }
}

impl TextTowerKind {
    /// Every built-in text tower, in the order help text lists them.
    pub const ALL: [TextTowerKind; 3] = [
        TextTowerKind::Mlp,
        TextTowerKind::Frozen,
        TextTowerKind::Projection,
    ];

    /// The name flags and protocol versions use (`torchscript` for every TorchScript file).
    pub fn name(&self) -> &'static str {
        match self {
            TextTowerKind::Mlp => "mlp",
            TextTowerKind::Frozen => "frozen",
            TextTowerKind::Projection => "projection",
            TextTowerKind::TorchScript(_) => "torchscript",
        }
    }
}

/// The part of a protocol version naming a tower: its name, and for a TorchScript file the
/// digest of its bytes (so two files never share a version).
fn version_part(name: &str, script: Option<&ScriptFile>) -> String {
    match script {
        Some(file) => format!("{name}-{}", file.digest),
        None => name.to_string(),
    }
}

/// Parses `torchscript:PATH` (reading the file's digest) or one of the built-in `names`, or
/// says which names exist.
fn parse_named<T: Clone>(
    text: &str,
    all: &[T],
    name: fn(&T) -> &'static str,
    script: fn(ScriptFile) -> T,
) -> Result<T, String> {
    if let Some(path) = text.strip_prefix(SCRIPT_PREFIX) {
        return ScriptFile::read(std::path::Path::new(path)).map(script);
    }
    all.iter()
        .find(|kind| name(kind) == text)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(name).collect();
            format!(
                "unknown name '{text}': expected one of {} or {SCRIPT_PREFIX}PATH",
                names.join(", ")
            )
        })
}

impl FromStr for ItemEncoderKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        parse_named(text, &Self::ALL, Self::name, ItemEncoderKind::TorchScript)
    }
}

impl FromStr for TextTowerKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        parse_named(text, &Self::ALL, Self::name, TextTowerKind::TorchScript)
    }
}

impl fmt::Display for ItemEncoderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemEncoderKind::TorchScript(file) => file.fmt(f),
            other => f.write_str(other.name()),
        }
    }
}

impl fmt::Display for TextTowerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextTowerKind::TorchScript(file) => file.fmt(f),
            other => f.write_str(other.name()),
        }
    }
}

/// Every setting of the fixed protocol that samplers are compared under.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolConfig {
    /// Passes over the training split.
    pub epochs: u32,
    /// Pairs per batch (what samplers are asked for).
    pub batch_size: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay, applied to every parameter.
    pub weight_decay: f64,
    /// AdamW first-moment decay.
    pub beta1: f64,
    /// AdamW second-moment decay.
    pub beta2: f64,
    /// Largest global L2 norm of the gradient of all parameters before each step.
    pub grad_clip_norm: f64,
    /// InfoNCE temperature when there is no schedule.
    pub temperature: f64,
    /// Replaces `temperature` with a per-epoch linear schedule when set.
    pub temperature_schedule: Option<LinearTemperature>,
    /// Width of the shared embedding space with the MLP text tower (the frozen and projected
    /// text sides keep the text features' width).
    pub shared_dim: i64,
    /// Hidden width of the towers (and of every graph-transformer layer).
    pub hidden: i64,
    /// The item encoder.
    pub item_encoder: ItemEncoderKind,
    /// The text side.
    pub text_tower: TextTowerKind,
    /// Dropout of the graph-transformer and fingerprint encoders while training (the MLP towers
    /// have none).
    pub dropout: f64,
    /// Graph-transformer convolution layers.
    pub graph_layers: i64,
    /// Attention heads of each graph-transformer layer; they split `hidden` between them.
    pub attention_heads: i64,
    /// libtorch intra-op threads (process-wide); fixed so CPU results are reproducible.
    pub threads: usize,
    /// Where tensors live: the CPU, or a CUDA device when libtorch has CUDA.
    pub device: Device,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            epochs: 20,
            batch_size: 32,
            learning_rate: 3e-4,
            weight_decay: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            grad_clip_norm: 1.0,
            temperature: 0.07,
            temperature_schedule: None,
            shared_dim: 64,
            hidden: 128,
            item_encoder: ItemEncoderKind::Mlp,
            text_tower: TextTowerKind::Mlp,
            dropout: 0.1,
            graph_layers: 4,
            attention_heads: 4,
            threads: 1,
            device: Device::Cpu,
        }
    }
}

impl ProtocolConfig {
    /// Names the architecture and protocol, for reports: [`PROTOCOL_VERSION`] for the MLP towers,
    /// otherwise `<item encoder>+<text tower>-infonce/<revision>`, e.g.
    /// `graph-transformer+frozen-infonce/2`; a TorchScript tower is `torchscript-<digest>`.
    pub fn protocol_version(&self) -> String {
        let item_script = match &self.item_encoder {
            ItemEncoderKind::TorchScript(file) => Some(file),
            _ => None,
        };
        let text_script = match &self.text_tower {
            TextTowerKind::TorchScript(file) => Some(file),
            _ => None,
        };
        match (&self.item_encoder, &self.text_tower) {
            (ItemEncoderKind::Mlp, TextTowerKind::Mlp) => PROTOCOL_VERSION.to_string(),
            (item, text) => format!(
                "{}+{}-infonce/{}",
                version_part(item.name(), item_script),
                version_part(text.name(), text_script),
                item.revision()
            ),
        }
    }

    /// InfoNCE temperature of the 0-based `epoch`.
    pub fn temperature_at(&self, epoch: u32) -> f64 {
        match self.temperature_schedule {
            Some(schedule) => schedule.at(epoch, self.epochs),
            None => self.temperature,
        }
    }

    /// Checks every setting and the device, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| {
            Err(ModelError::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        let positive = |value: f64| value.is_finite() && value > 0.0;
        if self.epochs == 0 {
            return invalid("epochs", "must be at least 1");
        }
        if self.batch_size < 2 {
            return invalid("batch_size", "must be at least 2 for in-batch negatives");
        }
        for (field, value) in [
            ("learning_rate", self.learning_rate),
            ("grad_clip_norm", self.grad_clip_norm),
            ("temperature", self.temperature),
        ] {
            if !positive(value) {
                return invalid(field, "must be a positive number");
            }
        }
        if let Some(schedule) = self.temperature_schedule
            && !(positive(schedule.start) && positive(schedule.end))
        {
            return invalid("temperature_schedule", "must run between positive numbers");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid("weight_decay", "must be a non-negative number");
        }
        for (field, value) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&value) {
                return invalid(field, "must be in [0, 1)");
            }
        }
        for (field, value) in [("shared_dim", self.shared_dim), ("hidden", self.hidden)] {
            if value < 1 {
                return invalid(field, "must be at least 1");
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid("dropout", "must be in [0, 1)");
        }
        if self.item_encoder == ItemEncoderKind::GraphTransformer {
            if self.graph_layers < 1 {
                return invalid("graph_layers", "must be at least 1");
            }
            if self.attention_heads < 1 || self.hidden % self.attention_heads != 0 {
                return invalid(
                    "attention_heads",
                    &format!("must be at least 1 and divide hidden ({})", self.hidden),
                );
            }
        }
        if self.threads == 0 || i32::try_from(self.threads).is_err() {
            return invalid("threads", "must be between 1 and i32::MAX");
        }
        check_device(self.device)
    }
}

fn check_device(device: Device) -> Result<()> {
    match device {
        Device::Cpu => Ok(()),
        Device::Cuda(index) => {
            let available = available_cuda_devices();
            if index < available {
                Ok(())
            } else {
                Err(ModelError::CudaUnavailable { index, available })
            }
        }
        other => Err(ModelError::UnsupportedDevice(other)),
    }
}

fn available_cuda_devices() -> usize {
    if tch::Cuda::is_available() {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_reference_protocol() {
        let config = ProtocolConfig::default();
        config.validate().unwrap();
        assert_eq!((config.epochs, config.batch_size), (20, 32));
        assert_eq!(config.temperature_at(5), 0.07);
    }

    #[test]
    fn the_schedule_replaces_the_constant_temperature() {
        let config = ProtocolConfig {
            temperature_schedule: Some(LinearTemperature::default()),
            ..ProtocolConfig::default()
        };
        assert_eq!(config.temperature_at(0), 0.1);
        assert!((config.temperature_at(19) - 0.07).abs() < 1e-12);
    }

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            ProtocolConfig {
                temperature: 0.0,
                ..ProtocolConfig::default()
            },
            ProtocolConfig {
                beta2: 1.0,
                ..ProtocolConfig::default()
            },
            ProtocolConfig {
                threads: 0,
                ..ProtocolConfig::default()
            },
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|config| config.validate().unwrap_err().to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "invalid protocol setting `temperature`: must be a positive number",
                "invalid protocol setting `beta2`: must be in [0, 1)",
                "invalid protocol setting `threads`: must be between 1 and i32::MAX",
            ]
        );
    }

    #[test]
    fn every_architecture_has_its_own_version() {
        let mut versions = Vec::new();
        for item_encoder in ItemEncoderKind::ALL {
            for text_tower in TextTowerKind::ALL {
                let config = ProtocolConfig {
                    item_encoder: item_encoder.clone(),
                    text_tower,
                    ..ProtocolConfig::default()
                };
                versions.push(config.protocol_version());
            }
        }
        assert_eq!(versions[0], PROTOCOL_VERSION);
        assert!(versions.contains(&"graph-transformer+frozen-infonce/2".to_string()));
        assert!(versions.contains(&"mlp+frozen-infonce/1".to_string()));
        let mut unique = versions.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), versions.len(), "{versions:?}");
    }

    #[test]
    fn kinds_parse_from_their_names() {
        for kind in ItemEncoderKind::ALL {
            assert_eq!(kind.name().parse::<ItemEncoderKind>(), Ok(kind.clone()));
        }
        for kind in TextTowerKind::ALL {
            assert_eq!(kind.to_string().parse::<TextTowerKind>(), Ok(kind.clone()));
        }
        assert_eq!(
            "gnn".parse::<ItemEncoderKind>().unwrap_err(),
            "unknown name 'gnn': expected one of mlp, graph-transformer, fingerprint-mlp or torchscript:PATH"
        );
        assert!(
            "torchscript:/no/such.pt"
                .parse::<TextTowerKind>()
                .unwrap_err()
                .starts_with("cannot read /no/such.pt: ")
        );
    }

    #[test]
    fn graph_settings_are_checked_for_the_graph_encoder() {
        let config = ProtocolConfig {
            item_encoder: ItemEncoderKind::GraphTransformer,
            attention_heads: 3,
            ..ProtocolConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "invalid protocol setting `attention_heads`: must be at least 1 and divide hidden (128)"
        );
    }

    #[test]
    fn cuda_without_cuda_is_a_clear_error() {
        if tch::Cuda::is_available() {
            return;
        }
        let config = ProtocolConfig {
            device: Device::Cuda(0),
            ..ProtocolConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "device cuda:0 was requested but libtorch can use 0 cuda devices"
        );
    }
}

//! Towers from TorchScript files (`torch.jit.script` or `torch.jit.trace`, then `.save(path)`):
//! loaded afresh for every run, so every sampler starts from the file's weights, and trained
//! under the fixed protocol like the built-in towers (their parameters join the optimiser).
//!
//! Contracts: a dense item tower is `forward(x: Tensor[B, F]) -> Tensor[B, D]`, a text tower
//! `forward(x: Tensor[B, E]) -> Tensor[B, D]` (float32). The harness L2-normalises the output.

use std::fmt;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor, TrainableCModule, nn};

use crate::fnv::Fnv1a;
use crate::head::l2_normalised;
use crate::{ModelError, Result};

/// A TorchScript file: its path and a digest of its bytes (which names the architecture and the
/// initial weights in the protocol version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFile {
    /// Where the module is read from, for every run.
    pub path: PathBuf,
    /// FNV-1a 64 of the file's bytes, 16 hex digits.
    pub digest: String,
}

impl ScriptFile {
    /// Reads the file's digest (the module itself is loaded per run).
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(ScriptFile {
            path: path.to_path_buf(),
            digest: format!("{:016x}", Fnv1a::of(&bytes)),
        })
    }
}

impl fmt::Display for ScriptFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "torchscript:{}", self.path.display())
    }
}

/// A loaded TorchScript tower whose parameters live in the trainer's variable store.
pub(crate) struct ScriptTower {
    module: TrainableCModule,
    file: ScriptFile,
}

impl fmt::Debug for ScriptTower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptTower")
            .field("file", &self.file)
            .finish()
    }
}

impl ScriptTower {
    /// Loads `file` with its parameters registered under `path` (trainable as the file says),
    /// in evaluation mode.
    pub fn load(path: nn::Path, file: &ScriptFile) -> Result<Self> {
        let mut module =
            TrainableCModule::load(&file.path, path).map_err(|e| ModelError::Script {
                file: file.to_string(),
                message: format!("is not a loadable TorchScript module: {e}"),
            })?;
        module.set_eval();
        Ok(ScriptTower {
            module,
            file: file.clone(),
        })
    }

    /// Switches dropout and similar layers of the module on (training) or off.
    pub fn set_training(&mut self, training: bool) {
        if training {
            self.module.set_train();
        } else {
            self.module.set_eval();
        }
    }

    /// Unit-norm `[B, D]` embeddings of a batch of `B` rows; an output of another shape or
    /// kind is an error naming the file.
    pub fn forward(&self, inputs: &[&Tensor], rows: i64) -> Result<Tensor> {
        let output = self
            .module
            .forward_ts(inputs)
            .map_err(|e| ModelError::Script {
                file: self.file.to_string(),
                message: format!("forward failed: {e}"),
            })?;
        let size = output.size();
        if size.len() != 2 || size[0] != rows || output.kind() != Kind::Float {
            return Err(ModelError::Script {
                file: self.file.to_string(),
                message: format!(
                    "forward returned a {:?} tensor of shape {size:?} for {rows} rows; it must return float32 [{rows}, D]",
                    output.kind()
                ),
            });
        }
        Ok(l2_normalised(&output))
    }

    /// Width `D` of the module's output for `rows x width` float32 zeros (without gradients).
    pub fn output_width(&self, width: i64, device: tch::Device) -> Result<i64> {
        let probe = Tensor::zeros([2, width], (Kind::Float, device));
        let output = tch::no_grad(|| self.forward(&[&probe], 2))?;
        Ok(output.size()[1])
    }
}

//! Towers from TorchScript files (`torch.jit.script` or `torch.jit.trace`, then `.save(path)`):
//! loaded afresh for every run, so every sampler starts from the file's weights, and trained
//! under the fixed protocol like the built-in towers (their parameters join the optimiser).
//!
//! Contracts: a dense item tower is `forward(x: Tensor[B, F]) -> Tensor[B, D]`, a text tower
//! `forward(x: Tensor[B, E]) -> Tensor[B, D]` (float32), a molecule tower
//! `forward(x, edge_index, edge_attr, batch, num_graphs: int) -> Tensor[B, D]` on the batch's
//! graphs (see [`GraphBatch::script_inputs`] for the tensors). The harness L2-normalises the
//! output.

use std::fmt;
use std::path::{Path, PathBuf};

use tch::{IValue, Kind, Tensor, TrainableCModule, nn};

use crate::fnv::Fnv1a;
use crate::graph::GraphBatch;
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

/// What a TorchScript tower reads: `B` dense rows or a batch of `B` molecular graphs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScriptInput<'a> {
    Dense(&'a Tensor),
    Graphs(&'a GraphBatch),
}

impl ScriptInput<'_> {
    /// Rows `B` the output must have.
    fn rows(&self) -> i64 {
        match self {
            ScriptInput::Dense(x) => x.size()[0],
            ScriptInput::Graphs(batch) => batch.n_molecules,
        }
    }

    /// What the module is called with, for errors.
    fn contract(&self) -> &'static str {
        match self {
            ScriptInput::Dense(_) => "dense rows, forward(x: Tensor[B, F])",
            ScriptInput::Graphs(_) => {
                "molecule graphs, forward(x, edge_index, edge_attr, batch, num_graphs: int)"
            }
        }
    }

    /// The arguments of `forward`.
    fn arguments(&self) -> Vec<IValue> {
        match self {
            ScriptInput::Dense(x) => vec![IValue::Tensor(x.shallow_clone())],
            ScriptInput::Graphs(batch) => batch.script_inputs().into(),
        }
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
                message: format!(
                    "is not a loadable TorchScript module: {}",
                    torch_message(&e)
                ),
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

    /// Unit-norm `[B, D]` embeddings of a batch of `B` rows or graphs; an output of another
    /// shape or kind is an error naming the file.
    pub fn forward(&self, input: ScriptInput<'_>) -> Result<Tensor> {
        let error = |message: String| ModelError::Script {
            file: self.file.to_string(),
            message,
        };
        let output = match self.module.forward_is(&input.arguments()) {
            Ok(IValue::Tensor(output)) => output,
            Ok(other) => {
                return Err(error(format!(
                    "forward returned {}, not a tensor",
                    value_kind(&other)
                )));
            }
            Err(e) => {
                return Err(error(format!(
                    "forward failed on {}: {}",
                    input.contract(),
                    torch_message(&e)
                )));
            }
        };
        let (size, rows) = (output.size(), input.rows());
        if size.len() != 2 || size[0] != rows || output.kind() != Kind::Float {
            return Err(error(format!(
                "forward returned a {:?} tensor of shape {size:?} for {rows} rows; it must return float32 [{rows}, D]",
                output.kind()
            )));
        }
        Ok(l2_normalised(&output))
    }

    /// Width `D` of the module's output on `probe` (computed without gradients).
    pub fn output_width(&self, probe: ScriptInput<'_>) -> Result<i64> {
        let output = tch::no_grad(|| self.forward(probe))?;
        Ok(output.size()[1])
    }
}

/// What a non-tensor TorchScript value is, for errors.
fn value_kind(value: &IValue) -> &'static str {
    match value {
        IValue::Tuple(_) => "a tuple",
        IValue::GenericList(_) | IValue::TensorList(_) => "a list",
        IValue::GenericDict(_) => "a dict",
        IValue::None => "None",
        _ => "a non-tensor value",
    }
}

/// libtorch's message without the C++ stack frames it appends (the TorchScript traceback, which
/// points into the user's Python, stays).
fn torch_message(error: &tch::TchError) -> String {
    let message = error.to_string();
    let end = message
        .find("\nException raised from")
        .unwrap_or(message.len());
    message[..end].trim_end().to_string()
}

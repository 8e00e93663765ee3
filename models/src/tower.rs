use tch::nn;

use crate::head::l2_normalised;

/// Sizes of one tower: `input_dim -> hidden -> output_dim`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TowerConfig {
    /// Width of the features the tower reads.
    pub input_dim: i64,
    /// Width of the normalised hidden layer.
    pub hidden: i64,
    /// Width of the embeddings it produces.
    pub output_dim: i64,
}

/// One encoder tower: Linear -> LayerNorm -> ReLU -> Linear, then L2 normalisation, so that
/// dot products between tower outputs are cosines.
#[derive(Debug)]
pub struct Tower {
    input: nn::Linear,
    norm: nn::LayerNorm,
    output: nn::Linear,
}

impl Tower {
    /// A tower whose variables live under `path`.
    pub fn new(path: nn::Path, config: &TowerConfig) -> Self {
        Tower {
            input: nn::linear(
                &path / "input",
                config.input_dim,
                config.hidden,
                Default::default(),
            ),
            norm: nn::layer_norm(&path / "norm", vec![config.hidden], Default::default()),
            output: nn::linear(
                &path / "output",
                config.hidden,
                config.output_dim,
                Default::default(),
            ),
        }
    }

    /// Unit-norm embeddings of a `rows x input_dim` batch.
    pub fn forward(&self, features: &tch::Tensor) -> tch::Tensor {
        let projected = features
            .apply(&self.input)
            .apply(&self.norm)
            .relu()
            .apply(&self.output);
        l2_normalised(&projected)
    }
}

//! The projection head shared by the molecule encoders, and L2 normalisation.

use tch::{Tensor, nn};

use crate::dropout::{Mode, dropout};
use crate::linear::linear;

/// Rows scaled to unit L2 norm; the floor keeps an all-zero row finite.
pub(crate) fn l2_normalised(rows: &Tensor) -> Tensor {
    let norms = rows.norm_scalaropt_dim(2.0, [-1i64], true).clamp_min(1e-12);
    rows / norms
}

/// The tail of the projection MLP `hidden -> 2 hidden -> hidden -> output`: it receives the first
/// layer's output (each encoder computes that layer its own way) and applies LayerNorm -> ReLU ->
/// dropout -> Linear -> LayerNorm -> ReLU -> dropout -> Linear, then L2 normalisation.
#[derive(Debug)]
pub(crate) struct ProjectionHead {
    wide_norm: nn::LayerNorm,
    narrow: nn::Linear,
    narrow_norm: nn::LayerNorm,
    output: nn::Linear,
    dropout: f64,
}

impl ProjectionHead {
    /// A head whose variables live under `path`, initialised as PyTorch initialises its layers.
    pub fn new(path: nn::Path, hidden: i64, output_dim: i64, dropout: f64) -> Self {
        ProjectionHead {
            wide_norm: nn::layer_norm(&path / "wide_norm", vec![2 * hidden], Default::default()),
            narrow: linear(&path / "narrow", 2 * hidden, hidden),
            narrow_norm: nn::layer_norm(&path / "narrow_norm", vec![hidden], Default::default()),
            output: linear(&path / "output", hidden, output_dim),
            dropout,
        }
    }

    /// Unit-norm embeddings from the first layer's `rows x 2 hidden` output.
    pub fn forward(&self, wide: &Tensor, mode: &mut Mode<'_>) -> Tensor {
        let wide = dropout(&wide.apply(&self.wide_norm).relu(), self.dropout, mode);
        let narrow = wide.apply(&self.narrow).apply(&self.narrow_norm).relu();
        l2_normalised(&dropout(&narrow, self.dropout, mode).apply(&self.output))
    }
}

//! The reference graph encoder: categorical atom and bond embeddings, graph transformer
//! convolutions over bonds, attention pooling over atoms and a projection MLP.

use tch::{Kind, Tensor, nn};

use super::batch::GraphBatch;
use super::features::{ATOM_SLOTS, BOND_KINDS, BOND_SLOTS, DEGREE_SLOTS, bond_kind_rows};
use super::scatter::{segment_softmax, segment_sum};
use crate::dropout::{Mode, dropout};
use crate::head::ProjectionHead;
use crate::linear::{linear, linear_no_bias};

/// Sizes of the graph encoder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphEncoderConfig {
    /// Width of atom states, bond states and every layer.
    pub hidden: i64,
    /// Width of the embeddings it produces.
    pub output_dim: i64,
    /// Graph transformer convolutions.
    pub layers: i64,
    /// Attention heads per convolution; each gets `hidden / heads` channels.
    pub heads: i64,
    /// Dropout while training: on the attention weights of each convolution, after each
    /// convolution and in the projection head.
    pub dropout: f64,
}

/// Categorical features embedded by one table holding every feature's slots: each feature's rows
/// are scaled by a learned sigmoid gate, an item's rows are summed, then Linear -> LayerNorm ->
/// ReLU.
#[derive(Debug)]
struct CategoricalEncoder {
    table: Tensor,
    gates: Tensor,
    /// Feature of every table row (constant), to spread the gates over the rows.
    row_feature: Tensor,
    linear: nn::Linear,
    norm: nn::LayerNorm,
}

impl CategoricalEncoder {
    fn new(path: nn::Path, slots: &[i64], hidden: i64) -> Self {
        let rows: i64 = slots.iter().sum();
        let row_feature: Vec<i64> = slots
            .iter()
            .enumerate()
            .flat_map(|(feature, &n)| std::iter::repeat_n(feature as i64, n as usize))
            .collect();
        CategoricalEncoder {
            table: path.var(
                "table",
                &[rows, hidden],
                nn::Init::Randn {
                    mean: 0.0,
                    stdev: 1.0,
                },
            ),
            gates: path.var("gates", &[slots.len() as i64], nn::Init::Const(1.0)),
            row_feature: Tensor::from_slice(&row_feature).to_device(path.device()),
            linear: linear(&path / "linear", hidden, hidden),
            norm: nn::layer_norm(&path / "norm", vec![hidden], Default::default()),
        }
    }

    /// `bags x hidden` states of bags of table rows (`rows` flat, bag `i` starting at
    /// `bag_offsets[i]`).
    fn forward(&self, rows: &Tensor, bag_offsets: &Tensor) -> Tensor {
        let gated = &self.table
            * self
                .gates
                .sigmoid()
                .index_select(0, &self.row_feature)
                .unsqueeze(1);
        let (summed, _, _, _) = Tensor::embedding_bag(
            &gated,
            rows,
            bag_offsets,
            false,
            0, // sum
            false,
            None::<Tensor>,
            false,
        );
        summed.apply(&self.linear).apply(&self.norm).relu()
    }
}

/// Graph transformer convolution with the semantics of PyTorch Geometric's `TransformerConv`
/// (`concat = true`, `root_weight = true`, `beta = false`, edge features): for target atom `i`
/// and bonded source `j`, per head `alpha_ij = softmax_j(q_i . (k_j + e_ij) / sqrt(c))`, dropout
/// on `alpha` while training, output `sum_j alpha_ij (v_j + e_ij)`, heads concatenated, plus a
/// linear skip of `x_i`.
#[derive(Debug)]
struct TransformerConv {
    /// Query, key, value and skip projections fused into one `hidden -> 4 hidden` layer (rows in
    /// that order; each block initialised as PyTorch initialises a `hidden -> hidden` layer).
    qkvs: nn::Linear,
    /// Edge projection (no bias, like PyG's `lin_edge`).
    edge: nn::Linear,
    heads: i64,
    hidden: i64,
    dropout: f64,
}

impl TransformerConv {
    fn new(path: nn::Path, hidden: i64, heads: i64, dropout: f64) -> Self {
        TransformerConv {
            qkvs: linear(&path / "qkvs", hidden, 4 * hidden),
            edge: linear_no_bias(&path / "edge", hidden, hidden),
            heads,
            hidden,
            dropout,
        }
    }

    /// New atom states from `atoms` (`atoms x hidden`) and the bond state of every bond kind
    /// (`BOND_KINDS x hidden`; edges gather theirs, so the edge projection runs once per kind).
    fn forward(
        &self,
        atoms: &Tensor,
        bond_kinds: &Tensor,
        batch: &GraphBatch,
        mode: &mut Mode<'_>,
    ) -> Tensor {
        let (h, heads) = (self.hidden, self.heads);
        let head_dim = h / heads;
        let projected = atoms.apply(&self.qkvs);
        let edge = bond_kinds
            .apply(&self.edge)
            .index_select(0, &batch.edge_kind)
            .unsqueeze(1);
        let key_value = projected
            .narrow(1, h, 2 * h)
            .index_select(0, &batch.source)
            .view([-1, 2, h])
            + edge;
        let query = projected.narrow(1, 0, h).index_select(0, &batch.target);
        let scores = (query * key_value.select(1, 0))
            .view([-1, heads, head_dim])
            .sum_dim_intlist(-1, false, Kind::Float)
            / (head_dim as f64).sqrt();
        let alpha = dropout(
            &segment_softmax(&scores, &batch.target, batch.n_atoms),
            self.dropout,
            mode,
        );
        let messages = (key_value.select(1, 1).view([-1, heads, head_dim]) * alpha.unsqueeze(-1))
            .view([-1, h]);
        segment_sum(&messages, &batch.target, batch.n_atoms) + projected.narrow(1, 3 * h, h)
    }
}

/// PyTorch Geometric's `LayerNorm` in its default graph mode, called without a batch vector as
/// the reference calls it: one mean and one standard deviation over every atom of the whole
/// mini-batch and every channel, `eps` added to the standard deviation, then a per-channel
/// scale and shift. An atom's state therefore depends on the other molecules of its batch,
/// which is why evaluation embeds the held-out split in fixed batches.
#[derive(Debug)]
struct BatchLayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl BatchLayerNorm {
    const EPS: f64 = 1e-5;

    fn new(path: nn::Path, hidden: i64) -> Self {
        BatchLayerNorm {
            weight: path.var("weight", &[hidden], nn::Init::Const(1.0)),
            bias: path.var("bias", &[hidden], nn::Init::Const(0.0)),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let centred = x - x.mean(Kind::Float);
        let std = centred.square().mean(Kind::Float).sqrt();
        centred / (std + Self::EPS) * &self.weight + &self.bias
    }
}

/// One message-passing layer: convolution -> batch LayerNorm -> ReLU -> dropout, plus a
/// residual.
#[derive(Debug)]
struct Layer {
    conv: TransformerConv,
    norm: BatchLayerNorm,
}

/// Attention pooling as the reference does it: Linear -> tanh -> Linear scores each atom, the
/// scores are softmaxed within each molecule and the atoms' states summed with those weights.
#[derive(Debug)]
struct AttentionPool {
    hidden: nn::Linear,
    score: nn::Linear,
}

impl AttentionPool {
    fn new(path: nn::Path, hidden: i64) -> Self {
        AttentionPool {
            hidden: linear(&path / "hidden", hidden, hidden),
            score: linear(&path / "score", hidden, 1),
        }
    }

    /// `molecules x hidden` states from `atoms x hidden` ones.
    fn forward(&self, atoms: &Tensor, batch: &GraphBatch) -> Tensor {
        let scores = atoms.apply(&self.hidden).tanh().apply(&self.score);
        // The reference divides by the sum of exponentials plus 1e-8 without subtracting the
        // maximum; subtracting it keeps large scores finite and changes weights by under 1e-8.
        let weights = segment_softmax(&scores, &batch.molecule, batch.n_molecules);
        segment_sum(&(atoms * weights), &batch.molecule, batch.n_molecules)
    }
}

/// The reference graph transformer: molecules in, unit-norm embeddings out.
#[derive(Debug)]
pub struct GraphTransformer {
    atoms: CategoricalEncoder,
    degrees: Tensor,
    bonds: CategoricalEncoder,
    /// Table rows of every bond kind, three per kind (constant).
    bond_kind_rows: Tensor,
    bond_kind_offsets: Tensor,
    layers: Vec<Layer>,
    pool: AttentionPool,
    wide: nn::Linear,
    head: ProjectionHead,
    dropout: f64,
}

impl GraphTransformer {
    /// An encoder whose variables live under `path`, initialised as the PyTorch reference
    /// initialises its modules (draws from libtorch's generator).
    pub fn new(path: nn::Path, config: &GraphEncoderConfig) -> Self {
        let hidden = config.hidden;
        let device = path.device();
        GraphTransformer {
            atoms: CategoricalEncoder::new(&path / "atoms", &ATOM_SLOTS, hidden),
            degrees: path.var(
                "degree_table",
                &[DEGREE_SLOTS, hidden],
                nn::Init::Randn {
                    mean: 0.0,
                    stdev: 1.0,
                },
            ),
            bonds: CategoricalEncoder::new(&path / "bonds", &BOND_SLOTS, hidden),
            bond_kind_rows: Tensor::from_slice(&bond_kind_rows()).to_device(device),
            bond_kind_offsets: Tensor::arange_start_step(
                0,
                3 * BOND_KINDS,
                3,
                (Kind::Int64, device),
            ),
            layers: (0..config.layers)
                .map(|i| {
                    let layer = &path / format!("layer{i}");
                    Layer {
                        conv: TransformerConv::new(
                            &layer / "conv",
                            hidden,
                            config.heads,
                            config.dropout,
                        ),
                        norm: BatchLayerNorm::new(&layer / "norm", hidden),
                    }
                })
                .collect(),
            pool: AttentionPool::new(&path / "pool", hidden),
            wide: linear(&path / "wide", hidden, 2 * hidden),
            head: ProjectionHead::new(&path / "head", hidden, config.output_dim, config.dropout),
            dropout: config.dropout,
        }
    }

    /// Unit-norm `molecules x output_dim` embeddings of a batch.
    pub fn forward(&self, batch: &GraphBatch, mode: &mut Mode<'_>) -> Tensor {
        let atoms = self.atoms.forward(&batch.atom_rows, &batch.bag_offsets)
            + self.degrees.index_select(0, &batch.degrees);
        let bond_kinds = self
            .bonds
            .forward(&self.bond_kind_rows, &self.bond_kind_offsets);
        // Out-of-place residuals: autograd keeps every layer's input.
        let atoms = self.layers.iter().fold(atoms, |atoms, layer| {
            let update = layer
                .norm
                .forward(&layer.conv.forward(&atoms, &bond_kinds, batch, mode))
                .relu();
            &atoms + dropout(&update, self.dropout, mode)
        });
        let pooled = self.pool.forward(&atoms, batch);
        self.head.forward(&pooled.apply(&self.wide), mode)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor, nn};

    use super::BatchLayerNorm;

    #[test]
    fn batch_layer_norm_uses_one_mean_and_deviation_for_the_whole_batch() {
        let vs = nn::VarStore::new(Device::Cpu);
        let norm = BatchLayerNorm::new(vs.root(), 2);
        // Per-row statistics would map both rows to (-1, 1); whole-batch ones keep the second
        // row's larger spread.
        let x = Tensor::from_slice(&[0.0f32, 2.0, 0.0, 6.0]).view([2, 2]);
        let out = Vec::<f32>::try_from(norm.forward(&x).flatten(0, -1)).unwrap();
        // mean 2, population deviation sqrt((4 + 0 + 4 + 16) / 4) = sqrt(6).
        let std = 6f32.sqrt() + 1e-5;
        let expected = [-2.0 / std, 0.0, -2.0 / std, 4.0 / std];
        for (got, want) in out.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
        let x = crate::trainer::seeded(0, || Tensor::randn([50, 2], (Kind::Float, Device::Cpu)));
        let normalised = norm.forward(&x);
        assert!(normalised.mean(Kind::Float).double_value(&[]).abs() < 1e-5);
    }
}

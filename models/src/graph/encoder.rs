//! The reference graph encoder: categorical atom and bond embeddings, graph transformer
//! convolutions over bonds, attention pooling over atoms and a projection MLP.

use tch::{Kind, Tensor, nn};

use super::batch::GraphBatch;
use super::features::{ATOM_SLOTS, BOND_KINDS, BOND_SLOTS, DEGREE_SLOTS, bond_kind_rows};
use super::scatter::{segment_softmax, segment_sum};
use crate::dropout::{Mode, dropout};
use crate::head::ProjectionHead;

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
    /// Dropout after each convolution and in the projection head, while training.
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
            linear: nn::linear(&path / "linear", hidden, hidden, Default::default()),
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
/// and bonded source `j`, per head `alpha_ij = softmax_j(q_i . (k_j + e_ij) / sqrt(c))`, output
/// `sum_j alpha_ij (v_j + e_ij)`, heads concatenated, plus a linear skip of `x_i`.
#[derive(Debug)]
struct TransformerConv {
    /// Query, key, value and skip projections fused into one `hidden -> 4 hidden` layer.
    qkvs: nn::Linear,
    /// Edge projection (no bias, like PyG's `lin_edge`).
    edge: nn::Linear,
    heads: i64,
    hidden: i64,
}

impl TransformerConv {
    fn new(path: nn::Path, hidden: i64, heads: i64) -> Self {
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        TransformerConv {
            qkvs: nn::linear(&path / "qkvs", hidden, 4 * hidden, Default::default()),
            edge: nn::linear(&path / "edge", hidden, hidden, no_bias),
            heads,
            hidden,
        }
    }

    /// New atom states from `atoms` (`atoms x hidden`) and the bond state of every bond kind
    /// (`BOND_KINDS x hidden`; edges gather theirs, so the edge projection runs once per kind).
    fn forward(&self, atoms: &Tensor, bond_kinds: &Tensor, batch: &GraphBatch) -> Tensor {
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
        let alpha = segment_softmax(&scores, &batch.target, batch.n_atoms);
        let messages = (key_value.select(1, 1).view([-1, heads, head_dim]) * alpha.unsqueeze(-1))
            .view([-1, h]);
        segment_sum(&messages, &batch.target, batch.n_atoms) + projected.narrow(1, 3 * h, h)
    }
}

/// One message-passing layer: convolution -> LayerNorm -> ReLU -> dropout, plus a residual.
#[derive(Debug)]
struct Layer {
    conv: TransformerConv,
    norm: nn::LayerNorm,
}

/// Attention pooling: an MLP scores each atom, scores are softmaxed within each molecule and the
/// atoms' states summed with those weights.
#[derive(Debug)]
struct AttentionPool {
    hidden: nn::Linear,
    score: nn::Linear,
}

impl AttentionPool {
    fn new(path: nn::Path, hidden: i64) -> Self {
        let inner = (hidden / 2).max(1);
        AttentionPool {
            hidden: nn::linear(&path / "hidden", hidden, inner, Default::default()),
            score: nn::linear(&path / "score", inner, 1, Default::default()),
        }
    }

    /// `molecules x hidden` states from `atoms x hidden` ones.
    fn forward(&self, atoms: &Tensor, batch: &GraphBatch) -> Tensor {
        let scores = atoms.apply(&self.hidden).relu().apply(&self.score);
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
    /// An encoder whose variables live under `path` (initialised from libtorch's generator).
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
                        conv: TransformerConv::new(&layer / "conv", hidden, config.heads),
                        norm: nn::layer_norm(&layer / "norm", vec![hidden], Default::default()),
                    }
                })
                .collect(),
            pool: AttentionPool::new(&path / "pool", hidden),
            wide: nn::linear(&path / "wide", hidden, 2 * hidden, Default::default()),
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
                .conv
                .forward(&atoms, &bond_kinds, batch)
                .apply(&layer.norm)
                .relu();
            &atoms + dropout(&update, self.dropout, mode)
        });
        let pooled = self.pool.forward(&atoms, batch);
        self.head.forward(&pooled.apply(&self.wide), mode)
    }
}

"""The reference graph transformer (PyTorch + PyTorch Geometric).

Written from the description of `ImprovedMolGraphTransformer` in merouuu/Challenge_altegrad
(`train_gt_contrast.py`); the `state_dict()` keys are the contract with the Rust harness, which
exports its weights under the same names (see reference/README.md for the list).

Semantics worth knowing when matching it elsewhere:

* `torch_geometric.nn.LayerNorm(h)` (mode "graph") is called WITHOUT a batch vector, so it
  normalises over every node of the whole mini-batch and every channel at once:
  `(x - mean) / (std_biased + 1e-5) * weight + bias` (eps added to the standard deviation, not
  inside a square root). A molecule's embedding therefore depends on the rest of its batch.
* `TransformerConv` adds the projected edge feature to the key and to the value of every message,
  scales scores by 1/sqrt(h/heads), softmaxes over the incoming edges of each target node, and
  adds `lin_skip(x)` (root weight) to the concatenated heads. Dropout acts on attention weights.
* Attention pooling exponentiates the raw logits (no max subtraction) and divides by the
  per-molecule sum + 1e-8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import LayerNorm as GraphLayerNorm
from torch_geometric.nn import TransformerConv

from data import ATOM_SLOTS, BOND_SLOTS, DEGREE, DEGREE_SLOTS


class FeatureEncoder(nn.Module):
    """Sum of one embedding per categorical feature, each scaled by a learned sigmoid gate."""

    def __init__(self, slots: tuple[int, ...], hidden: int):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(rows, hidden) for rows in slots)
        self.feature_weights = nn.Parameter(torch.ones(len(slots)))
        self.combine = nn.Sequential(nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        gates = torch.sigmoid(self.feature_weights)
        total = None
        for f, embedding in enumerate(self.embeddings):
            term = embedding(features[:, f]) * gates[f]
            total = term if total is None else total + term
        return self.combine(total)


def scatter_sum(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    shape = list(values.shape)
    shape[0] = size  # a list, not a tuple sum, so that torch.jit.script can compile it
    return values.new_zeros(shape).index_add(0, index, values)


class AttentionPool(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.attention = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
        weights = torch.exp(self.attention(x))  # [atoms, 1]
        totals = scatter_sum(weights, batch, num_graphs)
        weights = weights / (totals[batch] + 1e-8)
        return scatter_sum(x * weights, batch, num_graphs)


class GraphTransformer(nn.Module):
    def __init__(
        self,
        hidden: int = 128,
        out_dim: int = 384,
        layers: int = 4,
        heads: int = 4,
        dropout: float = 0.1,
    ):
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden {hidden} is not a multiple of heads {heads}")
        self.dropout = dropout
        self.atom_encoder = FeatureEncoder(ATOM_SLOTS, hidden)
        self.bond_encoder = FeatureEncoder(BOND_SLOTS, hidden)
        self.pos_encoder = nn.Embedding(DEGREE_SLOTS, hidden)
        self.degree_column = DEGREE  # an attribute: torch.jit.script reads no global ints
        self.convs = nn.ModuleList(
            TransformerConv(
                in_channels=hidden,
                out_channels=hidden // heads,
                heads=heads,
                edge_dim=hidden,
                dropout=dropout,
                concat=True,
            )
            for _ in range(layers)
        )
        self.layer_norms = nn.ModuleList(GraphLayerNorm(hidden) for _ in range(layers))
        self.attention_pool = AttentionPool(hidden)
        self.proj = nn.Sequential(
            nn.Linear(hidden, 2 * hidden),
            nn.LayerNorm(2 * hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(2 * hidden, hidden),
            nn.LayerNorm(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
        )

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
        batch: torch.Tensor,
        num_graphs: int,
    ) -> torch.Tensor:
        h = self.atom_encoder(x) + self.pos_encoder(x[:, self.degree_column])
        e = self.bond_encoder(edge_attr)
        for conv, norm in zip(self.convs, self.layer_norms):
            residual = h
            h = conv(h, edge_index, e)
            h = norm(h)  # no batch argument: statistics over the whole mini-batch
            h = F.relu(h)
            h = F.dropout(h, p=self.dropout, training=self.training)
            h = h + residual
        graphs = self.attention_pool(h, batch, num_graphs)
        return F.normalize(self.proj(graphs), dim=-1)


def contrastive_loss(mol: torch.Tensor, txt: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric CLIP loss: mean of molecule->text and text->molecule cross-entropies over the
    batch, on L2-normalised embeddings (both sides are normalised here, F.normalize eps 1e-12)."""
    mol = F.normalize(mol, dim=-1)
    txt = F.normalize(txt, dim=-1)
    logits = mol @ txt.t() / temperature
    labels = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2

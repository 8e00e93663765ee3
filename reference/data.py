"""ChEBI-20 loading and batch collation for the PyTorch + PyG reference.

Reads `<split>.rdkit.jsonl` (RDKit graph features, one JSON object a line) and
`<split>.minilm.npy` (float32 [rows, 384] description embeddings) and turns every molecule into
per-feature slot indices exactly as the Rust harness does:

* a feature with S slots keeps a raw value v in 0..S-2 as slot v; anything else (negative or
  >= S-1) goes to the last slot S-1 ("other");
* formal charge is offset by +5 first (charges -5..+5 -> slots 0..10, others -> 11);
* bond type code (int(GetBondTypeAsDouble()*2)) maps 2->0 single, 3->1 aromatic, 4->2 double,
  6->3 triple, anything else -> 4;
* every bond gives two directed edges, begin->end then end->begin, bond by bond.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# Slots per atom feature: atomic number, chirality, degree, formal charge, total Hs,
# radical electrons, hybridisation, aromatic, in ring.
ATOM_SLOTS = (120, 10, 12, 12, 10, 6, 10, 2, 2)
# Slots per bond feature: bond type, stereo, conjugated.
BOND_SLOTS = (5, 9, 2)
FORMAL_CHARGE = 3
FORMAL_CHARGE_OFFSET = 5
DEGREE = 2
DEGREE_SLOTS = 12
BOND_TYPE_SLOT = {2: 0, 3: 1, 4: 2, 6: 3}

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "chebi20"


def slot(value: int, slots: int) -> int:
    """The harness's slot rule: 0..slots-2 keep their value, everything else is `slots - 1`."""
    return value if 0 <= value <= slots - 2 else slots - 1


def atom_slots(atom: list[int]) -> list[int]:
    if len(atom) != len(ATOM_SLOTS):
        raise ValueError(f"an atom has {len(atom)} features, expected {len(ATOM_SLOTS)}")
    values = list(atom)
    values[FORMAL_CHARGE] += FORMAL_CHARGE_OFFSET
    return [slot(v, s) for v, s in zip(values, ATOM_SLOTS)]


def bond_slots(bond: list[int]) -> list[int]:
    if len(bond) != 2 + len(BOND_SLOTS):
        raise ValueError(f"a bond has {len(bond)} fields, expected {2 + len(BOND_SLOTS)}")
    _, _, kind, stereo, conjugated = bond
    return [
        BOND_TYPE_SLOT.get(kind, BOND_SLOTS[0] - 1),
        slot(stereo, BOND_SLOTS[1]),
        slot(conjugated, BOND_SLOTS[2]),
    ]


@dataclass
class Molecule:
    """One molecule as tensors, local atom numbering."""

    x: torch.Tensor  # int64 [atoms, 9] per-feature slots
    edge_index: torch.Tensor  # int64 [2, 2*bonds], row 0 source, row 1 target
    edge_attr: torch.Tensor  # int64 [2*bonds, 3] per-feature slots


def molecule_from_record(record: dict) -> Molecule:
    atoms = record["atoms"]
    bonds = record["bonds"]
    n = len(atoms)
    x = torch.tensor([atom_slots(a) for a in atoms], dtype=torch.int64).reshape(n, len(ATOM_SLOTS))
    sources, targets, attrs = [], [], []
    for bond in bonds:
        begin, end = int(bond[0]), int(bond[1])
        if not (0 <= begin < n and 0 <= end < n):
            raise ValueError(f"bond {bond} refers to an atom outside 0..{n - 1}")
        features = bond_slots(bond)
        sources += [begin, end]
        targets += [end, begin]
        attrs += [features, features]
    edge_index = torch.tensor([sources, targets], dtype=torch.int64).reshape(2, len(sources))
    edge_attr = torch.tensor(attrs, dtype=torch.int64).reshape(len(attrs), len(BOND_SLOTS))
    return Molecule(x, edge_index, edge_attr)


@dataclass
class Split:
    name: str
    molecules: list[Molecule]
    texts: torch.Tensor  # float32 [rows, text_dim]
    cids: list[int]

    def __len__(self) -> int:
        return len(self.molecules)


def load_split(data_dir: Path | str, name: str) -> Split:
    """Loads `name` ("train" or "test") from a ChEBI-20 folder; rows stay in file order."""
    data_dir = Path(data_dir)
    molecules, cids = [], []
    with open(data_dir / f"{name}.rdkit.jsonl", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            record = json.loads(line)
            try:
                molecules.append(molecule_from_record(record))
            except (ValueError, KeyError) as error:
                raise ValueError(f"{name}.rdkit.jsonl line {number}: {error}") from error
            cids.append(int(record.get("cid", -1)))
    texts = np.load(data_dir / f"{name}.minilm.npy", allow_pickle=False)
    if texts.ndim != 2 or texts.shape[0] != len(molecules):
        raise ValueError(
            f"{name}.minilm.npy has shape {texts.shape}, expected [{len(molecules)}, dim]"
        )
    return Split(name, molecules, torch.from_numpy(np.ascontiguousarray(texts, dtype=np.float32)), cids)


@dataclass
class GraphBatch:
    """Molecules collated PyG-style: atoms concatenated, edges offset, a molecule per atom."""

    x: torch.Tensor  # int64 [atoms, 9]
    edge_index: torch.Tensor  # int64 [2, edges]
    edge_attr: torch.Tensor  # int64 [edges, 3]
    batch: torch.Tensor  # int64 [atoms]
    num_graphs: int

    def to(self, device: torch.device) -> "GraphBatch":
        return GraphBatch(
            x=self.x.to(device),
            edge_index=self.edge_index.to(device),
            edge_attr=self.edge_attr.to(device),
            batch=self.batch.to(device),
            num_graphs=self.num_graphs,
        )


def collate(molecules: list[Molecule]) -> GraphBatch:
    counts = torch.tensor([m.x.shape[0] for m in molecules], dtype=torch.int64)
    offsets = torch.cumsum(counts, 0) - counts
    edge_index = torch.cat(
        [m.edge_index + int(offset) for m, offset in zip(molecules, offsets)], dim=1
    )
    return GraphBatch(
        x=torch.cat([m.x for m in molecules], dim=0),
        edge_index=edge_index,
        edge_attr=torch.cat([m.edge_attr for m in molecules], dim=0),
        batch=torch.repeat_interleave(torch.arange(len(molecules), dtype=torch.int64), counts),
        num_graphs=len(molecules),
    )

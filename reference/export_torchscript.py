"""Saves the reference graph transformer as a TorchScript molecule tower for the harness:

    python=$(reference/setup.sh)
    "$python" reference/export_torchscript.py --seed 0 --out pyg_reference.pt
    harness compare --dataset chebi20 --data-dir ../shared/data/chebi20 \\
        --item-encoder torchscript:pyg_reference.pt ...

Its forward is the harness's molecule contract (x, edge_index, edge_attr, batch, num_graphs), so
the PyTorch Geometric model itself trains under the harness's protocol, from PyTorch's own
initialisation after torch.manual_seed(seed).
"""

import argparse
from pathlib import Path

import torch

from model import GraphTransformer


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.jit.script(GraphTransformer()).save(str(args.out))
    print(args.out)


if __name__ == "__main__":
    main()

"""Reference training protocol on ChEBI-20 (PyTorch + PyG), one CSV row per epoch.

    python reference/train.py --seed 1 --epochs 12 --out runs/reference-seed1.csv

Molecule tower: model.GraphTransformer (out_dim = text width). Text tower: frozen, the stored
MiniLM vectors themselves (L2-normalised in the loss and in evaluation). AdamW over every
parameter, gradient norm clipped each step, no learning-rate schedule. Each epoch trains on a
seeded random permutation of the train rows cut into consecutive batches (a last partial batch
is kept when it has at least 2 rows), then evaluates retrieval on the whole test split.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from data import DEFAULT_DATA_DIR, Split, collate, load_split
from model import GraphTransformer, contrastive_loss

IMPLEMENTATION = "pytorch-pyg"
COLUMNS = [
    "implementation",
    "seed",
    "epoch",
    "train_loss",
    "text_to_item_mrr",
    "text_to_item_r1",
    "text_to_item_r5",
    "text_to_item_r10",
    "item_to_text_mrr",
    "train_seconds",
    "eval_seconds",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--temperature", type=float, default=0.07)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--device",
        default="cpu",
        help="cpu or cuda[:N]; batches are collated on the host and copied over, as PyG's loaders do",
    )
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--out", type=Path, help="per-epoch CSV to write (overwritten)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    return p.parse_args(argv)


def training_batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return [b for b in batches if b.numel() >= 2]


@torch.no_grad()
def embed(model: GraphTransformer, split: Split, batch_size: int, device: torch.device) -> torch.Tensor:
    model.eval()
    parts = []
    for start in range(0, len(split), batch_size):
        g = collate(split.molecules[start : start + batch_size]).to(device)
        parts.append(model(g.x, g.edge_index, g.edge_attr, g.batch, g.num_graphs))
    return torch.cat(parts)


def ranks(scores: torch.Tensor) -> torch.Tensor:
    """1-based rank of each query's own item (the diagonal) among all gallery columns; ties with
    other items count against the query."""
    own = scores.diagonal().unsqueeze(1)
    higher = (scores > own).sum(1)
    tied = (scores == own).sum(1) - 1
    return 1 + higher + tied


def retrieval_metrics(items: torch.Tensor, texts: torch.Tensor) -> dict[str, float]:
    texts = F.normalize(texts, dim=-1)
    items = F.normalize(items, dim=-1)
    scores = texts @ items.t()  # [text query, molecule]
    t2i = ranks(scores).double()
    i2t = ranks(scores.t()).double()
    return {
        "text_to_item_mrr": (1.0 / t2i).mean().item(),
        "text_to_item_r1": (t2i <= 1).double().mean().item(),
        "text_to_item_r5": (t2i <= 5).double().mean().item(),
        "text_to_item_r10": (t2i <= 10).double().mean().item(),
        "item_to_text_mrr": (1.0 / i2t).mean().item(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    # CUDA's scatter kernels (PyG's softmax) have no deterministic variant; the CPU run is exact.
    torch.use_deterministic_algorithms(device.type == "cpu")

    load_start = time.perf_counter()
    train = load_split(args.data_dir, "train")
    test = load_split(args.data_dir, "test")
    print(
        f"[{IMPLEMENTATION} seed {args.seed}] loaded {len(train)} train / {len(test)} test molecules "
        f"from {args.data_dir} in {time.perf_counter() - load_start:.1f} s; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        file=sys.stderr,
    )

    torch.manual_seed(args.seed)
    model = GraphTransformer(
        hidden=args.hidden,
        out_dim=train.texts.shape[1],
        layers=args.layers,
        heads=args.heads,
        dropout=args.dropout,
    ).to(device)
    train_texts = train.texts.to(device)
    test_texts = test.texts.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay
    )
    permutations = torch.Generator().manual_seed(args.seed)

    writer = None
    out_file = None
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out_file = open(args.out, "w", newline="", encoding="utf-8")
        writer = csv.writer(out_file)
        writer.writerow(COLUMNS)
        out_file.flush()

    try:
        for epoch in range(1, args.epochs + 1):
            train_start = time.perf_counter()
            model.train()
            losses = []
            for rows in training_batches(len(train), args.batch_size, permutations):
                g = collate([train.molecules[i] for i in rows.tolist()]).to(device)
                mol = model(g.x, g.edge_index, g.edge_attr, g.batch, g.num_graphs)
                loss = contrastive_loss(mol, train_texts[rows.to(device)], args.temperature)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
                optimizer.step()
                losses.append(loss.item())
            train_seconds = time.perf_counter() - train_start
            train_loss = sum(losses) / len(losses) if losses else math.nan

            eval_start = time.perf_counter()
            metrics = retrieval_metrics(
                embed(model, test, args.eval_batch_size, device), test_texts
            )
            eval_seconds = time.perf_counter() - eval_start

            print(
                f"[{IMPLEMENTATION} seed {args.seed}] epoch {epoch}/{args.epochs} loss {train_loss:.4f} "
                f"text->item MRR {metrics['text_to_item_mrr']:.4f} R@1 {metrics['text_to_item_r1']:.3f} "
                f"R@5 {metrics['text_to_item_r5']:.3f} R@10 {metrics['text_to_item_r10']:.3f} | "
                f"item->text MRR {metrics['item_to_text_mrr']:.4f} | "
                f"train {train_seconds:.1f} s, eval {eval_seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            if writer is not None:
                writer.writerow(
                    [IMPLEMENTATION, args.seed, epoch, f"{train_loss:.6f}"]
                    + [f"{metrics[c]:.6f}" for c in COLUMNS[4:9]]
                    + [f"{train_seconds:.3f}", f"{eval_seconds:.3f}"]
                )
                out_file.flush()
    finally:
        if out_file is not None:
            out_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

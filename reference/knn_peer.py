"""The plain PyTorch peer of `harness knn`: an exact top-k neighbour table (self excluded) by
dot product, in blocks of rows: `mm` against all rows, the block's diagonal set to -inf, `topk`.

    python reference/knn_peer.py --input emb.npy --k 100 --device cuda [--block 8192] [--compare table.npy]

Times what the harness's `time` line times, after the device has started: the host array to the
device, every block, the table back on the host; prints the median of --repeats runs. With
--compare, also counts the rows whose neighbour list equals a harness table (`knn --output`);
`topk` breaks ties as it likes, so rows with ties at the cut may differ.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def neighbour_table(embeddings: np.ndarray, k: int, device: torch.device, block: int) -> np.ndarray:
    x = torch.from_numpy(embeddings).to(device)
    n = x.shape[0]
    table = torch.empty((n, k), dtype=torch.int64, device=device)
    for start in range(0, n, block):
        rows = min(block, n - start)
        scores = x[start : start + rows] @ x.T
        scores[torch.arange(rows, device=device), torch.arange(start, start + rows, device=device)] = -float("inf")
        table[start : start + rows] = scores.topk(k, dim=1).indices
    return table.cpu().numpy()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", type=Path, required=True, help="float32 [N, d] .npy, unit rows")
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--device", default="cpu")
    p.add_argument("--block", type=int, default=8192)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--compare", type=Path, help="a harness table (uint32 [N, k] .npy)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    embeddings = np.ascontiguousarray(np.load(args.input), dtype=np.float32)
    torch.ones(1, device=device).sum().item()  # starts the device before timing
    seconds = []
    for _ in range(args.repeats):
        synchronise(device)
        started = time.perf_counter()
        table = neighbour_table(embeddings, args.k, device, args.block)
        synchronise(device)
        seconds.append(time.perf_counter() - started)
    n, d = embeddings.shape
    print(
        f"knn peer: {n} x {d}, k {args.k}, {device} ({torch.get_num_threads()} threads), block {args.block}: "
        f"median {statistics.median(seconds):.3f} s of {args.repeats} ({', '.join(f'{s:.3f}' for s in seconds)})"
    )
    if args.compare is not None:
        theirs = np.load(args.compare).astype(np.int64)
        same = int((theirs == table).all(axis=1).sum())
        print(f"rows identical to {args.compare}: {same} of {n}")


if __name__ == "__main__":
    main()

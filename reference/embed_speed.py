"""sentence-transformers' all-MiniLM-L6-v2 on the descriptions of pairs tables: the speed
reference for `harness embed` (reference/embed-speed.sh runs both side by side).

    python embed_speed.py --model DIR --threads 2 --out emb.npy TABLE.tsv [TABLE.tsv ...]

Prints one line: texts, seconds of `encode` (model loading excluded, as the harness's figure
excludes it), texts per second.
"""

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def descriptions(path):
    with open(path, encoding="utf-8") as table:
        next(table)
        return [line.rstrip("\n").split("\t")[-1] for line in table]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out")
    parser.add_argument("tables", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = [text for table in args.tables for text in descriptions(table)]
    model = SentenceTransformer(args.model, device="cpu")
    started = time.perf_counter()
    embeddings = model.encode(texts, batch_size=args.batch_size, show_progress_bar=False)
    seconds = time.perf_counter() - started
    if args.out:
        np.save(args.out, embeddings.astype(np.float32))
    print(f"sentence-transformers {len(texts)} texts {seconds:.3f} s {len(texts) / seconds:.1f} texts/s")


if __name__ == "__main__":
    main()

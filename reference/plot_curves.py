"""Learning curves of text->molecule MRR from per-epoch CSVs, one colour per implementation.

    python reference/plot_curves.py runs/*.csv --out curves.svg

Each CSV has the columns written by reference/train.py (implementation, seed, epoch, train_loss,
text_to_item_mrr, text_to_item_r1, text_to_item_r5, text_to_item_r10, item_to_text_mrr,
train_seconds, eval_seconds); only implementation, seed, epoch, text_to_item_mrr and
train_seconds are read, extra columns are ignored. Rows from many files, implementations and
seeds are pooled. The SVG shows, per implementation, the mean over seeds at every epoch as a line
and the min-max range over seeds as a shaded band. A table of the same numbers (and the median
training seconds per epoch) goes to stdout.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path

NEEDED = ("implementation", "seed", "epoch", "text_to_item_mrr", "train_seconds")


class BadInput(Exception):
    pass


def read_rows(paths: list[Path]) -> dict[str, dict[int, dict[int, tuple[float, float]]]]:
    """implementation -> epoch -> seed -> (mrr, train_seconds)."""
    data: dict[str, dict[int, dict[int, tuple[float, float]]]] = defaultdict(lambda: defaultdict(dict))
    origin: dict[tuple[str, int, int], str] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInput(f"{path}: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, 2):
                try:
                    impl = row["implementation"].strip()
                    seed, epoch = int(row["seed"]), int(row["epoch"])
                    mrr, seconds = float(row["text_to_item_mrr"]), float(row["train_seconds"])
                except (TypeError, ValueError) as error:
                    raise BadInput(f"{path}:{line}: {error}") from error
                key = (impl, seed, epoch)
                if key in origin:
                    raise BadInput(
                        f"{path}:{line}: a second row for {impl} seed {seed} epoch {epoch} "
                        f"(first in {origin[key]})"
                    )
                origin[key] = f"{path}:{line}"
                data[impl][epoch][seed] = (mrr, seconds)
    if not data:
        raise BadInput("no rows")
    return data


def summarise(data):
    """implementation -> sorted list of (epoch, n_seeds, mean, min, max, median_train_seconds)."""
    out = {}
    for impl, epochs in data.items():
        rows = []
        for epoch in sorted(epochs):
            values = [m for m, _ in epochs[epoch].values()]
            seconds = [s for _, s in epochs[epoch].values()]
            rows.append(
                (epoch, len(values), statistics.fmean(values), min(values), max(values), statistics.median(seconds))
            )
        out[impl] = rows
    return out


def seeds_of(data, impl: str) -> int:
    return len({seed for epoch in data[impl].values() for seed in epoch})


def print_table(data, summary) -> None:
    width = max(len("implementation"), *(len(i) for i in summary))
    print(f"{'epoch':>5}  {'implementation':<{width}}  {'seeds':>5}  {'MRR mean':>8}  {'MRR min-max':>15}  {'train s (median)':>16}")
    epochs = sorted({row[0] for rows in summary.values() for row in rows})
    for epoch in epochs:
        for impl in sorted(summary):
            for e, n, mean, lo, hi, secs in summary[impl]:
                if e == epoch:
                    print(f"{e:>5}  {impl:<{width}}  {n:>5}  {mean:>8.4f}  {lo:>7.4f}-{hi:<7.4f}  {secs:>16.2f}")


def plot(data, summary, out: Path, title: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "sampler-harness"  # stable element ids: same data, same file
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, impl in enumerate(sorted(summary)):
        rows = summary[impl]
        colour = colours[k % len(colours)]
        epochs = [r[0] for r in rows]
        n = seeds_of(data, impl)
        ax.plot(epochs, [r[2] for r in rows], color=colour, marker="o", markersize=3,
                label=f"{impl} (mean of {n} seed{'s' if n != 1 else ''})")
        ax.fill_between(epochs, [r[3] for r in rows], [r[4] for r in rows], color=colour, alpha=0.2,
                        linewidth=0, label=f"{impl} min-max over seeds")
    counts = sorted({seeds_of(data, impl) for impl in summary})
    seeds = f"{counts[0]} seed{'s' if counts[0] != 1 else ''}" if len(counts) == 1 else (
        "seeds: " + ", ".join(f"{impl} {seeds_of(data, impl)}" for impl in sorted(summary))
    )
    ax.set_title(title or f"Text->molecule MRR on the held-out split per epoch\n{seeds}", fontsize=11)
    ax.set_xlabel("epoch")
    ax.set_ylabel("text->molecule MRR")
    all_epochs = sorted({r[0] for rows in summary.values() for r in rows})
    if len(all_epochs) <= 30:
        ax.set_xticks(all_epochs)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv", nargs="+", type=Path, help="per-epoch CSV files")
    p.add_argument("--out", type=Path, required=True, help="SVG to write")
    p.add_argument("--title", help="replace the default title")
    args = p.parse_args(argv)
    try:
        data = read_rows(args.csv)
    except (BadInput, OSError) as error:
        print(f"plot_curves: {error}", file=sys.stderr)
        return 2
    summary = summarise(data)
    print_table(data, summary)
    plot(data, summary, args.out, args.title)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

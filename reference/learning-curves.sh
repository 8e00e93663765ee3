#!/usr/bin/env bash
# Learning curves of the harness's graph transformer and the PyTorch + PyG reference on
# ChEBI-20, measured side by side: for each seed the harness run and the reference run follow
# each other, so both see the same machine load. Writes per-epoch CSVs (one schema for both),
# curves.svg and the per-epoch table (table.txt) into the output folder.
#
#   reference/learning-curves.sh [--seeds N] [--epochs E] [--threads T] [--out DIR]
#                                [--harness BINARY]   (default: build and use target/release)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
seeds=5 epochs=12 threads=2 out=$repo/runs/learning-curves-$(date +%Y%m%d-%H%M%S) harness=
data_dir=$repo/../shared/data/chebi20
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --harness) harness=$2; shift 2 ;;
    *) echo "learning-curves: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
# Both sides use libgomp: the harness's default short spin (see harness/src/openmp.rs) for both,
# unless the caller chose a wait policy or spin count.
if [[ -z "${OMP_WAIT_POLICY:-}" && -z "${GOMP_SPINCOUNT:-}" ]]; then
  export GOMP_SPINCOUNT=3000
fi
python=$("$here/setup.sh")
if [[ -z "$harness" ]]; then
  "$repo/scripts/setup-libtorch.sh"
  echo "== building the harness (release)" >&2
  cargo build --release --quiet --manifest-path "$repo/Cargo.toml" --workspace
  harness=$repo/target/release/harness
fi
mkdir -p "$out"
for seed in $(seq 1 "$seeds"); do
  echo "== seed $seed: harness (tch)" >&2
  "$harness" compare --dataset chebi20 --data-dir "$data_dir" --samplers random \
    --seed-list "$seed" --epochs "$epochs" --threads "$threads" --quiet --out "$out/harness-seed$seed"
  # The harness's epochs.csv in the reference's per-epoch schema.
  "$python" - "$out/harness-seed$seed/epochs.csv" "$out/harness-seed$seed.csv" <<'PY'
import csv, sys
columns = ["implementation", "seed", "epoch", "train_loss", "text_to_item_mrr", "text_to_item_r1",
           "text_to_item_r5", "text_to_item_r10", "item_to_text_mrr", "train_seconds", "eval_seconds"]
with open(sys.argv[1]) as src, open(sys.argv[2], "w", newline="") as dst:
    out = csv.writer(dst)
    out.writerow(columns)
    for row in csv.DictReader(src):
        row["implementation"] = "harness-tch"
        row["train_seconds"] = row["epoch_train_seconds"]
        row["eval_seconds"] = row["epoch_eval_seconds"]
        out.writerow(row[c] for c in columns)
PY
  echo "== seed $seed: reference (PyTorch + PyG)" >&2
  "$python" "$here/train.py" --seed "$seed" --epochs "$epochs" --threads "$threads" \
    --data-dir "$data_dir" --out "$out/pyg-seed$seed.csv"
done
"$python" "$here/plot_curves.py" "$out"/harness-seed*.csv "$out"/pyg-seed*.csv \
  --out "$out/curves.svg" | tee "$out/table.txt"
echo "learning curves: $out" >&2

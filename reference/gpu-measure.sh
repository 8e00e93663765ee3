#!/usr/bin/env bash
# Measures the harness against its plain PyTorch / PyTorch Geometric peers side by side, in one
# run, on a GPU machine (issue 15): neighbour tables, one ChEBI-20 training epoch, and a full
# 4 samplers x 5 seeds x 20 epochs comparison. Everything lands in OUT/summary.md.
#
#   reference/gpu-measure.sh --harness BUNDLE/harness --data-dir DIR --out OUT [--device cuda] [--quick]
#
# BUNDLE is what `scripts/build-against-pytorch --bundle` wrote (harness and plugins side by
# side). The peers run with `python3` (or $PYTHON), which needs torch; the training peer also
# needs torch_geometric (pure Python: carry its wheel) and is reported missing otherwise.
# --quick shrinks every size so that the script itself can be checked on a CPU in two minutes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
harness="" data_dir="" out="" device=cuda quick=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --harness) harness=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "gpu-measure: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -x $harness && -d $data_dir && -n $out ]] || {
  echo "gpu-measure: need --harness FILE, --data-dir DIR (ChEBI-20) and --out DIR" >&2; exit 2; }
mkdir -p "$out"
summary=$out/summary.md
log() { echo "$*" | tee -a "$summary"; }
: > "$summary"
log "# harness vs peers, $(date -u +%F) on $(hostname)"
log '```'
"$harness" --version 2>&1 | tee -a "$summary"
"$python" -c 'import torch; print("peer torch", torch.__version__, "cuda", torch.cuda.is_available() and torch.cuda.get_device_name(0))' 2>&1 | tee -a "$summary"
log '```'

samplers=random,hard,curriculum,progressive
if (( quick )); then
  sizes="4000x64" epochs=1 samplers=random,hard seeds=2 full_epochs=1
else
  sizes="100000x384 100000x768 1000000x384" epochs=3 seeds=5 full_epochs=20
fi

log "## Neighbour tables (top-100, self excluded)"
for size in $sizes; do
  n=${size%x*} d=${size#*x}
  input=$out/emb-$size.npy
  "$python" - "$input" "$n" "$d" <<'PY'
import sys
import numpy as np
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
np.save(path, x)
PY
  log '```'
  "$harness" knn --input "$input" --k 100 --device "$device" --output "$out/table-$size.npy" 2>&1 | tee -a "$summary"
  "$python" "$here/knn_peer.py" --input "$input" --k 100 --device "$device" --compare "$out/table-$size.npy" 2>&1 | tee -a "$summary"
  log '```'
  rm -f "$input"
done

log "## One ChEBI-20 training epoch (graph transformer, batch 32)"
log '```'
"$harness" compare --dataset chebi20 --data-dir "$data_dir" --samplers random --seeds 1 --epochs "$epochs" \
  --device "$device" --quiet --out "$out/epoch" > "$out/epoch.log" 2>&1 || { cat "$out/epoch.log" | tee -a "$summary"; }
"$python" - "$out/epoch/epochs.csv" <<'PY' | tee -a "$summary"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("harness epochs (train s, eval s):", ", ".join(f"{float(r['epoch_train_seconds']):.2f}/{float(r['epoch_eval_seconds']):.2f}" for r in rows))
PY
if "$python" -c "import torch_geometric" 2>/dev/null; then
  (cd "$here" && "$python" train.py --seed 1 --epochs "$epochs" --device "$device" --data-dir "$data_dir" \
    --out "$out/peer-epochs.csv" 2>&1 | grep -E "epoch [0-9]" | tee -a "$summary")
else
  log "PyTorch + PyG peer skipped: $python cannot import torch_geometric"
fi
log '```'

log "## Full comparison: $samplers x $seeds seeds x $full_epochs epochs, --jobs 8"
log '```'
started=$EPOCHREALTIME
"$harness" compare --dataset chebi20 --data-dir "$data_dir" --samplers "$samplers" \
  --seeds "$seeds" --epochs "$full_epochs" --jobs 8 --threads 2 --device "$device" --quiet --out "$out/full" 2>&1 | tee -a "$summary"
log "wall $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
log '```'
echo "gpu-measure: wrote $summary"

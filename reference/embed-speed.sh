#!/usr/bin/env bash
# `harness embed` against sentence-transformers on the same texts, threads and machine, rounds
# alternating so both see the same load. Needs the MiniLM model (scripts/setup-minilm.sh) and a
# Python with sentence-transformers (PYTHON=..., e.g. a venv made with
# `python3 -m venv v && v/bin/pip install sentence-transformers==6.2.0 torch==2.13.0`).
#
#   PYTHON=venv/bin/python reference/embed-speed.sh [--rounds 3] [--threads 2] TABLE.tsv...
#
# HARNESS=path/to/harness uses that binary instead of building this checkout's.
# Both run with GOMP_SPINCOUNT=3000 (the harness's default; see README "On a shared machine").
# Prints per round the seconds each spent embedding (model loading excluded) and CPU seconds of
# the whole process, then the medians.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=3
threads=2
tables=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) tables+=("$1"); shift ;;
  esac
done
[[ ${#tables[@]} -gt 0 ]] || { echo "usage: $0 [--rounds N] [--threads N] TABLE.tsv..." >&2; exit 2; }
python=${PYTHON:?set PYTHON to a python with sentence-transformers}
model=$("$repo/scripts/setup-minilm.sh")
harness=${HARNESS:-}
if [[ -z "$harness" ]]; then
  cargo build --release --quiet -p harness --manifest-path "$repo/Cargo.toml"
  harness=$repo/target/release/harness
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One plain table of every description, so both embed exactly the same list in one call.
{
  printf 'id\tdescription\n'
  for table in "${tables[@]}"; do tail -n +2 "$table" | awk -F'\t' -v t="$table" '{print t ":" NR "\t" $NF}'; done
} > "$work/all.tsv"
echo "texts: $(( $(wc -l < "$work/all.tsv") - 1 )), threads $threads, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

export GOMP_SPINCOUNT=3000
cpu() { /usr/bin/time -f "%U %S" -o "$work/time" "$@" > "$work/out" && awk '{print $1 + $2}' "$work/time"; }
declare -a rust_s rust_cpu st_s st_cpu
for round in $(seq "$rounds"); do
  rust_cpu+=("$(cpu "$harness" embed --input "$work/all.tsv" --output "$work/rust.npy" --model "$model" \
    --threads "$threads" --no-cache --quiet)")
  rust_s+=("$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' "$work/out")")
  st_cpu+=("$(cpu "$python" "$repo/reference/embed_speed.py" --model "$model" --threads "$threads" \
    --out "$work/st.npy" "$work/all.tsv")")
  st_s+=("$(awk '{print $4}' "$work/out")")
  echo "round $round: harness ${rust_s[-1]} s (process CPU ${rust_cpu[-1]} s), sentence-transformers ${st_s[-1]} s (process CPU ${st_cpu[-1]} s), load $(cut -d' ' -f1 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
r=$(median "${rust_s[@]}"); s=$(median "${st_s[@]}")
echo "median: harness $r s, sentence-transformers $s s, ratio $(awk -v r="$r" -v s="$s" 'BEGIN {printf "%.2f", r / s}')x;" \
  "CPU: harness $(median "${rust_cpu[@]}") s, sentence-transformers $(median "${st_cpu[@]}") s"
"$python" - "$work/rust.npy" "$work/st.npy" <<'PY'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
print(f"harness vs sentence-transformers: min cosine {cos.min():.9f}, max |diff| {np.abs(a - b).max():.3g}")
PY

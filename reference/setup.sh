#!/usr/bin/env bash
# Creates (or reuses) the Python environment of the PyTorch + PyTorch Geometric reference
# (reference/*.py) in a per-user cache and prints its python's path on stdout.
#
#   reference/setup.sh            # from any folder; a second run only prints the path
#   PYTHON=python3.12 reference/setup.sh
#
# The environment is a venv at ${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness/reference-venv.
# It counts as finished when its .complete marker holds the sha256 of requirements.txt, so an
# edited requirements file makes the next run rebuild it from scratch. requirements.txt is a
# complete lock and is installed with --no-deps (see its header for why).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requirements=$here/requirements.txt
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness
venv=$cache_root/reference-venv
marker=$venv/.complete
python=${PYTHON:-python3}

say() { echo "[reference-setup] $*" >&2; }

[[ -f "$requirements" ]] || { say "missing $requirements"; exit 1; }
want=$(sha256sum "$requirements" | cut -d' ' -f1)

mkdir -p "$cache_root"
# Two setups at once (e.g. two terminals) must not build the same venv together.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_root/.reference-venv.lock"
  flock 9
fi

if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -x "$venv/bin/python" ]]; then
  say "reusing $venv"
  echo "$venv/bin/python"
  exit 0
fi

command -v "$python" >/dev/null 2>&1 || { say "no $python on PATH (set PYTHON=...)"; exit 1; }
say "building $venv with $("$python" --version 2>&1) (torch 2.13.0 + CUDA import libraries:"
say "about 2.4 GB of downloads, 3.9 GB on disk)"
start=$(date +%s)
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --no-deps --only-binary=:all: -r "$requirements"
"$venv/bin/python" - <<'PY'
import warnings
warnings.simplefilter("ignore")
import matplotlib, numpy, torch, torch_geometric  # noqa: E401
from torch_geometric.nn import LayerNorm, TransformerConv  # noqa: F401
assert torch.__version__.split("+")[0] == "2.13.0", torch.__version__
torch.ones(2, 2) @ torch.ones(2, 2)
PY
echo "$want" > "$marker"
say "done in $(( $(date +%s) - start )) s, $(du -sh "$venv" | cut -f1) on disk"
echo "$venv/bin/python"

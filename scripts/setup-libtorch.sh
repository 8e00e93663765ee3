#!/usr/bin/env bash
# Installs the CPU libtorch that tch 0.26 expects (PyTorch 2.13.0) into a per-user cache,
# built from PyPI wheels, and points the workspace at it through the `.libtorch` link.
# Idempotent: a finished install is reused; a user's own LIBTORCH or LIBTORCH_USE_PYTORCH wins.
set -euo pipefail

TORCH_VERSION=2.13.0
CUDA_RUNTIME_VERSION=13.0.96
CUPTI_VERSION=13.0.85

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness
target=$cache_root/libtorch-$TORCH_VERSION-cpu
link=$repo_root/.libtorch

say() { echo "[setup-libtorch] $*" >&2; }

if [[ -n "${LIBTORCH_USE_PYTORCH:-}" ]]; then
  say "LIBTORCH_USE_PYTORCH is set: using the PyTorch of $(command -v python3) (it must be $TORCH_VERSION; for PyTorch 2.11 use scripts/build-against-pytorch)"
  exit 0
fi
if [[ -n "${LIBTORCH:-}" && "${LIBTORCH}" != "$link" ]]; then
  say "LIBTORCH is set: using $LIBTORCH (it must be $TORCH_VERSION; for PyTorch 2.11 use scripts/build-against-pytorch)"
  exit 0
fi

if [[ ! -f "$target/.complete" ]]; then
  say "installing libtorch $TORCH_VERSION (CPU) into $target"
  mkdir -p "$cache_root"
  work=$(mktemp -d "$cache_root/.install.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "downloading wheels (torch $TORCH_VERSION is about 530 MB; pip's cache makes a second run fast)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work/wheels" \
    "torch==$TORCH_VERSION" \
    "nvidia-cuda-runtime==$CUDA_RUNTIME_VERSION" \
    "nvidia-cuda-cupti==$CUPTI_VERSION"
  say "unpacking headers and CPU libraries"
  python3 - "$work/wheels" "$work/libtorch" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
torch_libs = {"libtorch_cpu.so", "libtorch.so", "libc10.so", "libgomp.so.1", "libshm.so"}
# libtorch_cpu.so of the CUDA-built wheel needs these two at load time, nothing else from CUDA.
cuda_libs = {"libcudart.so.13", "libcupti.so.13"}
found = set()
for wheel in sorted(wheels.glob("*.whl")):
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            name = member.filename
            base = name.rsplit("/", 1)[-1]
            if name.startswith("torch/include/") and not member.is_dir():
                dest = out / "include" / name[len("torch/include/"):]
            elif (name.startswith("torch/lib/") and base in torch_libs) or \
                 (name.startswith("nvidia/") and "/lib/" in name and base in cuda_libs):
                dest = out / "lib" / base
                found.add(base)
            else:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)
missing = (torch_libs | cuda_libs) - found
if missing:
    sys.exit(f"setup-libtorch: the wheels lack {sorted(missing)}")
PY
  echo "$TORCH_VERSION" > "$work/libtorch/build-version"
  touch "$work/libtorch/.complete"
  rm -rf "$target"
  mv "$work/libtorch" "$target"
  say "installed ($(du -sh "$target" | cut -f1))"
else
  say "libtorch $TORCH_VERSION found in $target"
fi

ln -sfn "$target" "$link"

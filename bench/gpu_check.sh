#!/usr/bin/env bash
# GPU check on the JAX backend: one prepared run (< 8 minutes) for a machine with CUDA + JAX but no
# TensorFlow and no network. It installs keras and its small pure-Python dependencies (plus jieba
# and pyahocorasick for the default model's lexicon features) from wheels carried in
# bench/wheels/, then runs bench/gpu_check.py (device; ALBERT-base encoder tokens/s at batch 64
# and 256 x 128 tokens, float32 vs bf16, jitted; ALBERT NER fine-tuning steps/s; ner eval chars/s
# of the default model and of an ALBERT model on MSRA test).
#
# Prepare here, where PyPI is reachable (bench/wheels/ and bench/gpu_data/ are git-ignored):
#   bench/gpu_check.sh --download            # wheels for CPython 3.10-3.12, manylinux x86_64
#   cp ../shared/data/msra/test.txt bench/gpu_data/msra_test.txt   # research data: never commit
#   (optional) cp -r runs/<an ALBERT run>/best bench/gpu_data/albert_model
# Then carry bench/wheels and bench/gpu_data to the GPU machine and run there:
#   bench/gpu_check.sh                        # writes $OUT/gpu_check.json (or ./gpu_check.json)
# On a CPU machine with jax installed, prove it end to end with a tiny encoder:
#   bench/gpu_check.sh --tiny
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
WHEELS="${WHEELS:-$HERE/wheels}"
DATA="${DATA:-$HERE/gpu_data}"
PYTHON="${PYTHON:-python3}"
# keras 3.15.1 and what it imports (rich -> markdown-it-py -> mdurl, pygments), jieba, pyahocorasick.
PURE="keras==3.15.1 absl-py namex rich markdown-it-py mdurl pygments packaging typing_extensions"
BINARY="optree h5py pyahocorasick"

if [[ "${1:-}" == "--download" ]]; then
  mkdir -p "$WHEELS"
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" $PURE
  for version in 3.10 3.11 3.12; do
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" \
      --python-version "$version" --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
      $BINARY
  done
  "$PYTHON" -m pip wheel -q --no-deps -w "$WHEELS" jieba==0.42.1   # sdist only on PyPI
  du -sh "$WHEELS"
  exit 0
fi

TINY=()
if [[ "${1:-}" == "--tiny" ]]; then TINY=(--tiny --batches 4,8 --length 32 --train-batch 4 \
  --seconds 2 --eval-sentences 48); fi
START=$(date +%s)
VENV="${VENV:-/tmp/kgpipe_gpu_check_venv}"
if ! "$PYTHON" -c "import keras, jieba, ahocorasick" 2>/dev/null; then
  # A venv that sees the machine's jax/CUDA packages, with the carried wheels on top.
  "$PYTHON" -m venv --system-site-packages "$VENV"
  PYTHON="$VENV/bin/python"
  "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" --no-deps $PURE $BINARY jieba \
    || { echo "missing wheels in $WHEELS: run bench/gpu_check.sh --download where PyPI is reachable"; exit 2; }
fi
# kgpipe itself from this checkout: the stage folders under the kgpipe namespace, no install.
SRC="$(mktemp -d)"
mkdir -p "$SRC/kgpipe"
for stage in schemas ner linking kg pipeline; do ln -s "$REPO/$stage" "$SRC/kgpipe/$stage"; done
MSRA="$REPO/../shared/data/msra/test.txt"
[[ -f "$MSRA" ]] || MSRA="$DATA/msra_test.txt"
ALBERT=()
[[ -d "$DATA/albert_model" ]] && ALBERT=(--albert-model "$DATA/albert_model")
RESULT="${OUT:-.}/gpu_check.json"
mkdir -p "$(dirname "$RESULT")"
KERAS_BACKEND=jax PYTHONPATH="$SRC" timeout "${TIMEOUT:-450}" "$PYTHON" "$HERE/gpu_check.py" --out "$RESULT" \
  --msra "$MSRA" "${ALBERT[@]}" "${TINY[@]}"
echo "gpu_check: $(( $(date +%s) - START ))s in all; results in $RESULT"

#!/usr/bin/env bash
# Create ./.venv and install tcnvae with its test extras.
# torch is installed first and pinned: the CPU wheel lies on local disk, while an
# unpinned torch would pull a multi-GB CUDA build from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[train,test${TCNVAE_EXTRAS:+,$TCNVAE_EXTRAS}]"

#!/usr/bin/env bash
# Create ./.venv (or $TCNVAE_VENV) and install tcnvae with its test extras (+ $TCNVAE_EXTRAS).
# torch is installed first and pinned: the CPU wheel lies on local disk, while an
# unpinned torch would pull a multi-GB CUDA build from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
VENV="${TCNVAE_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
"$VENV/bin/python" -m pip install --quiet -e ".[train,test${TCNVAE_EXTRAS:+,$TCNVAE_EXTRAS}]"

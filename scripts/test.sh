#!/usr/bin/env bash
# The README's test command: install what the tests need, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The edge install must resolve to aarch64 wheels (Raspberry Pi); needs only the package index.
bash scripts/check_aarch64.sh
# wrk drives the serving benchmark only; tests do not need it.
.venv/bin/python -m pytest -q "$@"
# A real tritonserver (PyTriton's wheel) needs numpy<2, so its test runs from a venv of its own,
# after the whole suite (where it skips, saying why). Only for a full run; TCNVAE_SKIP_TRITON=1 skips it.
if [ $# -eq 0 ] && [ -z "${TCNVAE_SKIP_TRITON:-}" ]; then
  TCNVAE_VENV=.venv-triton TCNVAE_EXTRAS=triton bash scripts/install.sh
  .venv-triton/bin/python -m pytest -q tests/serve/sidecar/test_real_triton.py
fi

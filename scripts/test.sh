#!/usr/bin/env bash
# The README's test command: install what the tests need, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The edge install must resolve to aarch64 wheels (Raspberry Pi); needs only the package index.
bash scripts/check_aarch64.sh
# wrk drives the serving benchmark only; tests do not need it.
exec .venv/bin/python -m pytest -q "$@"

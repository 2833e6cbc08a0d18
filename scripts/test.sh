#!/usr/bin/env bash
# The README's test command: install what the tests need, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# wrk drives the serving benchmark only; tests do not need it.
exec .venv/bin/python -m pytest -q "$@"

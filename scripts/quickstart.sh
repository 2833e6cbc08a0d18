#!/usr/bin/env bash
# The README's main-job command: install, then run `tcnvae quickstart` (extra args pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/tcnvae quickstart "$@"

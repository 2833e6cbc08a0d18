#!/usr/bin/env bash
# Resolve the edge install (pyproject's core dependencies, no extras) for a Raspberry Pi 4/5:
# 64-bit Raspberry Pi OS / Debian, aarch64, CPython 3.11. Wheels only: any dependency without an
# aarch64 wheel would need a compiler on the Pi, so the check fails and names it.
# manylinux2014 = glibc 2.17; manylinux_2_28 covers wheels built for newer glibc (bookworm has 2.36).
# Needs only the package index; downloads into a temp dir (pip's cache keeps re-runs fast).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PY" - "$TMP/requirements.txt" <<'PYEOF'
import sys, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
open(sys.argv[1], "w").write("\n".join(deps) + "\n")
PYEOF
if ! "$PY" -m pip download --quiet --dest "$TMP/wheels" --only-binary=:all: \
    --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
    --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    -r "$TMP/requirements.txt" 2>"$TMP/err"; then
  grep -v "^WARNING: Location" "$TMP/err" >&2 || true
  echo "check_aarch64: the edge install does not resolve to aarch64/CPython 3.11 wheels (see above)" >&2
  exit 1
fi
n=$(ls "$TMP/wheels" | wc -l)
bad=$(ls "$TMP/wheels" | grep -v -e '_aarch64\.whl$' -e '-none-any\.whl$' || true)
if [ -n "$bad" ]; then
  echo "check_aarch64: not aarch64 or pure-Python wheels: $bad" >&2
  exit 1
fi
echo "check_aarch64: OK, $n wheels for manylinux aarch64 / CPython 3.11:"
ls "$TMP/wheels" | sed 's/^/  /'

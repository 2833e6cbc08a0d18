"""`tcnvae evaluate` on a run directory: the same held-out numbers as training reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_evaluate_cli_reproduces_the_run_metrics(run_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", str(run_dir), "--data", "watch",
                           "--split", "test", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((tmp_path / "eval_metrics.json").read_text())["test"]
    want = json.loads((run_dir / "eval_metrics.json").read_text())["test"]
    assert got["n_windows"] == want["n_windows"]
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-6)
    assert got["macro_f1"] == pytest.approx(want["macro_f1"], abs=1e-6)
    assert (tmp_path / "confusion_matrix_test.png").is_file() and (tmp_path / "latent_2d_test.png").is_file()


def test_evaluate_cli_refuses_an_unknown_ref(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", "tcn_encoder@v9.9.9", "--data", "watch",
                           "--models", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "tcn_encoder" in proc.stderr and "Traceback" not in proc.stderr

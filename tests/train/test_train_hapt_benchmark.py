"""benchmarks/train_hapt.py --recipe default: the official HAPT split trained with what `tcnvae train`
does without flags (one epoch on 1,500 windows of the real archive), scored one pass, averaged
over shifted windows and adapted per test subject, as `tcnvae evaluate` would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "train_hapt.py"


def test_default_recipe_on_the_official_split(tmp_path: Path, shared_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--from", str(shared_dir / "data" / "uci-hapt.zip"), "--tasks", "hapt6",
         "--recipe", "default", "--set", "epochs=1", "--set", "max_train_windows=1500",
         "--set", "threads=2", "--skip-minirocket", "--no-append", "--runs", str(tmp_path)],
        capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(next(line for line in done.stdout.splitlines() if line.startswith('{"accuracy"')))
    assert row["n_test"] == 8275  # the 9 official test subjects' HAPT-6 windows (BENCHMARKS.md)
    for key in ("macro_f1", "averaged_macro_f1", "adapted_macro_f1"):
        assert 1.5 / 6 < row[key] <= 1.0, key  # held-out people, above chance even after one tiny epoch
    assert row["seconds"] > 0 and row["best_epoch"] == 1

    cfg = json.loads((tmp_path / "bench-hapt6" / "train_config.json").read_text())
    assert cfg["val_subjects"] == 0.15 and cfg["patience"] == 30  # the default recipe, not configs/hapt6.json
    assert len(cfg["classes"]) == 6 and cfg["epochs"] == 1
    assert "(default recipe, epochs=1, max_train_windows=1500, threads=2)" in done.stdout
    assert "averaged over ±25/±50-sample shifts macro-F1" in done.stdout and "AdaBN per test subject" in done.stdout

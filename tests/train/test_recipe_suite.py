"""benchmarks/recipe_suite.py, the suite that chooses the default recipe: one real fold of the
Apple-Watch recordings end to end (a tiny, short training; MiniRocket skipped), then its printed
log published as a table, alone and joined with another run's log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tcnvae.train.cv import subject_folds

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "recipe_suite.py"
# The recipe flags of the run, repeated when its log is published (the table names its recipe).
RECIPE = ["--datasets", "watch", "--folds", "3", "--seeds", "0", "--set", "preset=tiny", "--set", "epochs=2",
          "--set", "max_train_windows=1500", "--set", "threads=2"]


def suite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SUITE), *RECIPE, *args, "--no-append"],
                          capture_output=True, text=True, timeout=600)


def fold_rows(log: str) -> list[dict]:
    return [json.loads(line) for line in log.splitlines() if line.startswith('{"fold"')]


@pytest.fixture(scope="module")
def fold_log(tmp_path_factory) -> tuple[Path, dict]:
    """The printed log of the suite on fold 1 of 3 (seed 0), and that fold's row."""
    out = tmp_path_factory.mktemp("suite")
    done = suite("--only-folds", "1", "--minirocket", "skip", "--average-shifts", "none", "--shadow-patience", "1",
                 "--runs", str(out / "runs"))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = fold_rows(done.stdout)
    assert len(rows) == 1
    log = out / "fold1.log"
    log.write_text(done.stdout)
    return log, rows[0]


def test_a_fold_row_tests_subjects_the_run_never_trained_on(fold_log) -> None:
    _, row = fold_log
    assert (row["dataset"], row["seed"], row["fold"]) == ("watch", 0, 1)
    # Fold 1 of the shared split, whose test subjects never train (tests/train/test_cv.py).
    assert row["test_subjects"] == list(subject_folds(("watch",), 3, seed=0)[0].test_subjects)
    assert 0.0 < row["tcnvae"]["macro_f1"] <= 1.0 and row["tcnvae"]["n_windows"] > 0
    assert row["epochs"]["trained"] == 2 and row["epochs"]["best"] in (1, 2)
    assert row["tcnvae_shadow"]["patience"] == 1 and "minirocket" not in row


def test_publish_joins_logs_and_refuses_another_datasets_rows(fold_log, tmp_path: Path) -> None:
    log, row = fold_log
    published = suite("--publish", str(log))
    assert published.returncode == 0, published.stderr
    assert f"**{row['tcnvae']['macro_f1']:.3f}" in published.stdout
    assert "1 of 3 folds in this log" in published.stdout

    # The same fold printed again by a resumed run counts once; the other folds are said to be missing.
    joined = suite("--publish", str(log), str(log))
    assert joined.returncode == 0 and "1 of 3 folds in these logs" in joined.stdout

    # hapt6 and hapt12 folds share (seed, fold) keys: a row of another dataset must not pair with these.
    other = tmp_path / "hapt12.log"
    other.write_text(json.dumps({**row, "dataset": "hapt12"}) + "\n")
    refused = suite("--publish", str(log), str(other))
    assert refused.returncode != 0 and f"{other}:1: a hapt12 fold row, not watch" in refused.stderr

    missing = suite("--publish", str(tmp_path / "absent.log"))
    assert missing.returncode != 0 and "absent.log: no such log" in missing.stderr

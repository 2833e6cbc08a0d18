"""`tcnvae cv`: K subject folds, each subject tested once by a model that never saw it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tcnvae.train.config import ConfigError
from tcnvae.train.cv import fold_scores, subject_folds, summarize
from tests import hapt_csv


def test_summary_is_mean_sd_and_the_summed_confusion() -> None:
    names = ("a", "b")
    f1 = {**fold_scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), names), "fold": 1}
    f2 = {**fold_scores(np.array([0, 1]), np.array([0, 1]), names), "fold": 2}
    s = summarize([f1, f2], names)
    assert s["accuracy_mean"] == pytest.approx((0.75 + 1.0) / 2)
    assert s["accuracy_sd"] == pytest.approx(np.std([0.75, 1.0], ddof=1))
    assert s["confusion_matrix"] == [[2, 1], [0, 3]] and s["pooled_accuracy"] == pytest.approx(5 / 6)


def test_folds_test_every_subject_once() -> None:
    folds = subject_folds(("watch",), 3, seed=1)
    tested = [s for f in folds for s in f.test_subjects]
    assert sorted(tested) == sorted(set(tested)) and len(tested) == 10
    assert all(not set(f.test_subjects) & set(f.train_subjects) for f in folds)
    with pytest.raises(ConfigError, match="between 2 and the number of subjects"):
        subject_folds(("watch",), 11)


@pytest.fixture
def cli(tmp_path: Path):
    """`python -m tcnvae.cli ARGS` with a fetched `csv` dataset of three real HAPT users."""
    if not hapt_csv.HAPT_ZIP.exists():
        pytest.skip(f"{hapt_csv.HAPT_ZIP} not available")
    folder = hapt_csv.write_folder(tmp_path / "d", users=(1, 2, 3), max_s=8.0)
    env = {**os.environ, "TCNVAE_DATA": str(tmp_path / "data")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tcnvae.cli", *args], capture_output=True, text=True,
                              timeout=900, env=env)

    assert run("data", "fetch", "csv", "--from", str(folder)).returncode == 0
    return run


def test_cv_cli_leave_one_subject_out(tmp_path: Path, cli) -> None:
    out = tmp_path / "cv"
    proc = cli("cv", "--data", "csv", "--folds", "3", "--out", str(out), "--preset", "tiny", "--epochs", "1",
               "--batch-size", "32", "--val-subjects", "1", "--threads", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "cv.json").read_text())
    assert doc["leave_one_subject_out"] is True
    assert [f["test_subjects"] for f in doc["folds"]] and sorted(s for f in doc["folds"] for s in f["test_subjects"]) \
        == ["csv:u1", "csv:u2", "csv:u3"]
    for f in doc["folds"]:
        labels = json.loads(Path(f["run_dir"], "labels.json").read_text())
        assert labels["subjects"]["test"] == f["test_subjects"]
        assert not set(f["test_subjects"]) & set(labels["subjects"]["train"] + labels["subjects"]["validation"])
    s = doc["summary"]
    assert s["n_windows"] == sum(f["n_windows"] for f in doc["folds"]) == int(np.sum(s["confusion_matrix"]))
    assert "| **mean ± sd** | 3 folds |" in proc.stdout and (out / "confusion_matrix_cv.png").is_file()
    # a second call reuses the finished folds; --average-shifts adds the averaged scores beside them
    again = cli("cv", "--data", "csv", "--folds", "3", "--out", str(out), "--preset", "tiny", "--epochs", "1",
                "--batch-size", "32", "--val-subjects", "1", "--threads", "2", "--average-shifts", "25")
    assert again.returncode == 0 and "reusing the finished run" in again.stderr, again.stderr[-3000:]
    doc = json.loads((out / "cv.json").read_text())
    averaged = doc["summary"].pop("averaged")
    assert doc["summary"] == s and averaged["offsets"] == [-25, 25] and averaged["n_windows"] == s["n_windows"]
    assert "macro-F1 averaged over ±25 |" in again.stdout
    # each fold's averaged score is what `tcnvae evaluate --average-shifts` reports for its model
    fold = doc["folds"][0]
    ev = cli("evaluate", fold["run_dir"], "--data", "csv", "--average-shifts", "25", "--out", str(tmp_path / "ev"))
    assert ev.returncode == 0, ev.stderr[-3000:]
    got = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())["test_averaged"]
    assert got["macro_f1"] == pytest.approx(fold["averaged"]["macro_f1"], abs=1e-9)
    assert got["confusion_matrix"] == fold["averaged"]["confusion_matrix"]


def test_cv_cli_adapt_scores_each_fold_as_evaluate_adapt_does(tmp_path: Path, cli) -> None:
    base = ("cv", "--data", "csv", "--folds", "3", "--epochs", "1", "--batch-size", "32", "--val-subjects", "1",
            "--threads", "2", "--adapt")
    refused = cli(*base, "--preset", "tiny", "--out", str(tmp_path / "no"))  # weight norm: nothing to adapt
    assert refused.returncode != 0 and "--adapt" in refused.stderr and "BatchNorm" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "no").exists()
    out = tmp_path / "cv"
    proc = cli(*base, "--preset", "deep_bn", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "cv.json").read_text())
    adapted = doc["summary"]["adapted"]
    assert adapted["n_windows"] == doc["summary"]["n_windows"]
    assert "macro-F1 adapted (AdaBN per test subject) |" in proc.stdout
    # each fold's adapted score is what `tcnvae evaluate --adapt` reports for its model
    fold = doc["folds"][0]
    ev = cli("evaluate", fold["run_dir"], "--data", "csv", "--adapt", "--out", str(tmp_path / "ev"))
    assert ev.returncode == 0, ev.stderr[-3000:]
    got = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())
    assert got["test_adapted"]["macro_f1"] == pytest.approx(fold["adapted"]["macro_f1"], abs=1e-9)
    assert got["test_adapted"]["confusion_matrix"] == fold["adapted"]["confusion_matrix"]

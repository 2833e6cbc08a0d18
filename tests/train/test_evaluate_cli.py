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


def test_evaluate_cli_averages_over_shifted_windows_beside_the_one_pass_numbers(run_dir: Path,
                                                                                tmp_path: Path) -> None:
    import shutil

    run = shutil.copytree(run_dir, tmp_path / "run")  # evaluate writes into the run directory
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", str(run), "--data", "watch",
                           "--average-shifts", "25,50"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((run / "eval_metrics.json").read_text())
    one_pass, averaged = doc["test"], doc["test_averaged"]
    assert one_pass == json.loads((run_dir / "eval_metrics.json").read_text())["test"]  # kept as it was
    assert averaged["averaged_shifts"] == [-50, -25, 25, 50]
    assert averaged["n_windows"] == one_pass["n_windows"] and averaged["subjects"] == one_pass["subjects"]
    assert 0.0 <= averaged["macro_f1"] <= 1.0
    assert sum(map(sum, averaged["confusion_matrix"])) == one_pass["n_windows"]
    assert (run / "confusion_matrix_test_averaged.png").is_file()
    assert json.loads(proc.stdout[:proc.stdout.rindex("}") + 1])["averaged_shifts"] == [-50, -25, 25, 50]


@pytest.mark.parametrize("value", ["0", "100", "x", ","])
def test_evaluate_cli_refuses_a_bad_shift(run_dir: Path, tmp_path: Path, value: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", str(run_dir), "--data", "watch",
                           "--average-shifts", value, "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and "--average-shifts" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "eval_metrics.json").exists()


def test_evaluate_cli_refuses_an_unknown_ref(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", "tcn_encoder@v9.9.9", "--data", "watch",
                           "--models", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "tcn_encoder" in proc.stderr and "Traceback" not in proc.stderr


def test_evaluate_cli_adapts_batch_norm_to_each_test_subject(tmp_path: Path) -> None:
    import numpy as np
    import torch

    from tcnvae.data.dataset import load_recordings
    from tcnvae.data.normalize import Normalizer
    from tcnvae.evaluate import classification_metrics
    from tcnvae.model.adabn import adapt_batch_norm
    from tcnvae.model.checkpoint import load_model
    from tcnvae.train.loop import predict
    from tcnvae.train.prepare import split_windows
    from tests.support import make_run_dir

    run = make_run_dir(tmp_path / "run", preset="deep_bn", epochs=1, max_train_windows=256)
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", str(run), "--data", "watch", "--adapt",
                           "--out", str(tmp_path / "ev")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())["test_adapted"]
    # every window of each test subject's recordings (stride 50) re-estimates that subject's statistics
    recordings = load_recordings("watch")
    assert got["adapted_windows"] == {s: sum((len(r) - 100) // 50 + 1 for r in recordings if r.subject == s)
                                      for s in got["subjects"]}
    model, _ = load_model(run / "model.safetensors")
    norm = Normalizer.load(run / "normalization.json")
    test, _ = split_windows(("watch",), tuple(model.config.label_names), "test", test_subjects=got["subjects"])
    pred = np.zeros(len(test), dtype=np.int64)
    for s in got["subjects"]:
        mine = test.subject == s
        x = np.concatenate([np.lib.stride_tricks.sliding_window_view(r.signals, 100, axis=0)[::50].transpose(0, 2, 1)
                            for r in recordings if r.subject == s])
        adapted = adapt_batch_norm(model, torch.from_numpy(norm.apply(x.astype(np.float32))))
        pred[mine] = predict(adapted, norm.apply(test.x[mine]))[0].argmax(1)
    want = classification_metrics(test.y, pred, tuple(model.config.label_names))
    assert got["macro_f1"] == pytest.approx(want["macro_f1"], abs=1e-9) and got["n_windows"] == len(test)


def test_evaluate_cli_adapt_refuses_a_model_without_batch_norm(run_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "evaluate", str(run_dir), "--data", "watch", "--adapt",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "no BatchNorm" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "eval_metrics.json").exists()

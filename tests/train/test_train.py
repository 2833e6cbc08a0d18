"""Training on real data: held-out-subject accuracy, finite curves, resume, determinism, config."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tcnvae.errors import TcnvaeError
from tcnvae.train.config import ConfigError, build_config
from tcnvae.train.loop import Trainer
from tcnvae.train.prepare import prepare
from tests.support import TINY_TRAINING, make_registry


def test_held_out_subjects_far_above_chance(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "eval_metrics.json").read_text())
    labels = json.loads((run_dir / "labels.json").read_text())
    chance = 1.0 / len(labels["labels"])
    test = metrics["test"]
    assert set(test["subjects"]).isdisjoint(labels["subjects"]["train"])
    assert set(labels["subjects"]["validation"]).isdisjoint(labels["subjects"]["train"])
    assert test["accuracy"] > 2.0 * chance, test["accuracy"]
    assert test["linear_probe_accuracy"] > 2.0 * chance
    assert 0 < metrics["training"]["best_epoch"] <= TINY_TRAINING["epochs"]
    assert metrics["training"]["refit"] is False and 0 < metrics["training"]["best_val_macro_f1"] <= 1


def test_outputs_and_finite_curves(run_dir: Path) -> None:
    for name in ("model.safetensors", "model_config.json", "train_config.json", "normalization.json",
                 "labels.json", "motifs.json", "history.jsonl", "curves.png", "confusion_matrix_test.png",
                 "latent_2d_test.png", "samples/calibration.npy", "samples/heldout.npz"):
        assert (run_dir / name).is_file(), name
    rows = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1))
    for r in rows:
        assert all(v == v and abs(v) < 1e6 for k, v in r.items() if isinstance(v, float)), r
    motifs = json.loads((run_dir / "motifs.json").read_text())
    assert len(motifs["motifs"]) == 12
    assert abs(sum(m["share"] for m in motifs["motifs"]) - 1.0) < 1e-3
    assert json.loads((run_dir / "train_config.json").read_text())["seed"] == TINY_TRAINING["seed"]


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_resume_continues_exactly_where_it_stopped(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = build_config(**{**TINY_TRAINING, "epochs": 2, "max_train_windows": 300})
    data = prepare(cfg)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = Trainer(cfg, data, tmp_path / "a")
    whole.fit()
    first = Trainer(cfg, data, tmp_path / "b")
    first.fit(stop_after=1)
    assert first.epoch == 1
    resumed = Trainer(cfg, data, tmp_path / "b")
    assert resumed.load_state() and resumed.epoch == 1
    resumed.fit()
    a, b = _weights(whole), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)  # same seed, same batches: identical weights
    rows = (tmp_path / "b" / "history.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2]


def test_a_longer_patience_run_is_the_shorter_one_up_to_its_stop(tmp_path: Path) -> None:
    """Every epoch reseeds from (seed, epoch), so patience changes where a run ends, never what it
    learns before: the recipe suite's --shadow-patience scores both recipes from one training."""
    from tcnvae.model.checkpoint import load_model

    torch.set_num_threads(1)
    short = build_config(**{**TINY_TRAINING, "epochs": 4, "max_train_windows": 300, "patience": 1})
    data = prepare(short)
    (tmp_path / "short").mkdir()
    (tmp_path / "long").mkdir()
    stopped = Trainer(short, data, tmp_path / "short")
    stopped.fit()
    snapshot = tmp_path / "long-at-stop.safetensors"

    def keep_at_stop(row: dict) -> None:
        if row["epoch"] == stopped.epoch:
            snapshot.write_bytes((tmp_path / "long" / "model.safetensors").read_bytes())

    longer = Trainer(dataclasses.replace(short, patience=30), data, tmp_path / "long")
    longer.fit(keep_at_stop)
    assert longer.epoch == 4 and stopped.epoch <= 4
    rows = [json.loads(r) for r in (tmp_path / "long" / "history.jsonl").read_text().splitlines()]
    early = [json.loads(r) for r in (tmp_path / "short" / "history.jsonl").read_text().splitlines()]
    assert [r["val_macro_f1"] for r in rows[:len(early)]] == [r["val_macro_f1"] for r in early]
    a, _ = load_model(tmp_path / "short" / "model.safetensors")
    b, _ = load_model(snapshot)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_batch_norm_statistics_reach_the_validated_average(tmp_path: Path) -> None:
    """The EMA model is what is validated and saved: it must carry BatchNorm's running statistics
    (averaging parameters alone left them at 0/1 and validation at chance)."""
    torch.set_num_threads(1)
    cfg = build_config(**{**TINY_TRAINING, "preset": "deep_bn", "epochs": 1, "max_train_windows": 256})
    trainer = Trainer(cfg, prepare(cfg), tmp_path)
    trainer.fit()
    live, averaged = dict(trainer.model.named_buffers()), dict(trainer.ema.named_buffers())
    means = [k for k in live if k.endswith("running_mean")]
    assert means and all(torch.equal(live[k], averaged[k]) for k in live)
    assert all(averaged[k].abs().sum() > 0 for k in means)  # moved off the initial zeros


def test_refit_trains_every_training_subject_and_keeps_the_last_epoch(tmp_path: Path) -> None:
    """val_subjects=0: no validation subjects, no early stopping; the last epoch's weights ship."""
    out = tmp_path / "refit"
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "train", "--data", "watch", "--out", str(out),
                           "--preset", "tiny", "--epochs", "2", "--val-subjects", "0", "--threads", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refit: no validation subjects" in proc.stdout + proc.stderr
    labels = json.loads((out / "labels.json").read_text())
    assert labels["subjects"]["validation"] == []
    assert set(labels["subjects"]["train"]).isdisjoint(labels["subjects"]["test"])
    rows = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and all("val_macro_f1" not in r for r in rows)
    metrics = json.loads((out / "eval_metrics.json").read_text())
    assert metrics["training"]["refit"] is True and metrics["training"]["best_epoch"] == 2
    assert "validation" not in metrics and metrics["test"]["accuracy"] > 0
    assert (out / "curves.png").is_file()
    reg = make_registry(tmp_path / "models", out)
    assert "Refit: every training subject fit for 2 epochs" in (reg / "tcn_encoder" / "v1.0.0" / "model_card.md").read_text()


def test_config_refuses_unknown_keys(tmp_path: Path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"epochs": 3, "learning_rate": 0.1}))
    with pytest.raises(ConfigError, match="learning_rate"):
        build_config(bad)
    with pytest.raises(ConfigError, match="classes"):
        prepare(build_config(data="watch", classes="WALKING"))


def test_cli_refuses_a_non_empty_run_dir(run_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcnvae.cli", "train", "--data", "watch", "--out", str(run_dir),
                           "--epochs", "1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "not empty" in proc.stderr and "Traceback" not in proc.stderr
    assert issubclass(ConfigError, TcnvaeError)

"""`refit`: early stopping on validation subjects chooses the epoch budget, then a fresh model trains
on every training subject for it; a real `watch` training, resumed after its first stage."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from tcnvae.model.checkpoint import read_metadata
from tcnvae.train.config import ConfigError, build_config
from tcnvae.train.run import SELECTION_DIR, train_run
from tests.support import TINY_TRAINING


def test_refit_needs_validation_subjects() -> None:
    with pytest.raises(ConfigError, match="refit needs validation subjects"):
        build_config(refit=True, val_subjects=0)


def _rows(path) -> list[dict]:
    return [json.loads(r) for r in path.read_text().splitlines() if r.strip()]


def test_refit_trains_on_the_validation_subjects_for_the_selected_epochs(tmp_path) -> None:
    torch.set_num_threads(2)
    cfg = build_config(**{**TINY_TRAINING, "refit": True})
    run = tmp_path / "run"
    steps: list[dict] = []
    results = train_run(cfg, run, on_step=steps.append)

    selection = _rows(run / SELECTION_DIR / "history.jsonl")
    assert all("val_macro_f1" in r for r in selection)  # the first stage validated every epoch
    chosen = max(selection, key=lambda r: r["val_macro_f1"])["epoch"]
    assert int(read_metadata(run / SELECTION_DIR / "model.safetensors")["epoch"]) == chosen
    refit = _rows(run / "history.jsonl")
    assert [r["epoch"] for r in refit] == list(range(1, chosen + 1))  # the selected budget, no more
    assert not any("val_macro_f1" in r for r in refit)
    assert refit[-1]["lr"] < 1e-3 * cfg.lr  # annealed over that budget, not cut off mid-schedule
    # Progress reports each stage's own budget (the CLI's "epoch 2/3"), the refit's the selected one.
    budgets = [m["epochs"] for m in steps]
    first = len(selection) * steps[0]["steps"]
    assert set(budgets[:first]) == {cfg.epochs} and set(budgets[first:]) == {chosen}

    labels = json.loads((run / "labels.json").read_text())
    assert not labels["subjects"].get("validation")  # the validation subject now trains
    assert json.loads((run / "train_config.json").read_text())["refit"] is True  # what the user asked for
    metrics = json.loads((run / "eval_metrics.json").read_text())
    assert metrics["training"]["refit"] is True and metrics["training"]["n_windows"]["validation"] == 0
    before = metrics["selection"]
    assert before["best_epoch"] == chosen and before["test"]["n_windows"] == metrics["test"]["n_windows"] > 0
    assert results["selection"] == before
    # Held-out people, above chance (6 classes) even for this tiny model's short budget.
    assert metrics["test"]["accuracy"] > 1.5 / 6 and before["test"]["accuracy"] > 1.5 / 6

    # Interrupted after its first stage: a resume trains the refit again, and only the refit.
    weights = load_file(run / "model.safetensors")
    for name in ("state.pt", "model.safetensors", "history.jsonl", "eval_metrics.json"):
        (run / name).unlink()
    train_run(cfg, run, resume=True)
    assert _rows(run / SELECTION_DIR / "history.jsonl") == selection
    assert len(_rows(run / "history.jsonl")) == chosen
    again = load_file(run / "model.safetensors")
    assert all(torch.equal(weights[k], again[k]) for k in weights)  # same data, seed and budget: same model

"""Unlabelled windows: cut beside labelled ones, masked out of the activity loss, mixed into
batches, and a real partly labelled HAPT folder trained semi-supervised (VAE + pseudo-labels)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tcnvae.data.fetch import fetch
from tcnvae.data.recording import Recording
from tcnvae.data.windows import make_windows
from tcnvae.train.config import ConfigError, build_config
from tcnvae.train.loop import mixed_batches
from tcnvae.train.losses import pseudo_label_loss, pseudo_threshold, total_loss
from tcnvae.train.run import train_run
from tests.train.hapt_folder import write_hapt_folder


def _recording(labels: np.ndarray, subject: str = "s:1") -> Recording:
    x = np.random.default_rng(0).normal(size=(len(labels), 9)).astype(np.float32)
    return Recording(x, np.ones(9, bool), labels, ("a", "b"), subject, "d", 100.0, subject)


def test_unlabelled_stretches_give_windows_only_when_asked() -> None:
    lab = np.full(1000, -1)
    lab[200:500], lab[600:900] = 0, 1
    rec = _recording(lab)
    pure = make_windows([rec])
    both = make_windows([rec], unlabelled=True)
    assert (pure.y >= 0).all() and len(pure) == 10
    assert len(both) == 15 and (both.y == -1).sum() == 5  # 3 in [0, 200), 1 in [500, 600), 1 in [900, 1000)
    assert both.class_counts() == pure.class_counts() == {"a": 5, "b": 5}
    assert both.labelled.sum() == 10
    mixed = make_windows([rec], purity=0.8, unlabelled=True)  # every window; short majorities are -1
    assert len(mixed) == 19 and set(mixed.y.tolist()) == {-1, 0, 1}
    none = make_windows([_recording(np.full(400, -1), "s:2")], unlabelled=True)
    assert len(none) == 7 and (none.y == -1).all()


def test_classification_loss_is_masked_to_labelled_windows() -> None:
    torch.manual_seed(0)
    out = {"recon": torch.randn(4, 100, 9, requires_grad=True), "mu": torch.randn(4, 8, requires_grad=True),
           "logvar": torch.zeros(4, 8), "logits": torch.randn(4, 3, requires_grad=True)}
    x = torch.randn(4, 100, 9)
    w = {"recon": 1.0, "beta": 0.01, "cls": 1.0, "domain": 0.0}
    y = torch.tensor([2, -1, 0, -1])
    _, parts = total_loss(out, x, y, None, w, 0.0, None, 0.0)
    assert parts["ce"] == pytest.approx(float(F.cross_entropy(out["logits"][[0, 2]], y[[0, 2]]).detach()), rel=1e-6)
    loss, parts = total_loss(out, x, torch.full((4,), -1), None, w, 0.1, None, 0.0)
    assert parts["ce"] == 0.0
    loss.backward()  # reconstruction and KL still train on an all-unlabelled batch
    assert out["recon"].grad.abs().sum() > 0 and out["logits"].grad is None


def test_mixed_batches_hold_the_labelled_share() -> None:
    labelled = np.zeros(1000, dtype=bool)
    labelled[::20] = True  # 5 % labels
    batches = list(mixed_batches(labelled, 64, 16, 0.5, np.random.default_rng(0)))
    assert len(batches) == 16 and all(len(b) == 64 and labelled[b].sum() == 32 for b in batches)
    seen = np.concatenate(batches)
    assert set(seen[labelled[seen]]) == set(np.flatnonzero(labelled))  # every label seen, repeatedly
    assert len(set(seen[~labelled[seen]])) == 16 * 32  # unlabelled windows drawn without repeats
    assert not (np.diff(batches[0]) > 0).all()  # mixed order: the decoded first windows hold both kinds
    with pytest.raises(ConfigError, match="labelled_share"):
        build_config(labelled_share=0.0)


def test_pseudo_labels_only_from_a_confident_teacher() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    teacher = torch.tensor([[0.99, 0.01], [0.6, 0.4], [0.02, 0.98]])
    loss, share = pseudo_label_loss(logits, teacher, 0.95)
    want = (F.cross_entropy(logits[[0]], torch.tensor([0]), reduction="sum")
            + F.cross_entropy(logits[[2]], torch.tensor([1]), reduction="sum")) / 3
    assert share == pytest.approx(2 / 3) and float(loss) == pytest.approx(float(want), rel=1e-6)


def test_auto_pseudo_threshold_sits_below_the_label_smoothing_ceiling() -> None:
    # A model trained on smoothed targets is pushed towards top probability 1 - eps + eps/K,
    # never to 1: an absolute 0.95 lies above that for 6 classes at eps 0.1 (0.917).
    ceiling = 1 - 0.1 + 0.1 / 6
    auto = pseudo_threshold(None, 0.1, 6)
    assert auto == pytest.approx(0.95 * ceiling) and auto < ceiling < 0.95
    assert pseudo_threshold(None, 0.0, 6) == pytest.approx(0.95)  # no smoothing: FixMatch's 0.95
    assert pseudo_threshold(0.8, 0.1, 6) == 0.8  # an explicit value is taken as given
    assert build_config().pseudo_threshold is None
    with pytest.raises(ConfigError, match="pseudo_threshold"):
        build_config(pseudo_threshold=1.5)


@pytest.fixture(scope="module")
def semi_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four real HAPT subjects as a CSV folder; only the first two keep their labels."""
    tmp = tmp_path_factory.mktemp("semi")
    data_dir = tmp / "data"
    fetch("csv", from_path=write_hapt_folder(tmp / "rec", seconds=160.0, labelled_experiments=(0, 1)),
          data_dir=data_dir)
    cfg = build_config(data=("csv",), preset="tiny", epochs=2, val_subjects=0, unlabelled=True,
                       pseudo_weight=1.0, pseudo_threshold=0.2, seed=0)
    torch.set_num_threads(1)  # a tiny model: one thread is as fast and kinder to a shared machine
    train_run(cfg, tmp / "run", data_dir=data_dir)
    return tmp / "run"


def test_partly_labelled_folder_trains_semi_supervised(semi_run: Path) -> None:
    metrics = json.loads((semi_run / "eval_metrics.json").read_text())
    n_unl = metrics["training"]["n_unlabelled_windows"]["train"]
    n_all = metrics["training"]["n_windows"]["train"]
    assert 0.4 * n_all < n_unl < n_all and metrics["training"]["motif_only"] is False
    labels = json.loads((semi_run / "labels.json").read_text())["labels"]
    assert set(labels) <= {"WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"}
    history = [json.loads(r) for r in (semi_run / "history.jsonl").read_text().splitlines()]
    assert all(r["ce"] > 0 and r["recon"] > 0 and "pseudo_share" in r for r in history)
    # A low bar for a two-epoch tiny model: its teacher already prefers a class for some windows.
    assert history[-1]["pseudo_share"] > 0
    motifs = json.loads((semi_run / "motifs.json").read_text())["motifs"]
    used = [m for m in motifs if m["share"] > 0]
    assert all(0 <= m["labelled_share"] <= 1 and m["description"] for m in used)
    assert any(m["dominant_activities"] for m in used) and any(m["name"].startswith("mostly ") for m in used)

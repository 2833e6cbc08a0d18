"""`tcnvae adapt`: AdaBN on a new wearer's real recording, then a derived release; refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from tcnvae.cli import main
from tcnvae.registry.store import Registry
from tests.analysis.hapt_recording import hapt_signals, write_csv

SHIPPED = Path(__file__).resolve().parents[2] / "models"
CHAMPION = "tcn_encoder@v1.6.0"  # deep_bn_micro_lags: BatchNorm after every conv


def test_adapt_then_release_a_derived_model(tmp_path: Path) -> None:
    # HAPT subject 2 is an official test subject: the champion never saw this wearer.
    rec = write_csv(tmp_path / "new_wearer.csv", hapt_signals(seconds=120, offset_s=100.0, exp="exp03_user02"))
    run = tmp_path / "adapted"
    assert main(["adapt", CHAMPION, str(rec), "--out", str(run), "--models", str(SHIPPED), "--units", "acc:g"]) == 0
    note = json.loads((run / "adaptation.json").read_text())
    assert note["adapted_from"] == CHAMPION and note["n_windows"] == 239
    before = load_file(str(SHIPPED / "tcn_encoder" / "v1.6.0" / "full.safetensors"))
    after = load_file(str(run / "model.safetensors"))
    stats = [k for k in before if k.endswith("running_mean")]
    assert stats and all(not torch.equal(before[k], after[k]) for k in stats)
    weights = [k for k in before if k.endswith(".weight") or k.endswith(".bias")]
    assert all(torch.equal(before[k], after[k]) for k in weights)  # AdaBN changes statistics only

    models = tmp_path / "models"
    assert main(["release", str(run), "--models", str(models), "--version", "1.6.1"]) == 0
    release = Registry(models).open("tcn_encoder@v1.6.1")
    assert (release.path / "adaptation.json").is_file()
    assert "Adapted from tcn_encoder@v1.6.0 by AdaBN" in (release.path / "model_card.md").read_text()
    encoder = release.load_encoder()
    x = torch.from_numpy(release.normalizer().apply(np.zeros((2, 100, 9), np.float32)))
    probs = encoder(x)[2].detach().numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_adapt_refuses_too_little_data_and_leaves_nothing(tmp_path: Path, capsys) -> None:
    rec = write_csv(tmp_path / "short.csv", hapt_signals(seconds=10, exp="exp03_user02"))
    run = tmp_path / "adapted"
    assert main(["adapt", CHAMPION, str(rec), "--out", str(run), "--models", str(SHIPPED), "--units", "acc:g"]) == 1
    err = capsys.readouterr().err
    assert "need at least 32 windows" in err
    assert not run.exists() and not any(p.name.startswith(".adapted") for p in tmp_path.iterdir())

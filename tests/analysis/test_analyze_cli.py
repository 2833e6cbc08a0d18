"""`tcnvae analyze` in-process: a JSON recording with the torch backend, and a refused recording."""

from __future__ import annotations

import json
from pathlib import Path

from tcnvae.cli import main
from tests.analysis.hapt_recording import hapt_signals, write_json


def test_analyze_json_recording(registry_root: Path, tmp_path: Path, capsys) -> None:
    rec = write_json(tmp_path / "walk.json", hapt_signals(seconds=20))
    out = tmp_path / "out"
    assert main(["analyze", str(rec), "--model", "tcn_encoder@champion", "--models", str(registry_root),
                 "--out", str(out), "--backend", "torch", "--stride", "100"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["source"] == "model" and res["model"] == "tcn_encoder@v1.0.0"
    assert res["n_windows"] == 20 and res["config"]["stride"] == 100
    assert {p.name for p in out.iterdir()} == {"results.json", "ethogram.png", "report.html"}
    assert "20 windows" in capsys.readouterr().out


def test_analyze_refuses_a_bad_recording_in_one_line(registry_root: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ax,ay,wobble\n1,2,3\n")
    assert main(["analyze", str(bad), "--model", "tcn_encoder@champion", "--models", str(registry_root),
                 "--backend", "torch", "--rate-hz", "50", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "wobble" in err[0]


REPO = Path(__file__).resolve().parents[2]


def test_analyze_adapt_reestimates_batch_norm_on_the_recording(tmp_path: Path) -> None:
    import numpy as np
    import torch

    from tcnvae.analysis.offline import read_recording
    from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows
    from tcnvae.model.adabn import adapt_batch_norm
    from tcnvae.model.vae import DeployableEncoder
    from tcnvae.registry.store import Registry

    models = REPO / "models"  # the shipped champion has BatchNorm (the test registry's preset has none)
    rec = write_json(tmp_path / "walk.json", hapt_signals(seconds=40))
    base = ["analyze", str(rec), "--model", "tcn_encoder@champion", "--models", str(models)]
    assert main([*base, "--adapt", "--out", str(tmp_path / "adapted")]) == 0  # torch backend by default
    assert main([*base, "--backend", "torch", "--out", str(tmp_path / "plain")]) == 0
    adapted, plain = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("adapted", "plain"))
    assert adapted["model"].endswith("(BatchNorm adapted to this recording)") and "adaptation" not in plain
    assert adapted["adaptation"]["n_windows"] == adapted["n_windows"] == plain["n_windows"]
    probs = {name: np.array([list(w["activity_probs"].values()) for w in res["timeline"]])
             for name, res in (("adapted", adapted), ("plain", plain))}
    # the probabilities are the release's with AdaBN on exactly these windows, and not the plain ones
    release = Registry(models).open("tcn_encoder@champion")
    x = torch.from_numpy(release.normalizer().apply(checked_windows(read_recording(rec), AnalysisConfig()).x))
    with torch.no_grad():
        want = DeployableEncoder(adapt_batch_norm(release.load_model(), x)).eval()(x)[2].numpy()
    np.testing.assert_allclose(probs["adapted"], want, atol=1e-3)
    assert np.abs(probs["adapted"] - probs["plain"]).max() > 1e-2


def test_analyze_adapt_refuses_onnx_and_a_recording_too_short(tmp_path: Path, capsys) -> None:
    rec = write_json(tmp_path / "short.json", hapt_signals(seconds=10))  # 19 windows: fewer than 32
    base = ["analyze", str(rec), "--model", "tcn_encoder@champion", "--models", str(REPO / "models"), "--adapt"]
    assert main([*base, "--backend", "onnx", "--out", str(tmp_path / "o1")]) == 1
    assert "--adapt needs --backend torch" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "o2")]) == 1
    assert "at least 32 windows" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()

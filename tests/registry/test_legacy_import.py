"""The seed's v0.1.0 encoder registered as tcn_encoder@v0.1.0: parity, honesty, idempotence."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from tcnvae.data.normalize import Normalizer
from tcnvae.registry.legacy import LegacyError, import_seed
from tcnvae.registry.store import Registry

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def imported(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("legacy-models")
    return import_seed(shared_dir / "legacy", root), root


def test_import_proves_parity_and_reports_divergence(imported: tuple[dict, Path]) -> None:
    report, _ = imported
    assert report["status"] == "imported" and report["ref"] == "tcn_encoder@v0.1.0"
    assert report["parity_max_abs_diff"] <= 1e-5 and report["parity_windows"] >= 4
    assert report["state_dict_divergence"] > 0.1  # the seed .pth really is another checkpoint


def test_imported_release_is_complete_and_honest(imported: tuple[dict, Path], shared_dir: Path) -> None:
    _, root = imported
    release = Registry(root).open("tcn_encoder@v0.1.0")
    assert subprocess.run(["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS"], cwd=release.path).returncode == 0
    seed = json.loads((shared_dir / "legacy" / "model_config.json").read_text())["normalization"]
    norm = release.read_json("normalization.json")
    assert set(norm) == {"method", "channel_order", "units", "mean", "std", "present"}
    assert norm["channel_order"] == seed["channel_order"] and norm["present"] == [True] * 9
    np.testing.assert_allclose(release.normalizer().mean, seed["mean"], rtol=0, atol=1e-7)
    assert Normalizer.load(release.path / "normalization.json").std.tolist() == pytest.approx(seed["std"])
    assert release.labels == ["unknown"]
    metrics = release.read_json("eval_metrics.json")
    assert metrics["seed_reported"]["validation_accuracy"] == pytest.approx(0.7213)
    _, motifs, probs = release.load_encoder()(torch.from_numpy(np.load(release.path / "samples/calibration.npy")))
    assert torch.allclose(motifs, torch.full_like(motifs, 1 / 12)) and torch.allclose(probs, torch.ones_like(probs))
    card = (release.path / "model_card.md").read_text()
    assert "state_dict_divergence" in card and "uniform score 1/12" in card and "calibration" in card


def test_second_import_changes_nothing(imported: tuple[dict, Path], shared_dir: Path) -> None:
    _, root = imported
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    again = import_seed(shared_dir / "legacy", root)
    assert again["status"] == "already imported" and again["parity_max_abs_diff"] <= 1e-5
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before


def test_missing_seed_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LegacyError, match="tcn_encoder_for_edgeinfer"):
        import_seed(tmp_path, tmp_path / "models")

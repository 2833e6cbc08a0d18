"""create_release: the layout, checksums sha256sum accepts, versions, and all-or-nothing writes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
import yaml
from safetensors import safe_open

from tcnvae.registry import release as release_mod
from tcnvae.registry.release import ENCODER_PREFIXES, create_release, describe
from tcnvae.registry.store import Registry, RegistryError
from tests.registry.helpers import REF, copy_registry

torch.set_num_threads(1)

LAYOUT = {"model_card.md", "model_config.json", "normalization.json", "eval_metrics.json", "motifs.json",
          "labels.json", "train_config.json", "encoder.safetensors", "full.safetensors", "samples/calibration.npy",
          "samples/heldout.npz", "SHA256SUMS"}


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_release_layout_checksums_and_weights(registry_root: Path) -> None:
    release = Registry(registry_root).open(REF)
    assert _files(release.path) == LAYOUT
    done = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=release.path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with safe_open(str(release.path / "encoder.safetensors"), "pt") as f:
        keys, meta = list(f.keys()), f.metadata()
    assert keys and all(k.startswith(ENCODER_PREFIXES) for k in keys)
    assert not any(k.startswith(("decoder.", "fc_logvar.", "domain_head.")) for k in keys)
    assert json.loads(meta["model_config"])["label_names"] == release.labels
    encoder = release.load_encoder()
    latent, motifs, probs = encoder(torch.zeros(2, 100, 9))
    assert latent.shape == (2, 64) and motifs.shape == (2, 12) and probs.shape == (2, len(release.labels))
    full = release.load_model(full=True)
    assert full.state_dict().keys() > encoder.state_dict().keys()
    assert torch.equal(full.fc_mu.weight, release.load_model().fc_mu.weight)


def test_card_front_matter_and_changelog(registry_root: Path, run_dir: Path) -> None:
    folder = registry_root / "tcn_encoder" / "v1.0.0"
    card = (folder / "model_card.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["library_name"] and front["license"] and "watch" in front["datasets"]
    values = {m["type"]: m["value"] for m in front["model-index"][0]["results"][0]["metrics"]}
    test = json.loads((folder / "eval_metrics.json").read_text())["test"]
    assert values["accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)
    assert values["macro_f1"] == pytest.approx(test["macro_f1"], abs=1e-6)
    for section in ("## Architecture", "receptive field", "## Normalization", "## Evaluation", "## Motifs",
                    "## Intended use", "## Limitations", "## How to reproduce", "| watch | "):
        assert section in card
    log = (registry_root / "CHANGELOG.md").read_text()
    assert "tcn_encoder@v1.0.0" in log and f"macro_f1 {test['macro_f1']:.4f}" in log and str(run_dir.resolve()) in log
    row = describe(Registry(registry_root), "tcn_encoder", "v1.0.0")
    assert row["aliases"] == ["champion"] and row["test_macro_f1"] == pytest.approx(test["macro_f1"]) and row["created"]


def test_source_run_is_recorded_relative_to_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "runs" / "hapt6").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert release_mod.shown_path((tmp_path / "runs" / "hapt6").resolve()) == "runs/hapt6"
    assert release_mod.shown_path(Path("/opt/elsewhere/run")) == "/opt/elsewhere/run"  # outside: absolute


def test_versions_existing_malformed_and_next(registry_root: Path, run_dir: Path, tmp_path: Path) -> None:
    reg, _ = copy_registry(registry_root, tmp_path / "models")
    with pytest.raises(RegistryError, match="already exists"):
        create_release(reg, run_dir, version="1.0.0")
    for bad in ("1.0", "01.0.0", "1.0.0-rc1", "latest"):
        with pytest.raises(RegistryError, match="malformed version"):
            create_release(reg, run_dir, version=bad)
    with pytest.raises(RegistryError, match="either a version or a bump"):
        create_release(reg, run_dir, version="2.0.0", bump="major")
    assert create_release(reg, run_dir).version == "v1.1.0"  # default: next minor
    assert create_release(reg, run_dir, bump="patch").version == "v1.1.1"
    assert reg.versions("tcn_encoder") == ["v1.0.0", "v1.1.0", "v1.1.1"]
    assert not list((tmp_path / "models" / "tcn_encoder").glob(".staging-*"))


@pytest.mark.parametrize("missing", ["motifs.json", "samples/heldout.npz", "model.safetensors"])
def test_missing_run_file_is_named(run_dir: Path, tmp_path: Path, missing: str) -> None:
    run = Path(shutil.copytree(run_dir, tmp_path / "run"))
    (run / missing).unlink()
    reg = Registry(tmp_path / "models")
    with pytest.raises(RegistryError, match=missing.replace(".", r"\.")):
        create_release(reg, run, version="1.0.0")
    assert reg.versions("tcn_encoder") == []


def test_run_with_pickled_weights_is_refused(run_dir: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(run_dir, tmp_path / "run"))
    torch.save({"w": torch.zeros(3)}, run / "model.safetensors")
    with pytest.raises(RegistryError, match="model.safetensors"):
        create_release(Registry(tmp_path / "models"), run, version="1.0.0")


def test_crash_mid_release_leaves_no_version(run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    reg = Registry(tmp_path / "models")
    real, calls = shutil.copyfile, []

    def flaky(src, dst, *a, **k):
        calls.append(src)
        if len(calls) == 3:
            raise OSError("disk full (simulated)")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(release_mod.shutil, "copyfile", flaky)
    with pytest.raises(RegistryError, match="nothing was published: disk full"):
        create_release(reg, run_dir, version="1.0.0")
    assert reg.versions("tcn_encoder") == []
    assert list((tmp_path / "models" / "tcn_encoder").iterdir()) == []  # staging removed too
    assert not (tmp_path / "models" / "CHANGELOG.md").exists()


def test_card_names_the_micro_motion_lags() -> None:
    from tcnvae.model.presets import preset_config
    from tcnvae.registry.card import render_architecture

    text = render_architecture(preset_config("deep_bn_micro_lags").to_dict())
    assert "lags 1, 4, 16 (samples), x 10, 100, clipped to [-1, 1]" in text

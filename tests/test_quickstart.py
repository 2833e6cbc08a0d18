"""The main job end to end, on a tiny configuration: fetch, train, release, export, verify, twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tcnvae.registry.store import Registry


def _quickstart(tmp_path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "tcnvae.cli", "quickstart", "--tiny", "--json",
         "--models", str(tmp_path / "models"), "--runs", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def test_quickstart_twice_gives_two_verified_exported_releases(tmp_path: Path) -> None:
    first = _quickstart(tmp_path)
    assert first["ref"] == "tcn_encoder@v0.1.0"
    assert first["parity_passed"] is True
    assert first["windows_per_s"]["fp32"] > 0 and first["windows_per_s"]["int8"] > 0
    assert first["serve"].startswith("tcnvae serve tcn_encoder@v0.1.0")
    second = _quickstart(tmp_path)
    assert second["ref"] == "tcn_encoder@v0.2.0"
    reg = Registry(tmp_path / "models")
    for ref in (first["ref"], second["ref"]):
        release = reg.open(ref)  # verifies every checksum, export/ included
        assert (release.export_dir / "encoder_static.onnx").is_file()
        assert (release.export_dir / "encoder_int8.onnx").is_file()
    assert reg.aliases("tcn_encoder")["candidate"] == "v0.2.0"
    changelog = (tmp_path / "models" / "CHANGELOG.md").read_text()
    assert "v0.1.0" in changelog and "v0.2.0" in changelog

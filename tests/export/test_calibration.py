"""`tcnvae export REF --calibration DATASET|FILE.npy`: calibration windows from anywhere, checked.

The imported seed model ships 4 calibration windows; `legacy import && export tcn_encoder@v0.1.0
--calibration uci-hapt` must succeed, in a temp copy of the registry (models/ stays untouched).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tcnvae.data.normalize import Normalizer
from tcnvae.export.calibration import calibration_windows
from tcnvae.export.errors import ExportError
from tests import hapt_csv

REPO = Path(__file__).resolve().parents[2]
G = 9.80665

pytestmark = pytest.mark.skipif(not hapt_csv.HAPT_ZIP.exists(), reason="UCI HAPT zip not available")


def _raw_windows(acc_scale: float = G) -> np.ndarray:
    """[N, 100, 9] real HAPT windows (acc, gyro; no mag), acc times `acc_scale` (g -> m/s^2 by default)."""
    x = np.concatenate([s for _, _, s in hapt_csv.hapt_segments((1, 2, 3, 4), 20.0)])
    x = np.concatenate([x[:, :3] * acc_scale, x[:, 3:], np.zeros((len(x), 3))], axis=1).astype(np.float32)
    starts = np.arange(0, len(x) - 100, 10)
    return np.stack([x[s:s + 100] for s in starts])


def _identity() -> Normalizer:
    return Normalizer.fit(np.zeros((2, 100, 9), np.float32) + np.arange(2)[:, None, None], np.ones(9, bool))


def test_npy_in_si_is_normalized_and_in_g_is_refused(tmp_path: Path) -> None:
    raw = _raw_windows()
    np.save(tmp_path / "si.npy", raw)
    x, info = calibration_windows(str(tmp_path / "si.npy"), _identity())
    assert x.shape == (min(len(raw), 2048), 100, 9) and info["windows"] == len(x) and info["warnings"] == []
    np.save(tmp_path / "g.npy", _raw_windows(1.0))
    with pytest.raises(ExportError, match=r"g\.npy \[acc\]: gravity reads (0\.9|1\.0).*convert acc from g to SI"):
        calibration_windows(str(tmp_path / "g.npy"), _identity())
    z = (raw - raw.mean(axis=(0, 1))) / (raw.std(axis=(0, 1)) + 1e-6)
    z[..., 6:] = 0
    np.save(tmp_path / "z.npy", z)
    with pytest.raises(ExportError, match="look normalized"):
        calibration_windows(str(tmp_path / "z.npy"), _identity())
    np.save(tmp_path / "few.npy", raw[:10])
    with pytest.raises(ExportError, match="10 calibration windows, need at least 1024"):
        calibration_windows(str(tmp_path / "few.npy"), _identity())
    with pytest.raises(ExportError, match="neither a .npy file nor a dataset"):
        calibration_windows("no-such-thing", _identity())


def test_legacy_import_then_export_with_hapt_calibration(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "tcn_encoder").mkdir(parents=True)
    shutil.copytree(REPO / "models" / "tcn_encoder" / "v0.1.0", models / "tcn_encoder" / "v0.1.0")
    shipped = sorted(p.relative_to(REPO / "models") for p in (REPO / "models").rglob("*"))
    env = {**os.environ, "TCNVAE_DATA": str(tmp_path / "data")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tcnvae.cli", *args], capture_output=True, text=True,
                              timeout=1200, env=env, cwd=tmp_path)

    assert cli("data", "fetch", "uci-hapt", "--from", str(hapt_csv.HAPT_ZIP)).returncode == 0
    proc = cli("legacy", "import", "--models", str(models))
    assert proc.returncode == 0 and "already imported" in proc.stdout, proc.stderr[-2000:]
    before = cli("export", "tcn_encoder@v0.1.0", "--models", str(models), "--skip-int8")
    assert before.returncode == 1 and "--calibration" in before.stderr  # the release's own 4 windows are too few
    proc = cli("export", "tcn_encoder@v0.1.0", "--calibration", "uci-hapt", "--models", str(models), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["passed"] and "encoder_int8.onnx" in summary["files"]
    parity = json.loads((models / "tcn_encoder" / "v0.1.0" / "export" / "parity.json").read_text())
    assert parity["calibration"]["dataset"] == "uci-hapt" and parity["calibration"]["windows"] == 2048
    assert parity["calibration"]["test_subjects_left_out"][:2] == ["uci-hapt:2", "uci-hapt:4"]
    assert np.load(models / "tcn_encoder" / "v0.1.0" / "export" / "calibration.npy").shape == (2048, 100, 9)
    assert cli("registry", "verify", "tcn_encoder@v0.1.0", "--models", str(models)).returncode == 0
    assert sorted(p.relative_to(REPO / "models") for p in (REPO / "models").rglob("*")) == shipped

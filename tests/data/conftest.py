"""Fixtures for the data tests: an isolated data dir and small archives in official formats."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tcnvae.data import fetch

HAPT_ZIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "uci-hapt.zip"
if not HAPT_ZIP.exists():
    HAPT_ZIP = Path("/work/shared/data/uci-hapt.zip")
HAPT_LABELS = ["WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING",
               "STAND_TO_SIT", "SIT_TO_STAND", "SIT_TO_LIE", "LIE_TO_SIT", "STAND_TO_LIE", "LIE_TO_STAND"]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "tcnvae-data"
    monkeypatch.setenv("TCNVAE_DATA", str(d))
    return d


@pytest.fixture(scope="session")
def hapt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real UCI HAPT zip fetched once (read-only source; copies go to a temp dir)."""
    if not HAPT_ZIP.exists():
        pytest.skip(f"{HAPT_ZIP} not available")
    d = tmp_path_factory.mktemp("hapt-data")
    fetch("uci-hapt", from_path=HAPT_ZIP, data_dir=d)
    return d


def _zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return path


def _hapt_files(top: str = "", full: bool = False, n_rows: int = 600) -> dict[str, str]:
    """A tiny HAPT archive: users 1 (train) and 2 (test), one experiment each."""
    rng = np.random.default_rng(0)
    files = {top + "activity_labels.txt": "".join(f"{i} {n}\n" for i, n in enumerate(HAPT_LABELS, 1)),
             top + "Train/subject_id_train.txt": "1\n1\n", top + "Test/subject_id_test.txt": "2\n2\n",
             top + "RawData/labels.txt": "1 1 1 1 300\n1 1 4 301 580\n2 2 5 11 500\n"}
    for e, u in ((1, 1), (2, 2)):
        for kind in ("acc", "gyro"):
            rows = rng.normal(size=(n_rows, 3))
            files[top + f"RawData/{kind}_exp{e:02d}_user{u:02d}.txt"] = "".join(
                " ".join(f"{v:.6f}" for v in r) + "\n" for r in rows)
    if full:  # the official UCI download also carries feature files
        files[top + "Train/X_train.txt"] = "0.1 0.2\n"
        files[top + "features.txt"] = "1 tBodyAcc-mean()-X\n"
    return files


@pytest.fixture
def hapt_files():
    return _hapt_files


@pytest.fixture
def make_zip(tmp_path: Path):
    def make(name: str, files: dict[str, str | bytes]) -> Path:
        return _zip(tmp_path / name, files)
    return make


@pytest.fixture
def pamap2_zip(tmp_path: Path) -> Path:
    """Two PAMAP2 protocol files in the official 54-column format, with NaN gaps."""
    rng = np.random.default_rng(1)
    files = {}
    for subj in (101, 105):
        n = 1200
        t = np.zeros((n, 54))
        t[:, 0] = np.arange(n) / 100.0
        t[:, 1] = np.repeat([0, 1, 4, 0], n // 4)  # transient, lying, walking, transient
        t[:, 2] = np.nan
        t[:, 3:] = rng.normal(size=(n, 51))
        t[400:405, 4:7] = np.nan  # 5 samples = 0.05 s: interpolated
        t[700:760, 3:20] = np.nan  # 0.6 s: split
        lines = "\n".join(" ".join("NaN" if np.isnan(v) else f"{v:.5f}" for v in row) for row in t)
        files[f"PAMAP2_Dataset/Protocol/subject{subj}.dat"] = lines + "\n"
    files["PAMAP2_Dataset/readme.pdf"] = b"%PDF"
    return _zip(tmp_path / "pamap2.zip", files)


WISDM_GOOD = (
    "33,Jogging,49105962326000,-0.6946377,12.680544,0.50395286;\n"
    "33,Jogging,49106062271000,5.012288,11.264028,0.95342433;\n"
    "\n"
    "33,Jogging,49106112167000,4.903325,10.882658,-0.08172209;33,Jogging,49106222305000,-0.61291564,18.496431,3.0237172;\n"
    "33,Jogging,49106332290000,-1.1849703,12.108489,7.205164,\n"
    "33,Jogging,49106442306000,1.3756552,-2.4925237,-6.510526;\n"
    "33,Jogging,49106542312000,-0.61291564,10.56939,5.706926\n"
    "33,Jogging,49106652389000,-0.50395286,13.947236,7.0553403;\n"
    "33,Jogging,49106762313000,-8.430995,11.413852,;\n"
)


@pytest.fixture
def wisdm_tar(tmp_path: Path) -> Path:
    """WISDM_ar_latest.tar.gz layout with the known quirks plus a long clean walking run."""
    rng = np.random.default_rng(2)
    walk = "".join(f"7,Walking,{1000000000 + i * 50000000},{x:.4f},{y:.4f},{z:.4f};\n"
                   for i, (x, y, z) in enumerate(rng.normal(size=(400, 3)) + [0, 9.8, 0]))
    data = (WISDM_GOOD * 20 + walk).encode()
    path = tmp_path / "WISDM_ar_latest.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path

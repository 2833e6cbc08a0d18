"""A real recording for the analysis tests: a slice of UCI-HAPT raw data written as a user CSV.

acc (in g) and gyro (rad/s) of one experiment at 50 Hz, with a `t` column, so the CSV says
its own rate; the units are declared at upload (`units=acc:g`), as a user would.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

HAPT_ZIP = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "uci-hapt.zip"
RATE_HZ = 50.0
UNITS = {"acc": "g"}


def hapt_signals(seconds: float = 60.0, offset_s: float = 200.0, exp: str = "exp01_user01") -> np.ndarray:
    """[T, 6] acc (g) + gyro (rad/s) at 50 Hz from the read-only shared zip."""
    with zipfile.ZipFile(HAPT_ZIP.resolve()) as zf:
        acc = np.loadtxt(zf.open(f"RawData/acc_{exp}.txt"))
        gyro = np.loadtxt(zf.open(f"RawData/gyro_{exp}.txt"))
    a, b = int(offset_s * RATE_HZ), int((offset_s + seconds) * RATE_HZ)
    return np.concatenate([acc[a:b], gyro[a:b]], axis=1)


def write_csv(path: Path, signals: np.ndarray) -> Path:
    t = np.arange(len(signals)) / RATE_HZ
    lines = ["t,ax,ay,az,gx,gy,gz"]
    lines += [f"{ti:.3f}," + ",".join(f"{v:.6f}" for v in row) for ti, row in zip(t, signals)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_json(path: Path, signals: np.ndarray) -> Path:
    path.write_text(json.dumps({"rate_hz": RATE_HZ, "channels": ["ax", "ay", "az", "gx", "gy", "gz"],
                                "samples": signals.round(6).tolist(), "units": UNITS}))
    return path

"""Calibration windows from anywhere: a fetched dataset's training subjects, or a `.npy` file.

`tcnvae export REF --calibration uci-hapt|FILE.npy` replaces the release's own
samples/calibration.npy (the imported seed model ships only a handful of windows). Both kinds
are raw SI windows first (what /infer takes) and pass the same unit and plausibility checks as
any other way in (tcnvae.data.plausibility), then the release's normalization is applied.

* a dataset: windows of its training subjects only (its official split's or meta.json's test
  subjects are left out), spread evenly over the recordings, seeded;
* a file: float [N, 100, 9] in the contract's channel order and SI units (m/s², rad/s, µT);
  a channel that is zero throughout counts as absent.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from tcnvae.contract import N_CHANNELS, STRIDE, WINDOW
from tcnvae.data.errors import DataError
from tcnvae.data.plausibility import check_signals, raise_errors
from tcnvae.export.errors import ExportError
from tcnvae.export.quantize import MAX_CALIBRATION, MIN_CALIBRATION, read_windows

log = logging.getLogger(__name__)


def calibration_windows(spec: str, normalizer, data_dir=None, seed: int = 0) -> tuple[np.ndarray, dict]:
    """(normalized windows [N, 100, 9] float32, what they are) for `spec`: a .npy path or a dataset name."""
    path = Path(spec)
    if path.suffix == ".npy" or path.is_file():
        raw, origin = _from_file(path), {"file": str(path)}
    else:
        raw, origin = _from_dataset(spec, data_dir, seed)
    if len(raw) < MIN_CALIBRATION:
        raise ExportError(f"{spec}: {len(raw)} calibration windows, need at least {MIN_CALIBRATION}")
    present = np.abs(raw).max(axis=(0, 1)) > 0
    try:
        warnings = raise_errors(check_signals(raw.reshape(-1, N_CHANNELS), present, {}), spec, "npy")
    except DataError as e:
        raise ExportError(str(e)) from e
    for w in warnings:
        log.warning("calibration: %s", w)
    x = normalizer.apply(raw).astype(np.float32)
    if not np.isfinite(x).all():
        raise ExportError(f"{spec}: calibration windows contain NaN or Inf")
    return np.ascontiguousarray(x), {**origin, "windows": int(len(x)), "warnings": warnings}


def _from_file(path: Path) -> np.ndarray:
    raw = read_windows(path)
    used = np.abs(raw).max(axis=(0, 1)) > 0
    mean, sd = raw[..., used].mean(axis=(0, 1)), raw[..., used].std(axis=(0, 1))
    if used.any() and np.all(np.abs(mean) < 0.3) and np.all((sd > 0.5) & (sd < 2.0)):
        raise ExportError(f"{path}: the windows look normalized (every channel mean ≈ 0, sd ≈ 1); give raw "
                          f"windows in SI units, as /infer takes them: export applies the release's normalization")
    return raw[_spread(len(raw), MAX_CALIBRATION, 0)]


def _from_dataset(name: str, data_dir, seed: int) -> tuple[np.ndarray, dict]:
    from tcnvae.data.dataset import default_test_subjects, load_recordings
    from tcnvae.data.sources import SOURCES
    from tcnvae.data.splits import leave_subjects_out
    from tcnvae.data.windows import make_windows

    if name not in SOURCES:
        raise ExportError(f"--calibration {name!r}: neither a .npy file nor a dataset (datasets: "
                          f"{', '.join(sorted(SOURCES))})")
    try:
        ws = make_windows(load_recordings(name, data_dir), WINDOW, STRIDE)
        held = default_test_subjects(name, data_dir) or []
    except DataError as e:
        raise ExportError(str(e)) from e
    train, _ = leave_subjects_out(ws, held)
    pick = _spread(len(train), MAX_CALIBRATION, seed)
    return train.x[pick], {"dataset": name, "subjects": len(train.subjects()), "test_subjects_left_out": held}


def _spread(n: int, k: int, seed: int) -> np.ndarray:
    """Up to k indices of n, a seeded sample (sorted: the order of the data is kept)."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, k, replace=False))

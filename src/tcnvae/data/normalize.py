"""Per-channel z-score normalization: the ONE place it is fitted and applied.

Training, export and serving all call `Normalizer.apply`; the parameters travel as
`normalization.json`. Absent channels get mean 0 and std 1 and are forced to 0 after
normalizing, so a model never sees anything but 0 where a sensor is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tcnvae.contract import CHANNELS, N_CHANNELS, UNITS
from tcnvae.data.cache import atomic_write_bytes
from tcnvae.data.errors import DataError

METHOD = "z_score_per_channel"
FILE_NAME = "normalization.json"
MIN_STD = 1e-6  # guards a constant channel against division by ~0


def _mean_std(flat: np.ndarray, chunk: int = 1 << 18) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) std in float64, two passes over row chunks.

    No float64 copy of the whole set (60k HAPT windows are 216 MB in float32), and a
    memory-mapped window cache is read sequentially."""
    n = len(flat)
    total = np.zeros(flat.shape[1])
    for i in range(0, n, chunk):
        total += flat[i:i + chunk].sum(axis=0, dtype=np.float64)
    mean = total / n
    squares = np.zeros(flat.shape[1])
    for i in range(0, n, chunk):
        d = flat[i:i + chunk].astype(np.float64) - mean
        squares += np.einsum("ij,ij->j", d, d)
    return mean, np.sqrt(squares / n)


@dataclass
class Normalizer:
    mean: np.ndarray  # float32 [9]
    std: np.ndarray  # float32 [9]
    present: np.ndarray  # bool [9]

    @classmethod
    def fit(cls, x: np.ndarray, present: np.ndarray) -> "Normalizer":
        """Fit on TRAINING windows only: x [N, T, 9] raw SI, present bool [9]."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != N_CHANNELS or x.shape[0] == 0:
            raise ValueError(f"expected non-empty windows [N, T, {N_CHANNELS}], got {x.shape}")
        present = np.asarray(present, dtype=bool)
        mean, std = _mean_std(x.reshape(-1, N_CHANNELS))
        std = np.where(std < MIN_STD, 1.0, std)
        mean[~present], std[~present] = 0.0, 1.0
        return cls(mean.astype(np.float32), std.astype(np.float32), present.copy())

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(x - mean) / std per channel, absent channels 0; any leading shape, last axis 9."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape[-1] != N_CHANNELS:
            raise ValueError(f"last axis must be the {N_CHANNELS} channels, got shape {x.shape}")
        out = (x - self.mean) / self.std
        out[..., ~self.present] = 0.0
        return out.astype(np.float32, copy=False)

    def to_dict(self) -> dict:
        return {
            "method": METHOD,
            "channel_order": list(CHANNELS),
            "units": [UNITS[c] for c in CHANNELS],
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
            "present": [bool(v) for v in self.present],
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "normalization") -> "Normalizer":
        """Read our own dict, or the seed's model_config.json `normalization` block
        (mean, std, channel_order; all channels present)."""
        if d.get("method", METHOD) != METHOD:
            raise DataError(f"unsupported method {d.get('method')!r}", where, field="method")
        order = list(d.get("channel_order", CHANNELS))
        if order != list(CHANNELS):
            raise DataError(f"channel_order {order} differs from the contract {list(CHANNELS)}",
                            where, field="channel_order")
        values = {}
        for key in ("mean", "std"):
            if key not in d:
                raise DataError("missing", where, field=key)
            values[key] = np.asarray(d[key], dtype=np.float32)
            if values[key].shape != (N_CHANNELS,) or not np.isfinite(values[key]).all():
                raise DataError(f"must be {N_CHANNELS} finite numbers", where, field=key)
        if (values["std"] <= 0).any():
            raise DataError("must be positive", where, field="std")
        present = np.asarray(d.get("present", [True] * N_CHANNELS), dtype=bool)
        if present.shape != (N_CHANNELS,):
            raise DataError(f"must be {N_CHANNELS} booleans", where, field="present")
        return cls(values["mean"], values["std"], present)

    def save(self, path: str | Path) -> Path:
        """Write normalization.json atomically (a folder gets the default file name)."""
        path = Path(path)
        if path.is_dir():
            path = path / FILE_NAME
        atomic_write_bytes(path, lambda fh: fh.write(json.dumps(self.to_dict(), indent=2).encode()))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Normalizer":
        path = Path(path)
        if path.is_dir():
            path = path / FILE_NAME
        try:
            d = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise DataError("no such file", path) from exc
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path, exc.lineno) from exc
        if "normalization" in d and "mean" not in d:  # a whole seed model_config.json
            d = d["normalization"]
        return cls.from_dict(d, str(path))

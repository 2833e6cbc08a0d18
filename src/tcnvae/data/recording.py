"""A canonical recording (SI units, contract channels, RATE_HZ) and the helpers that make one.

Sources read their native files, then call `canonical_recordings`, which
1. handles NaN gaps at the native rate: gaps of at most `max_gap_s` are linearly
   interpolated, longer gaps split the recording into pieces, leading/trailing NaN is trimmed;
2. resamples each piece to `contract.RATE_HZ` with an anti-aliased polyphase filter
   (`tcnvae.data.resample`, the same one live streams use); labels follow by nearest sample.
What was interpolated or dropped is counted in a `DropReport`, logged and returned.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tcnvae.contract import CHANNELS, N_CHANNELS, RATE_HZ, SENSOR_GROUPS
from tcnvae.data import resample

log = logging.getLogger(__name__)

DEFAULT_MAX_GAP_S = 0.1


@dataclass
class Recording:
    """One continuous recording in canonical form."""

    signals: np.ndarray  # float32 [T, 9] canonical SI channels at rate_hz; absent channels are 0.0
    present: np.ndarray  # bool [9]
    labels: np.ndarray  # int64 [T], index into label_names; -1 = unlabelled/transient
    label_names: tuple[str, ...]  # source-native class names
    subject: str  # globally unique: "<domain>:<native id>"
    domain: str  # source name
    rate_hz: float
    name: str
    warnings: tuple[str, ...] = ()  # what the plausibility checks found unusual (not cached)

    def __post_init__(self) -> None:
        if self.signals.ndim != 2 or self.signals.shape[1] != N_CHANNELS:
            raise ValueError(f"{self.name}: signals must be [T, {N_CHANNELS}], got {self.signals.shape}")
        if self.labels.shape != (self.signals.shape[0],):
            raise ValueError(
                f"{self.name}: labels {self.labels.shape} do not match signals {self.signals.shape}")

    def __len__(self) -> int:
        return int(self.signals.shape[0])

    @property
    def duration_s(self) -> float:
        return len(self) / self.rate_hz


@dataclass
class DropReport:
    """Counts of what was interpolated, skipped or dropped while reading a source."""

    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)  # plausibility warnings (data/plausibility.py)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] += int(n)

    def merge(self, other: "DropReport") -> None:
        self.counts.update(other.counts)
        self.warnings += other.warnings

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in sorted(self.counts.items())}

    def log(self, source: str) -> None:
        if self.counts:
            log.info("%s: %s", source, ", ".join(f"{k}={v}" for k, v in self.as_dict().items()))


def group_index(group: str) -> list[int]:
    """Column indices of a sensor group ('acc', 'gyro', 'mag') in the contract order."""
    return [CHANNELS.index(c) for c in SENSOR_GROUPS[group]]


def present_mask(*groups: str) -> np.ndarray:
    """bool [9], True for the channels of the given sensor groups."""
    mask = np.zeros(N_CHANNELS, dtype=bool)
    for g in groups:
        mask[group_index(g)] = True
    return mask


def resample_signals(x: np.ndarray, src_hz: float, dst_hz: float = RATE_HZ) -> np.ndarray:
    """Anti-aliased polyphase resampling of [T, C] along time; returns float32."""
    return resample.resample_signals(x, src_hz, dst_hz)


def resample_labels(labels: np.ndarray, n_out: int, src_hz: float, dst_hz: float = RATE_HZ) -> np.ndarray:
    """Nearest-sample label resampling: output sample j takes the source sample whose
    interval [i, i+1)/src_hz contains the centre of j's interval."""
    j = np.arange(n_out, dtype=np.float64)
    idx = np.floor((j + 0.5) * (src_hz / dst_hz)).astype(np.int64)
    return labels[np.clip(idx, 0, len(labels) - 1)]


def _nan_runs(bad: np.ndarray) -> np.ndarray:
    """[(start, stop)] of runs where `bad` is True."""
    padded = np.concatenate([[False], bad, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges.reshape(-1, 2)


def split_gaps(
    x: np.ndarray, rate_hz: float, report: DropReport, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> list[tuple[int, int, np.ndarray]]:
    """Interpolate short NaN gaps and split at long ones.

    Returns pieces (start, stop, filled) where filled is x[start:stop] without NaN.
    A row counts as missing when any of its channels is NaN.
    """
    bad = np.isnan(x).any(axis=1)
    if not bad.any():
        return [(0, len(x), x)]
    max_gap = int(round(max_gap_s * rate_hz))
    runs = _nan_runs(bad)
    cuts: list[tuple[int, int]] = []
    for a, b in runs:
        edge = a == 0 or b == len(x)
        if edge or (b - a) > max_gap:
            cuts.append((a, b))
            report.add("nan_gaps_split" if not edge else "nan_edges_trimmed")
            report.add("nan_samples_dropped", b - a)
        else:
            report.add("nan_gaps_interpolated")
            report.add("nan_samples_interpolated", b - a)
    bounds = [0] + [v for ab in cuts for v in ab] + [len(x)]
    pieces = []
    for start, stop in zip(bounds[0::2], bounds[1::2]):
        if stop > start:
            pieces.append((start, stop, _interpolate(x[start:stop])))
    return pieces


def _interpolate(seg: np.ndarray) -> np.ndarray:
    """Linear interpolation of interior NaN per channel (edges are known to be finite)."""
    out = np.array(seg, dtype=np.float64, copy=True)
    t = np.arange(len(out))
    for c in range(out.shape[1]):
        bad = np.isnan(out[:, c])
        if bad.any():
            out[bad, c] = np.interp(t[bad], t[~bad], out[~bad, c])
    return out


def canonical_recordings(
    signals: np.ndarray,
    present: np.ndarray,
    labels: np.ndarray,
    *,
    label_names: tuple[str, ...],
    subject: str,
    domain: str,
    rate_hz: float,
    name: str,
    report: DropReport,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> list[Recording]:
    """Native-rate SI signals [T, 9] (absent channels any value) -> canonical recordings.

    Splits at long NaN gaps, interpolates short ones, resamples to RATE_HZ.
    """
    present = np.asarray(present, dtype=bool)
    x = np.asarray(signals, dtype=np.float64)
    x[:, ~present] = 0.0
    pieces = split_gaps(x, rate_hz, report, max_gap_s)
    out = []
    for k, (start, stop, filled) in enumerate(pieces):
        y = resample_signals(filled, rate_hz, RATE_HZ)
        y[:, ~present] = 0.0
        lab = resample_labels(np.asarray(labels[start:stop], dtype=np.int64), len(y), rate_hz, RATE_HZ)
        out.append(Recording(
            signals=y, present=present.copy(), labels=lab, label_names=tuple(label_names),
            subject=subject, domain=domain, rate_hz=float(RATE_HZ),
            name=name if len(pieces) == 1 else f"{name}#{k}",
        ))
    return out

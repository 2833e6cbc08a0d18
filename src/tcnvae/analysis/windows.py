"""Cut a canonical recording into overlapping analysis windows (unlabelled, every position)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.contract import N_CHANNELS, RATE_HZ, WINDOW


@dataclass(frozen=True)
class AnalysisWindows:
    x: np.ndarray  # float32 [N, WINDOW, 9] raw SI
    starts: np.ndarray  # int64 [N] first sample of each window at RATE_HZ

    def __len__(self) -> int:
        return int(len(self.starts))

    @property
    def t_start(self) -> np.ndarray:
        return self.starts / RATE_HZ

    @property
    def t_end(self) -> np.ndarray:
        return (self.starts + WINDOW) / RATE_HZ


def cut_windows(signals: np.ndarray, stride: int) -> AnalysisWindows:
    """signals [T, 9] at RATE_HZ -> windows every `stride` samples (the tail shorter than a
    window is dropped)."""
    if not 1 <= stride <= WINDOW:
        raise AnalysisInputError(f"stride must be between 1 and {WINDOW} samples, got {stride}")
    signals = np.asarray(signals, dtype=np.float32)
    if signals.ndim != 2 or signals.shape[1] != N_CHANNELS:
        raise AnalysisInputError(f"signals must be [T, {N_CHANNELS}], got {list(signals.shape)}")
    if len(signals) < WINDOW:
        raise AnalysisInputError(f"recording is {len(signals)} samples; a window needs {WINDOW}")
    view = sliding_window_view(signals, WINDOW, axis=0)[::stride]  # (N, C, WINDOW)
    x = np.ascontiguousarray(view.transpose(0, 2, 1))
    starts = np.arange(len(x), dtype=np.int64) * stride
    return AnalysisWindows(x, starts)

"""Cut a canonical recording into overlapping analysis windows (unlabelled, every position).

`WindowCutter` is the incremental form (samples in as they come, each window out as soon as
its last sample is there); `cut_windows` is one push of a whole recording through it, so a
recording and a live stream of the same samples get the same windows.
"""

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


def _check_stride(stride: int) -> None:
    if not 1 <= stride <= WINDOW:
        raise AnalysisInputError(f"stride must be between 1 and {WINDOW} samples, got {stride}")


class WindowCutter:
    """Canonical samples [n, 9] at RATE_HZ in, complete windows every `stride` samples out."""

    def __init__(self, stride: int) -> None:
        _check_stride(stride)
        self.stride = stride
        self.next_start = 0  # first sample of the next window, on the stream's sample count
        self._buf = np.empty((0, N_CHANNELS), np.float32)
        self._buf_start = 0  # sample index of _buf[0]

    def push(self, samples: np.ndarray) -> AnalysisWindows:
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 2 or samples.shape[1] != N_CHANNELS:
            raise AnalysisInputError(f"signals must be [T, {N_CHANNELS}], got {list(samples.shape)}")
        offset = self.next_start - self._buf_start
        if len(self._buf) + len(samples) - offset < WINDOW:  # no window yet (most chunks of a stream)
            self._buf = np.concatenate([self._buf, samples])
            return AnalysisWindows(np.empty((0, WINDOW, N_CHANNELS), np.float32), np.empty(0, np.int64))
        buf = np.concatenate([self._buf, samples]) if len(self._buf) else samples
        n = max(0, (len(buf) - offset - WINDOW) // self.stride + 1)
        if n == 1:  # a live stream's usual case: one slice, no strided view to build
            x = buf[offset:offset + WINDOW][None].copy()
        elif n:
            view = sliding_window_view(buf[offset:], WINDOW, axis=0)[::self.stride][:n]  # (n, C, WINDOW)
            x = np.ascontiguousarray(view.transpose(0, 2, 1))
        else:
            x = np.empty((0, WINDOW, N_CHANNELS), np.float32)
        starts = self.next_start + np.arange(n, dtype=np.int64) * self.stride
        self.next_start += n * self.stride
        keep = self.next_start - self._buf_start  # samples before the next window are done with
        self._buf = np.array(buf[keep:]) if keep > 0 else np.array(buf)
        self._buf_start += max(keep, 0)
        return AnalysisWindows(x, starts)


def cut_windows(signals: np.ndarray, stride: int) -> AnalysisWindows:
    """signals [T, 9] at RATE_HZ -> windows every `stride` samples (the tail shorter than a
    window is dropped)."""
    _check_stride(stride)
    signals = np.asarray(signals, dtype=np.float32)
    if signals.ndim != 2 or signals.shape[1] != N_CHANNELS:
        raise AnalysisInputError(f"signals must be [T, {N_CHANNELS}], got {list(signals.shape)}")
    if len(signals) < WINDOW:
        raise AnalysisInputError(f"recording is {len(signals)} samples; a window needs {WINDOW}")
    return WindowCutter(stride).push(signals)

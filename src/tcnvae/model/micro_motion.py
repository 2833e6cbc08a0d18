"""Micro-motion channels: sample-to-sample changes of each input channel, magnified and clipped.

Why: after global z-scoring, the tremor that tells standing from sitting (gyroscope std about
0.016 vs 0.010 rad/s on HAPT) is ~1 % of a walking window's range, too small for the first
convolutions to pick out. Magnifying the first difference by fixed gains and clipping it to
[-1, 1] gives the network the same motion on several amplitude scales, as a log transform
would, with operators the Hailo compiler accepts (Conv, Add, Relu, Sub, Concat).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MicroMotion(nn.Module):
    """(B, C, T) -> (B, C * (1 + len(lags) * len(gains)), T): the input, then
    clip(g * (x[t] - x[t-lag])) for each channel, lag and gain (channel-major: c0l0g0, c0l0g1, ...)."""

    def __init__(self, in_channels: int, gains: tuple[float, ...], lags: tuple[int, ...] = (1,)) -> None:
        super().__init__()
        self.in_channels, self.gains, self.lags = in_channels, tuple(gains), tuple(lags)
        if any(lag < 1 for lag in self.lags):
            raise ValueError(f"micro-motion lags must be >= 1, got {self.lags}")
        # One causal grouped conv: per channel, one output per (lag, gain) with weights -g on
        # x[t-lag] and g on x[t]; differences reaching before t = 0 are taken against a zero pad,
        # as the TCN's own causal padding does.
        self.span = max(self.lags)
        taps = torch.zeros(len(self.lags) * len(self.gains), self.span + 1)
        for i, lag in enumerate(self.lags):
            for j, gain in enumerate(self.gains):
                taps[i * len(self.gains) + j, self.span - lag] = -gain
                taps[i * len(self.gains) + j, self.span] = gain
        self.register_buffer("kernel", taps.repeat(in_channels, 1)[:, None, :], persistent=False)  # from the config

    @property
    def out_channels(self) -> int:
        return self.in_channels * (1 + len(self.lags) * len(self.gains))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.gains:
            return x
        diff = F.conv1d(F.pad(x, (self.span, 0)), self.kernel, groups=self.in_channels)
        return torch.cat([x, F.relu(diff + 1.0) - F.relu(diff - 1.0) - 1.0], dim=1)  # clip to [-1, 1]

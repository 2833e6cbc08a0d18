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
    """(B, C, T) -> (B, C * (1 + len(gains)), T): the input, then clip(g * (x[t] - x[t-1])) for
    each channel and gain (channel-major: c0g0, c0g1, c1g0, ...)."""

    def __init__(self, in_channels: int, gains: tuple[float, ...]) -> None:
        super().__init__()
        self.in_channels, self.gains = in_channels, tuple(gains)
        # One causal grouped conv: per channel, one output per gain with weights (-g, g) on
        # (x[t-1], x[t]); the difference at t = 0 is taken against a zero pad, as the TCN's own
        # causal padding does.
        kernel = torch.tensor([[-1.0, 1.0]]) * torch.tensor(self.gains).repeat(in_channels)[:, None]
        self.register_buffer("kernel", kernel[:, None, :], persistent=False)  # rebuilt from the config

    @property
    def out_channels(self) -> int:
        return self.in_channels * (1 + len(self.gains))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.gains:
            return x
        diff = F.conv1d(F.pad(x, (1, 0)), self.kernel, groups=self.in_channels)
        return torch.cat([x, F.relu(diff + 1.0) - F.relu(diff - 1.0) - 1.0], dim=1)  # clip to [-1, 1]

"""Causal dilated temporal convolutions (after locuslab/TCN), Hailo-friendly.

Causality comes from explicit left padding before an unpadded convolution, instead of
pad-both-sides-then-slice: the same function, but no Slice op in the exported graph and
no `Chomp1d(0)` pitfall.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class CausalConv1d(nn.Conv1d):
    """Conv1d whose output at time t sees only inputs at times <= t."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int = 1) -> None:
        super().__init__(in_ch, out_ch, kernel_size, dilation=dilation, padding=0)
        self.left_pad = (kernel_size - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C', T)
        return super().forward(F.pad(x, (self.left_pad, 0)))


class TemporalBlock(nn.Module):
    """Two weight-normalised causal convs with ReLU + dropout, and a residual path."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = weight_norm(CausalConv1d(in_ch, out_ch, kernel_size, dilation))
        self.conv2 = weight_norm(CausalConv1d(out_ch, out_ch, kernel_size, dilation))
        self.dropout = nn.Dropout(dropout)
        # 1x1 conv only where widths differ, as in the seed (its state dict has `downsample`).
        self.downsample = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else None
        self._init_weights()

    def _init_weights(self) -> None:
        for conv in (self.conv1, self.conv2):
            nn.init.normal_(conv.parametrizations.weight.original1, 0.0, 0.01)
            with torch.no_grad():  # keep g = ||v|| so the effective weight starts as v
                v = conv.parametrizations.weight.original1
                conv.parametrizations.weight.original0.copy_(v.norm(dim=(1, 2), keepdim=True))
        if self.downsample is not None:
            nn.init.normal_(self.downsample.weight, 0.0, 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        out = self.dropout(F.relu(self.conv1(x)))
        out = self.dropout(F.relu(self.conv2(out)))
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(out + res)


class TemporalConvNet(nn.Module):
    """A stack of TemporalBlocks with dilation 2**i; receptive field 1 + 2*(k-1)*(2**L - 1)."""

    def __init__(self, in_ch: int, channels: tuple[int, ...], kernel_size: int = 3, dropout: float = 0.2) -> None:
        super().__init__()
        widths = (in_ch, *channels)
        self.network = nn.Sequential(
            *(TemporalBlock(widths[i], widths[i + 1], kernel_size, 2**i, dropout) for i in range(len(channels)))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, T) -> (B, C_out, T)
        return self.network(x)


def receptive_field(n_levels: int, kernel_size: int) -> int:
    """Number of input samples one output sample depends on."""
    return 1 + 2 * (kernel_size - 1) * (2**n_levels - 1)

"""Causal dilated temporal convolutions (after locuslab/TCN), Hailo-friendly.

Causality comes from explicit left padding before an unpadded convolution, instead of
pad-both-sides-then-slice: the same function, but no Slice op in the exported graph and
no `Chomp1d(0)` pitfall.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torch.nn.utils.parametrizations import weight_norm


class CausalConv1d(nn.Conv1d):
    """Conv1d whose output at time t sees only inputs at times <= t."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int = 1) -> None:
        super().__init__(in_ch, out_ch, kernel_size, dilation=dilation, padding=0)
        self.left_pad = (kernel_size - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C', T)
        return super().forward(F.pad(x, (self.left_pad, 0)))


class TemporalBlock(nn.Module):
    """Two causal convs with ReLU + dropout, and a residual path. The convs are weight-normalised
    (the seed's layout) or, with `batch_norm`, each followed by a BatchNorm that export folds
    into the conv, so the deployed graph is the same Conv/Relu/Add chain either way."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int, dropout: float,
                 seed_init: bool = True, batch_norm: bool = False) -> None:
        super().__init__()
        wrap = (lambda conv: conv) if batch_norm else weight_norm
        self.conv1 = wrap(CausalConv1d(in_ch, out_ch, kernel_size, dilation))
        self.conv2 = wrap(CausalConv1d(out_ch, out_ch, kernel_size, dilation))
        self.norm1 = nn.BatchNorm1d(out_ch) if batch_norm else nn.Identity()
        self.norm2 = nn.BatchNorm1d(out_ch) if batch_norm else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        # 1x1 conv only where widths differ, as in the seed (its state dict has `downsample`).
        self.downsample = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else None
        if seed_init and not batch_norm:
            self._seed_init()

    def _seed_init(self) -> None:
        """The seed's (and locuslab's) N(0, 0.01) weights: every block starts near zero, so the
        residual path carries the signal. Without it, PyTorch's Kaiming-uniform default applies."""
        for conv in (self.conv1, self.conv2):
            nn.init.normal_(conv.parametrizations.weight.original1, 0.0, 0.01)
            with torch.no_grad():  # keep g = ||v|| so the effective weight starts as v
                v = conv.parametrizations.weight.original1
                conv.parametrizations.weight.original0.copy_(v.norm(dim=(1, 2), keepdim=True))
        if self.downsample is not None:
            nn.init.normal_(self.downsample.weight, 0.0, 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        out = self.dropout(F.relu(self.norm1(self.conv1(x))))
        out = self.dropout(F.relu(self.norm2(self.conv2(out))))
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(out + res)


class TemporalConvNet(nn.Module):
    """A stack of TemporalBlocks with dilation 2**i; receptive field 1 + 2*(k-1)*(2**L - 1)."""

    def __init__(self, in_ch: int, channels: tuple[int, ...], kernel_size: int = 3, dropout: float = 0.2,
                 seed_init: bool = True, batch_norm: bool = False) -> None:
        super().__init__()
        widths = (in_ch, *channels)
        self.network = nn.Sequential(
            *(TemporalBlock(widths[i], widths[i + 1], kernel_size, 2**i, dropout, seed_init, batch_norm)
              for i in range(len(channels)))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, T) -> (B, C_out, T)
        return self.network(x)


def fold_batch_norm(module: nn.Module) -> None:
    """In place, eval mode: fold each TemporalBlock's BatchNorms into the conv before them."""
    for block in module.modules():
        if isinstance(block, TemporalBlock) and isinstance(block.norm1, nn.BatchNorm1d):
            block.conv1 = fuse_conv_bn_eval(block.conv1, block.norm1)
            block.conv2 = fuse_conv_bn_eval(block.conv2, block.norm2)
            block.norm1, block.norm2 = nn.Identity(), nn.Identity()


def receptive_field(n_levels: int, kernel_size: int) -> int:
    """Number of input samples one output sample depends on."""
    return 1 + 2 * (kernel_size - 1) * (2**n_levels - 1)

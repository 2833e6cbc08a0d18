"""Gradient reversal (Ganin & Lempitsky 2015): identity forward, -lambda * grad backward."""

from __future__ import annotations

import torch
from torch import nn


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, strength: float) -> torch.Tensor:  # type: ignore[override]
        ctx.strength = strength
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return -ctx.strength * grad, None


class GradientReversal(nn.Module):
    """The DANN trainer sets `strength` each step (0 at the start, rising to 1)."""

    def __init__(self, strength: float = 1.0) -> None:
        super().__init__()
        self.strength = strength

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ReverseGrad.apply(x, self.strength)


def dann_strength(progress: float) -> float:
    """The DANN schedule 2/(1+exp(-10p)) - 1 for training progress p in [0, 1]."""
    p = min(max(progress, 0.0), 1.0)
    return float(2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * p))) - 1.0)

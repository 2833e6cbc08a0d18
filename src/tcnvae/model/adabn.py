"""AdaBN: re-estimate BatchNorm statistics from a new wearer's unlabelled windows.

A model trained on some people meets a new person whose sensor sits a little differently and who
moves with their own amplitude. With BatchNorm after every conv, the statistics each layer
normalizes with were measured on the training subjects; recomputing them on the new person's
windows (no labels, no gradient, no weight changes) moves every layer's operating point to that
person (Li et al., "Revisiting Batch Normalization For Practical Domain Adaptation", 2016).
Export folds the new statistics into the convs like any others, so the deployed graph is unchanged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from tcnvae.errors import TcnvaeError

MIN_WINDOWS = 32  # fewer windows give statistics noisier than the training ones they replace


class AdaptationError(TcnvaeError, ValueError):
    """The windows cannot re-estimate the statistics (too few, wrong shape, or no BatchNorm)."""


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


@torch.no_grad()
def adapt_batch_norm(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> nn.Module:
    """A copy of `model` (eval mode) whose BatchNorm running statistics are the cumulative average
    over the normalized windows x (N, T, C); every weight is left as it was."""
    if not has_batch_norm(model):
        raise AdaptationError("the model has no BatchNorm layers (weight-norm presets cannot be adapted)")
    if x.ndim != 3 or len(x) < MIN_WINDOWS:
        raise AdaptationError(f"need at least {MIN_WINDOWS} windows shaped (N, T, C), got {list(x.shape)}")
    adapted = copy.deepcopy(model).eval()
    norms = [m for m in adapted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average over all batches, not an EMA
        m.train()  # only the norms: dropout stays off
    device = next(adapted.parameters()).device
    for i in range(0, len(x), batch_size):
        adapted.features(x[i:i + batch_size].to(device))
    for m in norms:
        m.momentum = 0.1
        m.eval()
    return adapted

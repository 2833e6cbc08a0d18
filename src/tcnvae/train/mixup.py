"""Mixup (Zhang et al. 2018) across the windows of a batch: each window is blended with another of
the same batch, x = lam * x_i + (1 - lam) * x_j, and the activity and domain losses score both
labels, weighted lam and 1 - lam. A model that must say "70 % walking, 30 % sitting" for a blend
cannot memorise one subject's exact windows; reconstruction simply targets the blend."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Mix:
    """Which window each was blended with (`partner[i]` = j) and the weight of its own."""
    partner: torch.Tensor
    lam: float


def mix_batch(x: torch.Tensor, alpha: float) -> tuple[torch.Tensor, Mix]:
    """x blended with a shuffled copy of itself; lam ~ Beta(alpha, alpha), folded to >= 0.5 so each
    window stays mostly itself (its own label dominates). Draws from torch's seeded generator."""
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    lam = max(lam, 1.0 - lam)
    partner = torch.randperm(len(x)).to(x.device)
    return lam * x + (1.0 - lam) * x[partner], Mix(partner, lam)

"""Motif prototypes in latent space and their soft scores.

A window's motif scores are a softmax over negative squared distances to 12 prototypes
(fitted by k-means on training latents). Written with Sub/Mul/ReduceSum/Softmax only, so the
scores export to ONNX (opset 11) and compile for Hailo alongside the encoder. Distances are
taken from explicit differences, not ||z||^2 - 2 z.c + ||c||^2: that expansion cancels
catastrophically when clusters are tight, and ONNX Runtime and PyTorch then disagree.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class MotifHead(nn.Module):
    def __init__(self, n_motifs: int, latent_dim: int) -> None:
        super().__init__()
        # Buffers, not parameters: fitted after training, never updated by the optimizer.
        self.register_buffer("prototypes", torch.zeros(n_motifs, latent_dim))
        self.register_buffer("temperature", torch.ones(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, K) in [0, 1], rows sum to 1
        diff = z.unsqueeze(1) - self.prototypes.unsqueeze(0)  # (B, K, D)
        d2 = (diff * diff).sum(dim=2)
        return torch.softmax(-d2 / self.temperature, dim=1)

    @torch.no_grad()
    def set_prototypes(self, prototypes: np.ndarray, temperature: float) -> None:
        self.prototypes.copy_(torch.as_tensor(prototypes, dtype=torch.float32))
        self.temperature.fill_(float(temperature))

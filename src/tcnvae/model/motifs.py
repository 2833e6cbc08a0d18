"""Motif prototypes in latent space and their soft scores.

A window's motif scores are a softmax over negative squared distances to 12 prototypes
(fitted by k-means on training latents). Written with MatMul/ReduceSum/Softmax only, so the
scores export to ONNX (opset 11) and compile for Hailo alongside the encoder.
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
        c = self.prototypes
        d2 = (z * z).sum(dim=1, keepdim=True) - 2.0 * z @ c.t() + (c * c).sum(dim=1)[None, :]
        return torch.softmax(-d2 / self.temperature, dim=1)

    @torch.no_grad()
    def set_prototypes(self, prototypes: np.ndarray, temperature: float) -> None:
        self.prototypes.copy_(torch.as_tensor(prototypes, dtype=torch.float32))
        self.temperature.fill_(float(temperature))

"""A deterministic stand-in model, used when the real one cannot answer.

The same window always gives the same answer: a fixed random projection (seeded once) of
the window's per-channel mean and standard deviation, squashed into a latent, and motif
scores as a softmax over distances to fixed prototypes. It carries no activity head: its
output means "no model answered", and callers mark it `source: stub`.
"""

from __future__ import annotations

import numpy as np

from tcnvae.contract import LATENT_DIM, N_CHANNELS, N_MOTIFS, channel_limits

SEED = 20240801
_rng = np.random.default_rng(SEED)
_PROJECTION = _rng.normal(size=(2 * N_CHANNELS, LATENT_DIM)).astype(np.float32)
_PROTOTYPES = np.tanh(_rng.normal(size=(N_MOTIFS, LATENT_DIM))).astype(np.float32)
_TEMPERATURE = float(LATENT_DIM)


def stub_outputs(x: np.ndarray) -> dict[str, np.ndarray]:
    """x [N, WINDOW, 9] raw SI -> {"latent" [N, 64], "motif_scores" [N, 12]} (rows sum to 1)."""
    x = np.asarray(x, dtype=np.float32)
    scaled = x / channel_limits() * 8.0  # O(1) features whatever the channel's unit
    feats = np.concatenate([scaled.mean(axis=1), scaled.std(axis=1)], axis=1)  # (N, 18)
    latent = np.tanh(feats @ _PROJECTION)
    d2 = ((latent[:, None, :] - _PROTOTYPES[None]) ** 2).sum(axis=2)
    logits = -d2 / _TEMPERATURE * 8.0
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    scores = e / e.sum(axis=1, keepdims=True)
    return {"latent": latent.astype(np.float32), "motif_scores": scores.astype(np.float32)}

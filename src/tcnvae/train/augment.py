"""Label-preserving augmentation on RAW SI windows (before normalization).

Small rotations are applied to the accelerometer and gyroscope (and magnetometer) triads
together, as a slightly rotated sensor would see them: they blur the few degrees of tilt that
separate sitting from standing for one person but not the next, so the model learns the motion
too; lying (90 degrees away) stays distinct. Then per-window amplitude scaling and white jitter.
"""

from __future__ import annotations

import numpy as np

from tcnvae.contract import SENSOR_GROUPS, CHANNELS


def _rotations(rng: np.random.Generator, n: int, max_deg: float) -> np.ndarray:
    """n random rotation matrices with angle <= max_deg about a random axis (Rodrigues)."""
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    theta = np.deg2rad(rng.uniform(-max_deg, max_deg, size=n))[:, None, None]
    k = np.zeros((n, 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k = k - k.transpose(0, 2, 1)
    return np.eye(3)[None] + np.sin(theta) * k + (1 - np.cos(theta)) * (k @ k)


def augment(x: np.ndarray, rng: np.random.Generator, scale: float, jitter: float, rotate_deg: float,
            std: np.ndarray) -> np.ndarray:
    """x: raw windows (B, T, C). `std` (C,) sets the jitter size per channel."""
    out = x.astype(np.float32, copy=True)
    b = len(out)
    if rotate_deg > 0:
        rot = _rotations(rng, b, rotate_deg).astype(np.float32)
        for chans in SENSOR_GROUPS.values():
            idx = [CHANNELS.index(c) for c in chans]
            out[:, :, idx] = np.einsum("bij,btj->bti", rot, out[:, :, idx])
    if scale > 0:
        out *= rng.uniform(1 - scale, 1 + scale, size=(b, 1, 1)).astype(np.float32)
    if jitter > 0:
        out += rng.normal(0, jitter, size=out.shape).astype(np.float32) * std[None, None, :].astype(np.float32)
    return out

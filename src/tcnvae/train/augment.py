"""Label-preserving augmentation on RAW SI windows (before normalization).

Small rotations are applied to the accelerometer and gyroscope (and magnetometer) triads
together, as a slightly rotated sensor would see them: they blur the few degrees of tilt that
separate sitting from standing for one person but not the next, so the model learns the motion
too; lying (90 degrees away) stays distinct. Then an optional smooth time warp (people walk and
lift at their own pace: the same motion, locally faster or slower), per-window amplitude scaling
and white jitter.
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


def time_warp(x: np.ndarray, rng: np.random.Generator, strength: float, knots: int = 4) -> np.ndarray:
    """Each window resampled along a smooth random clock (Um et al. 2017): the local speed is
    piecewise linear through `knots` + 2 values drawn from 1 +- `strength`, and the warped clock is
    rescaled to span the window, so the ends stay where they are and no sample is invented."""
    b, t, _ = x.shape
    speeds = rng.uniform(1 - strength, 1 + strength, size=(b, knots + 2))
    grid = np.linspace(0, 1, t)
    at = np.linspace(0, 1, knots + 2)
    speed = np.stack([np.interp(grid, at, s) for s in speeds])  # (B, T)
    clock = np.concatenate([np.zeros((b, 1)), np.cumsum(speed[:, 1:], axis=1)], axis=1)
    clock *= (t - 1) / clock[:, -1:]
    lo = np.minimum(clock.astype(np.int64), t - 2)
    frac = (clock - lo)[:, :, None].astype(x.dtype)
    rows = np.arange(b)[:, None]
    return x[rows, lo] * (1 - frac) + x[rows, lo + 1] * frac


def augment(x: np.ndarray, rng: np.random.Generator, scale: float, jitter: float, rotate_deg: float,
            std: np.ndarray, warp: float = 0.0) -> np.ndarray:
    """x: raw windows (B, T, C). `std` (C,) sets the jitter size per channel; `warp` > 0 adds a
    time warp of up to that relative speed change."""
    out = x.astype(np.float32, copy=True)
    b = len(out)
    if rotate_deg > 0:
        rot = _rotations(rng, b, rotate_deg).astype(np.float32)
        for chans in SENSOR_GROUPS.values():
            idx = [CHANNELS.index(c) for c in chans]
            out[:, :, idx] = np.einsum("bij,btj->bti", rot, out[:, :, idx])
    if warp > 0:
        out = time_warp(out, rng, warp)
    if scale > 0:
        out *= rng.uniform(1 - scale, 1 + scale, size=(b, 1, 1)).astype(np.float32)
    if jitter > 0:
        out += rng.normal(0, jitter, size=out.shape).astype(np.float32) * std[None, None, :].astype(np.float32)
    return out

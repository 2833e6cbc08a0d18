"""The canonical IMU contract: channels, units, window, rate, latent and motif sizes.

Every other module takes these numbers from here; nothing else may hard-code them.
"""

from __future__ import annotations

from tcnvae.errors import TcnvaeError

import numpy as np

CHANNELS: tuple[str, ...] = ("ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz")
UNITS: dict[str, str] = {
    "ax": "m/s^2", "ay": "m/s^2", "az": "m/s^2",
    "gx": "rad/s", "gy": "rad/s", "gz": "rad/s",
    "mx": "uT", "my": "uT", "mz": "uT",
}
N_CHANNELS = len(CHANNELS)
SENSOR_GROUPS: dict[str, tuple[str, ...]] = {
    "acc": CHANNELS[0:3], "gyro": CHANNELS[3:6], "mag": CHANNELS[6:9],
}
RATE_HZ = 100.0
WINDOW = 100  # samples, i.e. 1 s at RATE_HZ
STRIDE = 50  # default window stride in samples
LATENT_DIM = 64
N_MOTIFS = 12
STANDARD_GRAVITY = 9.80665  # m/s^2 per g
# Sampling rates a recording may declare or imply (Hz): body-worn IMUs log between a few Hz
# and ~1 kHz; anything outside is a unit mistake (ms for s) and would make resampling explode.
MIN_INPUT_RATE_HZ = 1.0
MAX_INPUT_RATE_HZ = 2000.0

# Physical plausibility limits in SI units, used to refuse garbage at the serving edge.
# Generous: +-16 g, +-35 rad/s (2000 deg/s), +-2000 uT.
PHYSICAL_LIMITS: dict[str, float] = {"acc": 16 * STANDARD_GRAVITY, "gyro": 35.0, "mag": 2000.0}


class ContractError(TcnvaeError, ValueError):
    """A window or recording does not meet the contract; the message names the offending index."""


def channel_limits() -> np.ndarray:
    """Per-channel absolute limits, shape (N_CHANNELS,)."""
    per_group = {ch: PHYSICAL_LIMITS[g] for g, chs in SENSOR_GROUPS.items() for ch in chs}
    return np.array([per_group[c] for c in CHANNELS], dtype=np.float32)


def validate_windows(x: np.ndarray, limits: np.ndarray | None = None) -> np.ndarray:
    """Check a batch of raw SI windows (N, WINDOW, N_CHANNELS), vectorized.

    Returns the array as contiguous float32. Raises ContractError naming the first bad
    window/sample/channel (shape, NaN/Inf, or beyond the physical limits).
    """
    arr = np.asarray(x)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (WINDOW, N_CHANNELS):
        raise ContractError(
            f"expected windows of shape [{WINDOW}, {N_CHANNELS}] (samples x channels "
            f"{','.join(CHANNELS)}), got {list(arr.shape if arr.ndim != 3 else arr.shape[1:])}"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(arr)
    if not finite.all():
        w, t, c = np.argwhere(~finite)[0]
        raise ContractError(f"non-finite value at window {w}, sample {t}, channel {CHANNELS[c]}")
    if limits is not None:
        over = np.abs(arr) > limits
        if over.any():
            w, t, c = np.argwhere(over)[0]
            raise ContractError(
                f"value {float(arr[w, t, c]):g} at window {w}, sample {t}, channel {CHANNELS[c]} "
                f"exceeds the physical limit {float(limits[c]):g} {UNITS[CHANNELS[c]]}"
            )
    return arr

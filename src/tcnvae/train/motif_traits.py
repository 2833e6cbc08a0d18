"""What a motif looks like in physical terms, from the raw windows assigned to it.

Labels say what a motif *is* only when there are labels; these traits say what it looks like
without any: how hard the body moves (movement intensity), whether it moves rhythmically and
how fast (dominant frequency), how the sensor is held (mean gravity direction in the sensor
frame) and how long the pattern typically lasts (bout duration over consecutive windows).

Thresholds are rules of thumb stated here once: the intensity levels split the within-window
standard deviation of |acc| (still < 0.2 m/s^2 <= light < 1 <= moderate < 3 <= vigorous), and a
window is periodic when the spectral peak (±1 Hz) holds at least half of the movement power.
"""

from __future__ import annotations

import numpy as np

from tcnvae.contract import CHANNELS, RATE_HZ, SENSOR_GROUPS, WINDOW

INTENSITY_LEVELS = ((0.2, "still"), (1.0, "light"), (3.0, "moderate"), (np.inf, "vigorous"))
PERIODIC_SHARE = 0.5  # peak-band share of movement power from which a window counts as periodic
BAND_HZ = (0.5, 20.0)  # movement band for the spectrum; below it is posture, above it is noise
_AXES = ("x", "y", "z")


def _group(x: np.ndarray, group: str) -> np.ndarray:
    return x[:, :, [CHANNELS.index(c) for c in SENSOR_GROUPS[group]]]


def window_traits(x: np.ndarray, rate_hz: float = RATE_HZ) -> dict[str, np.ndarray]:
    """Per-window traits of raw SI windows [N, T, 9]: acc_sd (m/s^2), gyro_mean (rad/s),
    dominant_hz, peak_share, gravity [N, 3] (unit vectors, sensor frame)."""
    acc = _group(x, "acc").astype(np.float64)
    mag = np.linalg.norm(acc, axis=2)  # [N, T]
    dyn = mag - mag.mean(axis=1, keepdims=True)
    n_fft = 4 * x.shape[1]  # zero-padding: a finer peak position than the 1 Hz bins of a 1 s window
    power = np.abs(np.fft.rfft(dyn, n=n_fft, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate_hz)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    p, f = power[:, band], freqs[band]
    peak = p.argmax(axis=1)
    near = np.abs(f[None, :] - f[peak][:, None]) <= 1.0
    share = (p * near).sum(axis=1) / np.maximum(p.sum(axis=1), 1e-12)
    g = acc.mean(axis=1)
    return {"acc_sd": dyn.std(axis=1), "gyro_mean": np.linalg.norm(_group(x, "gyro"), axis=2).mean(axis=1),
            "dominant_hz": f[peak], "peak_share": share,
            "gravity": g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)}


def adjacent(x: np.ndarray, subject: np.ndarray, stride: int, chunk: int = 4096) -> np.ndarray | None:
    """bool [N-1]: window i+1 continues window i (same subject, the overlapping samples equal),
    or None when windows do not overlap (stride >= WINDOW) and bouts cannot be traced."""
    if not 0 < stride < x.shape[1] or len(x) < 2:
        return None
    same = np.zeros(len(x) - 1, dtype=bool)
    for a in range(0, len(x) - 1, chunk):
        b = min(a + chunk, len(x) - 1)
        same[a:b] = (x[a:b, stride:] == x[a + 1:b + 1, :x.shape[1] - stride]).all(axis=(1, 2))
    return same & (subject[:-1] == subject[1:])


def bout_seconds(assign: np.ndarray, adj: np.ndarray | None, motif: int, stride: int,
                 rate_hz: float = RATE_HZ, window: int = WINDOW) -> list[float]:
    """Durations (s) of the runs of consecutive windows assigned to `motif`."""
    if adj is None:
        return []
    hit = assign == motif
    cont = np.concatenate([[False], adj & hit[:-1] & hit[1:]])  # window i continues a run of i-1
    run = np.cumsum(hit & ~cont) - 1  # every hit either starts a run or continues one
    lengths = np.bincount(run[hit]) if hit.any() else np.zeros(0, dtype=np.int64)
    return [((n - 1) * stride + window) / rate_hz for n in lengths]


def _level(acc_sd: float) -> str:
    return next(name for bound, name in INTENSITY_LEVELS if acc_sd < bound)


def motif_traits(traits: dict[str, np.ndarray], members: np.ndarray, bouts: list[float],
                 has_acc: bool, has_gyro: bool) -> dict:
    """The readable summary of one motif from the per-window traits of its member windows."""
    if not members.any() or not has_acc:
        return {"intensity": None, "frequency": None, "orientation": None,
                "bouts": _bouts(bouts), "description": "unused" if not members.any() else "no accelerometer"}
    sd = float(np.median(traits["acc_sd"][members]))
    periodic = traits["peak_share"][members] >= PERIODIC_SHARE
    moving = sd >= INTENSITY_LEVELS[0][0]
    hz = float(np.median(traits["dominant_hz"][members][periodic])) if periodic.any() else None
    g = traits["gravity"][members].mean(axis=0)
    consistency = float(np.linalg.norm(g))  # 1: always held the same way; ~0: any orientation
    g = g / max(consistency, 1e-12)
    axis = int(np.argmax(np.abs(g)))
    axis_name = f"{'+' if g[axis] >= 0 else '-'}{_AXES[axis]}"
    is_periodic = bool(moving and periodic.mean() >= 0.5)
    out = {
        "intensity": {"acc_sd_ms2": round(sd, 4), "level": _level(sd),
                      "gyro_mean_rads": round(float(np.median(traits["gyro_mean"][members])), 4) if has_gyro else None},
        "frequency": {"periodic": is_periodic, "periodic_share": round(float(periodic.mean()), 4),
                      "dominant_hz": round(hz, 2) if hz is not None else None},
        "orientation": {"gravity_direction": [round(float(v), 3) for v in g], "axis": axis_name,
                        "consistency": round(consistency, 3)},
        "bouts": _bouts(bouts),
    }
    rhythm = f"periodic ~{hz:.1f} Hz" if is_periodic and hz is not None else "not periodic"
    typical = f", bouts ~{out['bouts']['median_s']:.0f} s" if out["bouts"]["n"] else ""
    out["description"] = f"{_level(sd)}, {rhythm}, gravity along {axis_name}{typical}"
    return out


def _bouts(bouts: list[float]) -> dict:
    if not bouts:
        return {"n": 0, "median_s": None, "p90_s": None}
    return {"n": len(bouts), "median_s": round(float(np.median(bouts)), 2),
            "p90_s": round(float(np.percentile(bouts, 90)), 2)}

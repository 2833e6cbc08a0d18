"""Motif traits from raw windows: intensity, rhythm, orientation, bouts (known signals)."""

from __future__ import annotations

import numpy as np
import pytest

from tcnvae.contract import STANDARD_GRAVITY
from tcnvae.train.motif_traits import adjacent, bout_seconds, motif_traits, window_traits


def _windows(n: int, hz: float, amp: float, axis: int) -> np.ndarray:
    t = np.arange(100) / 100.0
    x = np.zeros((n, 100, 9))
    x[:, :, axis] = STANDARD_GRAVITY
    x[:, :, 0] += amp * np.sin(2 * np.pi * hz * t + np.arange(n)[:, None])
    return x


def test_walking_like_and_lying_still_windows_read_as_such() -> None:
    walk, still = _windows(20, 2.0, 3.0, axis=0), _windows(20, 2.0, 0.0, axis=2)
    still[:, :, 1] += np.random.default_rng(0).normal(0, 0.01, (20, 100))
    traits = window_traits(np.concatenate([walk, still]))
    members = np.arange(40) < 20
    w = motif_traits(traits, members, [4.0, 6.0], True, True)
    assert w["intensity"]["level"] == "moderate" and w["frequency"]["periodic"] is True
    assert w["frequency"]["dominant_hz"] == pytest.approx(2.0, abs=0.3)
    assert w["orientation"]["axis"] == "+x" and w["bouts"] == {"n": 2, "median_s": 5.0, "p90_s": 5.8}
    s = motif_traits(traits, ~members, [], True, True)
    assert s["intensity"]["level"] == "still" and s["frequency"]["periodic"] is False
    assert s["orientation"]["axis"] == "+z" and s["orientation"]["consistency"] == pytest.approx(1.0, abs=1e-3)
    assert s["description"].startswith("still, not periodic, gravity along +z")
    assert motif_traits(traits, np.zeros(40, bool), [], True, True)["description"] == "unused"


def test_bouts_follow_consecutive_overlapping_windows() -> None:
    signal = np.random.default_rng(0).normal(size=(600, 9))
    x = np.stack([signal[s:s + 100] for s in range(0, 501, 50)])  # 11 windows, stride 50
    x = np.concatenate([x, x[:3]])  # a repeat that does not continue the last window
    subject = np.array(["a"] * 14)
    adj = adjacent(x, subject, 50)
    assert adj.tolist() == [True] * 10 + [False, True, True]
    assign = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1])
    assert bout_seconds(assign, adj, 1, 50) == [2.0, 1.5, 2.0]  # 3, 2 and 3 windows
    assert bout_seconds(assign, adj, 0, 50) == [1.0, 3.0]
    assert adjacent(x, subject, 100) is None  # windows that do not overlap: bouts unknown

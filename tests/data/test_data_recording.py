"""Resampling keeps frequencies, labels follow by nearest sample, NaN gaps are handled."""

import numpy as np

from tcnvae.contract import N_CHANNELS, RATE_HZ
from tcnvae.data.recording import (DropReport, canonical_recordings, present_mask, resample_labels,
                                   resample_signals)


def _peak_hz(x: np.ndarray, rate: float) -> float:
    spec = np.abs(np.fft.rfft(x - x.mean()))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spec.argmax()])


def test_sine_keeps_its_frequency():
    for src in (20.0, 50.0):
        t = np.arange(int(src * 20)) / src
        x = np.sin(2 * np.pi * 3.0 * t)[:, None]
        y = resample_signals(x, src, RATE_HZ)
        assert len(y) == int(round(len(x) * RATE_HZ / src))
        assert abs(_peak_hz(y[:, 0], RATE_HZ) - 3.0) < 0.06
        t_out = np.arange(len(y)) / RATE_HZ
        mid = slice(len(y) // 4, 3 * len(y) // 4)
        np.testing.assert_allclose(y[mid, 0], np.sin(2 * np.pi * 3.0 * t_out[mid]), atol=0.02)


def test_labels_follow_nearest_sample():
    labels = np.array([0, 0, 1, 1, 1, -1])
    out = resample_labels(labels, 12, 50.0, 100.0)
    assert out.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, -1, -1]


def test_short_gap_interpolated_long_gap_splits():
    rate = 50.0
    x = np.zeros((1000, N_CHANNELS))
    x[:, 0] = np.arange(1000, dtype=float)
    x[100:104, 0] = np.nan  # 0.08 s <= 0.1 s: interpolated
    x[500:520, 1] = np.nan  # 0.4 s: split
    report = DropReport()
    recs = canonical_recordings(x, present_mask("acc"), np.zeros(1000, np.int64), label_names=("a",),
                                subject="s:1", domain="s", rate_hz=rate, name="r", report=report)
    assert len(recs) == 2
    assert all(np.isfinite(r.signals).all() and r.rate_hz == RATE_HZ for r in recs)
    assert abs(len(recs[0]) - 1000) <= 2 and abs(len(recs[1]) - 960) <= 2
    assert report.as_dict() == {"nan_gaps_interpolated": 1, "nan_gaps_split": 1,
                                "nan_samples_dropped": 20, "nan_samples_interpolated": 4}
    assert (recs[0].signals[:, 3:] == 0).all()  # absent channels stay exactly 0

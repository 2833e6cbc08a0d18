"""Ethogram smoothing: confidence threshold, majority filter, minimum dwell, tiling of time."""

from __future__ import annotations

import numpy as np

from tcnvae.analysis.ethogram import (
    UNCERTAIN, build_ethogram, enforce_min_dwell, majority_smooth, segments, threshold_labels, time_per_label)


def test_threshold_marks_low_confidence_uncertain() -> None:
    assert threshold_labels(["a", "b"], np.array([0.9, 0.3]), 0.5) == ["a", UNCERTAIN]


def test_majority_filter_removes_single_window_flicker() -> None:
    assert majority_smooth(list("aaabaaa"), 3) == list("aaaaaaa")
    assert majority_smooth(list("aaabbbb"), 3) == list("aaabbbb")  # real changes survive


def test_segments_tile_the_recording_without_overlap() -> None:
    t0 = np.arange(5) * 0.5
    segs = segments(list("aabbb"), t0, np.append(t0[1:], t0[-1] + 1.0))
    assert [(s["label"], s["t_start"], s["t_end"]) for s in segs] == [("a", 0.0, 1.0), ("b", 1.0, 3.0)]


def test_min_dwell_absorbs_short_segments_into_the_longer_neighbour() -> None:
    segs = [{"label": "a", "t_start": 0.0, "t_end": 5.0, "duration_s": 5.0, "n_windows": 10},
            {"label": "b", "t_start": 5.0, "t_end": 6.0, "duration_s": 1.0, "n_windows": 2},
            {"label": "c", "t_start": 6.0, "t_end": 8.0, "duration_s": 2.0, "n_windows": 4}]
    out = enforce_min_dwell(segs, 1.5)
    assert [(s["label"], s["t_start"], s["t_end"]) for s in out] == [("a", 0.0, 6.0), ("c", 6.0, 8.0)]
    assert sum(s["n_windows"] for s in out) == 16


def test_build_ethogram_end_to_end_sums_to_the_duration() -> None:
    rng = np.random.default_rng(0)
    names = ["walk"] * 30 + ["sit"] * 30
    names[10] = "sit"
    conf = rng.uniform(0.6, 1.0, 60)
    t0 = np.arange(60) * 0.5
    segs = build_ethogram(names, conf, t0, t0 + 1.0, threshold=0.5, smooth_width=5, min_dwell_s=2.0)
    assert [s["label"] for s in segs] == ["walk", "sit"]
    assert sum(time_per_label(segs).values()) == 30.5

"""An ethogram: per-window labels smoothed into segments of behaviour.

Low-confidence windows become "uncertain"; a centred majority filter removes flicker; then
segments shorter than the minimum dwell are absorbed by their longer neighbour. Each window
owns the time from its start to the next window's start (the last one owns its full length),
so segments tile the recording without overlap.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

UNCERTAIN = "uncertain"


def threshold_labels(names: list[str], confidence: np.ndarray, threshold: float) -> list[str]:
    """Replace labels whose confidence is below `threshold` with UNCERTAIN."""
    return [n if c >= threshold else UNCERTAIN for n, c in zip(names, confidence.tolist())]


def majority_smooth(labels: list[str], width: int) -> list[str]:
    """Centred majority filter of odd `width` (ties keep the window's own label)."""
    if width <= 1 or len(labels) < 2:
        return list(labels)
    half = width // 2
    out = []
    for i, own in enumerate(labels):
        counts = Counter(labels[max(0, i - half): i + half + 1])
        best = max(counts.values())
        out.append(own if counts[own] == best else counts.most_common(1)[0][0])
    return out


def owned_spans(t_start: np.ndarray, t_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(begin, end) seconds each window owns: [start_i, start_{i+1}), the last [start, end]."""
    begin = np.asarray(t_start, dtype=np.float64)
    end = np.append(begin[1:], float(t_end[-1])) if len(begin) else begin
    return begin, end


def segments(labels: list[str], begin: np.ndarray, end: np.ndarray) -> list[dict]:
    """Runs of equal labels -> [{"label", "t_start", "t_end", "duration_s", "n_windows"}]."""
    out: list[dict] = []
    for i, lab in enumerate(labels):
        if out and out[-1]["label"] == lab:
            out[-1]["t_end"] = float(end[i])
            out[-1]["n_windows"] += 1
        else:
            out.append({"label": lab, "t_start": float(begin[i]), "t_end": float(end[i]), "n_windows": 1})
    for seg in out:
        seg["duration_s"] = round(seg["t_end"] - seg["t_start"], 6)
    return out


def enforce_min_dwell(segs: list[dict], min_dwell_s: float) -> list[dict]:
    """Absorb segments shorter than `min_dwell_s` into their longer neighbour, shortest first."""
    segs = [dict(s) for s in segs]
    while len(segs) > 1:
        k = min(range(len(segs)), key=lambda i: segs[i]["duration_s"])
        if segs[k]["duration_s"] >= min_dwell_s:
            break
        left = segs[k - 1] if k > 0 else None
        right = segs[k + 1] if k + 1 < len(segs) else None
        into = left if right is None or (left is not None and left["duration_s"] >= right["duration_s"]) else right
        segs[k]["label"] = into["label"]
        segs = _merge_runs(segs)
    return segs


def _merge_runs(segs: list[dict]) -> list[dict]:
    out: list[dict] = []
    for s in segs:
        if out and out[-1]["label"] == s["label"]:
            out[-1]["t_end"] = s["t_end"]
            out[-1]["n_windows"] += s["n_windows"]
            out[-1]["duration_s"] = round(out[-1]["t_end"] - out[-1]["t_start"], 6)
        else:
            out.append(dict(s))
    return out


def build_ethogram(names: list[str], confidence: np.ndarray, t_start: np.ndarray, t_end: np.ndarray,
                   *, threshold: float, smooth_width: int, min_dwell_s: float) -> list[dict]:
    """Per-window names + confidences -> smoothed segments (see the module docstring)."""
    labels = majority_smooth(threshold_labels(names, confidence, threshold), smooth_width)
    begin, end = owned_spans(t_start, t_end)
    return enforce_min_dwell(segments(labels, begin, end), min_dwell_s)


def time_per_label(segs: list[dict]) -> dict[str, float]:
    """Total seconds per label over the segments, longest first."""
    totals: Counter = Counter()
    for s in segs:
        totals[s["label"]] += s["duration_s"]
    return {k: round(v, 3) for k, v in totals.most_common()}

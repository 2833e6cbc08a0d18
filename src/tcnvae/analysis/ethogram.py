"""An ethogram: per-window labels smoothed into segments of behaviour, offline or live.

Low-confidence windows become "uncertain"; a centred majority filter removes flicker; then a
minimum dwell: the ongoing segment changes only once a new label has lasted `min_dwell_s`;
shorter bouts in between are absorbed by the ongoing segment (the first segment, by the first
label that lasts). Each window owns the time from its start to the next window's start (the
last one owns its full length), so segments tile the recording without overlap.

Every rule looks at most `smooth_width // 2` windows ahead, so `EthogramTracker` can close
segments while a stream is still running; `build_ethogram` is one pass of a whole recording
through the same tracker, so a recording and a live stream get the same segments.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

UNCERTAIN = "uncertain"


def threshold_labels(names: list[str], confidence: np.ndarray, threshold: float) -> list[str]:
    """Replace labels whose confidence is below `threshold` with UNCERTAIN."""
    return [n if c >= threshold else UNCERTAIN for n, c in zip(names, np.asarray(confidence).tolist())]


def _majority(around: list[str], own: str) -> str:
    """The most common label of `around` (ties keep `own`, else the first one seen)."""
    counts = Counter(around)
    best = max(counts.values())
    return own if counts[own] == best else counts.most_common(1)[0][0]


def majority_smooth(labels: list[str], width: int) -> list[str]:
    """Centred majority filter of odd `width` (ties keep the window's own label)."""
    if width <= 1 or len(labels) < 2:
        return list(labels)
    half = width // 2
    return [_majority(labels[max(0, i - half): i + half + 1], own) for i, own in enumerate(labels)]


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
        seg["duration_s"] = _duration(seg)
    return out


def _duration(seg: dict) -> float:
    return round(seg["t_end"] - seg["t_start"], 6)


class DwellSegmenter:
    """Labelled spans in time order -> segments at least `min_dwell_s` long, closed as they end."""

    def __init__(self, min_dwell_s: float) -> None:
        self.min_dwell_s = min_dwell_s
        self.current: dict | None = None  # the ongoing segment, already long enough
        self.pending: list[dict] = []  # runs since then, none long enough (yet)

    def add(self, label: str, begin: float, end: float, n_windows: int = 1) -> list[dict]:
        """One more span; returns the segments this closes (zero or one)."""
        cur = self.current
        if cur is not None and label == cur["label"]:
            self._absorb(cur, self.pending)  # the bout in between was too short: it is the same behaviour
            self.pending = []
            cur["t_end"], cur["n_windows"] = float(end), cur["n_windows"] + n_windows
            return []
        if self.pending and self.pending[-1]["label"] == label:
            run = self.pending[-1]
            run["t_end"], run["n_windows"] = float(end), run["n_windows"] + n_windows
        else:
            run = {"label": label, "t_start": float(begin), "t_end": float(end), "n_windows": n_windows}
            self.pending.append(run)
        if _duration(run) < self.min_dwell_s:
            return []
        before, self.pending = self.pending[:-1], []
        if cur is None:  # the first lasting label: what came before it belongs to it
            self._absorb(run, before, at_start=True)
            self.current = run
            return []
        self._absorb(cur, before)
        self.current = run
        return [_closed(cur)]

    def finish(self) -> list[dict]:
        """The input has ended: close what is open."""
        cur, pending = self.current, self.pending
        self.current, self.pending = None, []
        if cur is None:
            if not pending:
                return []
            longest = max(pending, key=_duration)  # nothing lasted: the longest bout names it all
            cur = {**longest, "t_start": pending[0]["t_start"], "t_end": pending[0]["t_start"], "n_windows": 0}
        self._absorb(cur, pending)
        return [_closed(cur)]

    @staticmethod
    def _absorb(seg: dict, runs: list[dict], at_start: bool = False) -> None:
        if not runs:
            return
        if at_start:
            seg["t_start"] = runs[0]["t_start"]
        else:
            seg["t_end"] = max(seg["t_end"], runs[-1]["t_end"])
        seg["n_windows"] += sum(r["n_windows"] for r in runs)


def _closed(seg: dict) -> dict:
    return {"label": seg["label"], "t_start": seg["t_start"], "t_end": seg["t_end"],
            "duration_s": _duration(seg), "n_windows": seg["n_windows"]}


def enforce_min_dwell(segs: list[dict], min_dwell_s: float) -> list[dict]:
    """Apply the minimum dwell rule (see the module docstring) to runs of labels."""
    dwell = DwellSegmenter(min_dwell_s)
    out: list[dict] = []
    for s in segs:
        out += dwell.add(s["label"], s["t_start"], s["t_end"], s["n_windows"])
    return out + dwell.finish()


class EthogramTracker:
    """Per-window names + confidences in, closed ethogram segments out, as early as possible.

    A window's smoothed label needs `smooth_width // 2` later windows and its span needs the
    next window's start, so segments close with that lag (plus the minimum dwell)."""

    def __init__(self, *, threshold: float, smooth_width: int, min_dwell_s: float) -> None:
        self.threshold, self.half = threshold, max(0, smooth_width // 2) if smooth_width > 1 else 0
        self.dwell = DwellSegmenter(min_dwell_s)
        self._labels: list[str] = []  # thresholded labels of windows [self._base, ...)
        self._starts: list[float] = []
        self._base = 0  # window index of _labels[0]
        self._done = 0  # windows already passed to the dwell rule

    def push(self, names: list[str], confidence: np.ndarray, t_start: np.ndarray) -> list[dict]:
        """More windows (in order); returns the segments that closed."""
        self._labels += threshold_labels(names, confidence, self.threshold)
        self._starts += np.asarray(t_start, dtype=np.float64).tolist()
        n = self._base + len(self._labels)
        return self._advance(upto=n - max(self.half, 1), n=None)

    def finish(self, t_end_last: float) -> list[dict]:
        """No more windows; the last window ends at `t_end_last`. Returns the remaining segments."""
        n = self._base + len(self._labels)
        self._starts.append(float(t_end_last))
        return self._advance(upto=n, n=n) + self.dwell.finish()

    def _advance(self, upto: int, n: int | None) -> list[dict]:
        closed: list[dict] = []
        for i in range(self._done, upto):
            k = i - self._base
            lo = max(0, k - self.half)
            hi = k + self.half + 1 if n is None else min(n - self._base, k + self.half + 1)
            own = self._labels[k]
            label = _majority(self._labels[lo:hi], own) if self.half else own
            closed += self.dwell.add(label, self._starts[k], self._starts[k + 1])
        self._done = max(self._done, upto)
        drop = max(0, self._done - self.half - self._base)  # older labels are out of every filter
        if drop:
            del self._labels[:drop], self._starts[:drop]
            self._base += drop
        return closed


def build_ethogram(names: list[str], confidence: np.ndarray, t_start: np.ndarray, t_end: np.ndarray,
                   *, threshold: float, smooth_width: int, min_dwell_s: float) -> list[dict]:
    """Per-window names + confidences -> smoothed segments (see the module docstring)."""
    if not len(names):
        return []
    tracker = EthogramTracker(threshold=threshold, smooth_width=smooth_width, min_dwell_s=min_dwell_s)
    return tracker.push(list(names), confidence, t_start) + tracker.finish(float(np.asarray(t_end)[-1]))


def time_per_label(segs: list[dict]) -> dict[str, float]:
    """Total seconds per label over the segments, longest first."""
    totals: Counter = Counter()
    for s in segs:
        totals[s["label"]] += s["duration_s"]
    return {k: round(v, 3) for k, v in totals.most_common()}

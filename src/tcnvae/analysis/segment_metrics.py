"""Segment-level agreement between an ethogram and ground-truth labels of a recording.

Window accuracy says little about an ethogram: one flicker splits a bout in two, one missed
transition merges two. These metrics compare segments, as a person reading the ethogram would:
a predicted segment matches a true one when the labels agree and their intersection over union
is at least `min_iou` (one-to-one, best overlap first). Predicted segments lying mostly outside
labelled time (the unlabelled gaps of a dataset) are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcnvae.analysis.ethogram import UNCERTAIN


@dataclass(frozen=True)
class Segment:
    label: str
    t_start: float
    t_end: float


def true_segments(labels: np.ndarray, names: tuple[str, ...], rate_hz: float,
                  keep: set[str] | None = None) -> list[Segment]:
    """Runs of equal per-sample labels (>= 0, and in `keep` when given) as segments in seconds."""
    labels = np.asarray(labels)
    out: list[Segment] = []
    if len(labels) == 0:
        return out
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(labels)]])
    for a, b in zip(starts.tolist(), ends.tolist()):
        lab = int(labels[a])
        if lab < 0 or (keep is not None and names[lab] not in keep):
            continue
        out.append(Segment(names[lab], a / rate_hz, b / rate_hz))
    return out


def predicted_segments(ethogram: list[dict]) -> list[Segment]:
    return [Segment(s["label"], float(s["t_start"]), float(s["t_end"]))
            for s in ethogram if s["label"] != UNCERTAIN]


def _overlap(a: Segment, b: Segment) -> float:
    return max(0.0, min(a.t_end, b.t_end) - max(a.t_start, b.t_start))


def match(pred: list[Segment], true: list[Segment], min_iou: float = 0.5) -> dict:
    """Counts and onset errors of a one-to-one label-and-IoU matching."""
    scored = [p for p in pred
              if sum(_overlap(p, t) for t in true) >= 0.5 * max(p.t_end - p.t_start, 1e-9)]
    pairs = []
    for i, p in enumerate(scored):
        for j, t in enumerate(true):
            if p.label != t.label:
                continue
            inter = _overlap(p, t)
            union = (p.t_end - p.t_start) + (t.t_end - t.t_start) - inter
            if union > 0 and inter / union >= min_iou:
                pairs.append((inter / union, i, j))
    used_p, used_t, onsets, matched_true = set(), set(), [], []
    for _, i, j in sorted(pairs, reverse=True):
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        onsets.append(abs(scored[i].t_start - true[j].t_start))
        matched_true.append(true[j].label)
    return {"n_pred": len(scored), "n_true": len(true), "n_matched": len(used_p),
            "onset_errors_s": onsets, "matched_true_labels": matched_true,
            "true_labels": [t.label for t in true]}


def summarize_matches(results: list[dict], group: set[str] | None = None) -> dict:
    """Pooled precision / recall / F1 and median onset error over many recordings' matches;
    `group` restricts recall to true segments of those labels (e.g. the transitions)."""
    n_pred = sum(r["n_pred"] for r in results)
    n_true = sum(r["n_true"] for r in results)
    n_match = sum(r["n_matched"] for r in results)
    onsets = [e for r in results for e in r["onset_errors_s"]]
    precision = n_match / n_pred if n_pred else 0.0
    recall = n_match / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    out = {"precision": precision, "recall": recall, "f1": f1, "n_true": n_true, "n_pred": n_pred,
           "median_onset_error_s": float(np.median(onsets)) if onsets else float("nan")}
    if group:
        g_true = sum(sum(lab in group for lab in r["true_labels"]) for r in results)
        g_hit = sum(sum(lab in group for lab in r["matched_true_labels"]) for r in results)
        out["group_recall"] = g_hit / g_true if g_true else float("nan")
    return out

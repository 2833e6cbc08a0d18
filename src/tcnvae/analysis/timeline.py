"""The per-window timeline: when, which activity (with probabilities), which motifs."""

from __future__ import annotations

import numpy as np

from tcnvae.analysis.outputs import ModelOutputs
from tcnvae.analysis.windows import AnalysisWindows


def activity_names(outputs: ModelOutputs) -> tuple[list[str], np.ndarray] | None:
    """(argmax activity name per window, its probability), or None without an activity head."""
    if outputs.activity_probs is None:
        return None
    idx = outputs.activity_probs.argmax(axis=1)
    return [outputs.labels[i] for i in idx.tolist()], outputs.activity_probs.max(axis=1)


def top_motif_names(outputs: ModelOutputs) -> tuple[list[str], np.ndarray]:
    """("motif_<id>" of each window's top motif, its score): what the motif ethogram tracks."""
    top = outputs.motif_scores.argmax(axis=1).tolist()
    return [f"motif_{i}" for i in top], outputs.motif_scores.max(axis=1)


def build_timeline(windows: AnalysisWindows, outputs: ModelOutputs, digits: int = 4) -> list[dict]:
    """One entry per window: t_start, t_end (s), activity + probabilities, motif scores, top motif."""
    top = outputs.motif_scores.argmax(axis=1).tolist()
    scores = np.round(outputs.motif_scores.astype(np.float64), digits).tolist()
    acts = activity_names(outputs)
    probs = (np.round(outputs.activity_probs.astype(np.float64), digits).tolist()
             if outputs.activity_probs is not None else None)
    t0, t1 = windows.t_start.tolist(), windows.t_end.tolist()
    out = []
    for i in range(len(windows)):
        out.append({
            "t_start": round(t0[i], 4),
            "t_end": round(t1[i], 4),
            "activity": acts[0][i] if acts else None,
            "activity_probs": dict(zip(outputs.labels, probs[i])) if probs else None,
            "motif_scores": scores[i],
            "top_motif": int(top[i]),
        })
    return out

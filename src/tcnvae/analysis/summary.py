"""Summaries over a session: motif ranking and the time spent in each motif."""

from __future__ import annotations

import numpy as np

from tcnvae.analysis.ethogram import owned_spans


def rank_motifs(motif_scores: np.ndarray) -> list[dict]:
    """Motifs by mean score over the windows, best first: [{"id", "score"}]."""
    mean = np.asarray(motif_scores, dtype=np.float64).mean(axis=0)
    order = np.argsort(-mean, kind="stable")
    return [{"id": int(i), "score": round(float(mean[i]), 6)} for i in order]


def time_per_motif(motif_scores: np.ndarray, t_start: np.ndarray, t_end: np.ndarray) -> dict[str, float]:
    """Seconds in which each motif is the top motif (every motif listed, by id)."""
    begin, end = owned_spans(t_start, t_end)
    top = np.asarray(motif_scores).argmax(axis=1)
    seconds = np.bincount(top, weights=end - begin, minlength=motif_scores.shape[1])
    return {str(i): round(float(s), 3) for i, s in enumerate(seconds)}

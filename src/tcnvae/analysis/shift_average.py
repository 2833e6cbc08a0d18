"""Host-side test-time averaging for session analysis.

Each analysis window's activity probabilities are averaged with those of the same window shifted
by ±D samples (clipped to the recording), exactly as `tcnvae evaluate --average-shifts` scores
held-out windows. The exported graph stays one [1, 100, 9] pass (Hailo, ONNX): the average is
taken here, on the host, after any backend.

Shifted starts of neighbouring windows coincide (stride 50 with shifts ±25, ±50: the union is the
stride-25 grid), so every distinct window runs once: about 2 passes per analysis window, not 5.
Latents and motif scores stay those of the unshifted window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.outputs import ModelOutputs
from tcnvae.analysis.windows import AnalysisWindows
from tcnvae.contract import WINDOW


def signed_offsets(shifts: tuple[int, ...], name: str = "average_shifts") -> tuple[int, ...]:
    """(25, 50) -> (-50, -25, 25, 50); refuses shifts that are not 0 < D < WINDOW, naming `name`."""
    bad = [d for d in shifts if not 0 < d < WINDOW]
    if bad:
        raise AnalysisInputError(f"{name}: each shift must be between 1 and {WINDOW - 1} samples "
                                 f"(a window is {WINDOW}), got {', '.join(map(str, bad))}")
    return tuple(sorted({s * d for d in shifts for s in (-1, 1)}))


@dataclass(frozen=True)
class ShiftPlan:
    windows: AnalysisWindows  # every distinct window to run, sorted by start
    members: np.ndarray  # int64 [N, 1 + n_offsets]: rows of `windows` each analysis window averages; column 0 is itself


def plan_shifts(signals: np.ndarray, base: AnalysisWindows, shifts: tuple[int, ...]) -> ShiftPlan:
    """The distinct windows that `base` and its copies shifted by ±shifts need, and which are whose."""
    offsets = np.array((0, *signed_offsets(shifts)), dtype=np.int64)
    starts = np.clip(base.starts[:, None] + offsets[None, :], 0, len(signals) - WINDOW)  # (N, 1 + 2S)
    unique, inverse = np.unique(starts, return_inverse=True)
    x = np.asarray(signals, dtype=np.float32)[unique[:, None] + np.arange(WINDOW)[None, :]]  # (U, WINDOW, C)
    return ShiftPlan(AnalysisWindows(x, unique), inverse.reshape(starts.shape))


def average_outputs(outputs: ModelOutputs, plan: ShiftPlan) -> ModelOutputs:
    """The outputs of the planned windows -> one row per analysis window, activity probabilities
    averaged over each window's shifted copies."""
    if len(outputs) != len(plan.windows):
        raise ValueError(f"{len(outputs)} outputs for {len(plan.windows)} planned windows")
    own = plan.members[:, 0]
    probs = outputs.activity_probs
    averaged = None if probs is None else probs[plan.members].mean(axis=1).astype(np.float32)
    return replace(outputs, latent=outputs.latent[own], motif_scores=outputs.motif_scores[own],
                   activity_probs=averaged)

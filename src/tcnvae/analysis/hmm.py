"""A sticky hidden Markov model over consecutive window outputs, for session analysis.

Each window's activity probabilities are read as scaled emission likelihoods p(class | x) / p(class)
with a uniform prior; the hidden state is the behaviour, which stays with probability
`1 - stride / mean_dwell_s` per window and otherwise switches to any other state uniformly.
Viterbi gives the most likely path (whole segments, so a short transient between two long bouts
costs two switches and survives only when its evidence is strong); forward-backward gives each
window's posterior, used as its confidence for the `uncertain` rule.

Why an HMM and not a learned layer: it needs no training data of its own, has one parameter with
a physical meaning (how long a behaviour typically lasts), runs in O(N K^2) on the host after any
backend (ONNX, Hailo, the gateway's sidecar) and leaves the exported [1, 100, 9] graph untouched.
"""

from __future__ import annotations

import numpy as np

from tcnvae.analysis.errors import AnalysisInputError

_EPS = 1e-6


def switch_probability(stride_s: float, mean_dwell_s: float, n_states: int) -> float:
    """Per-window probability of leaving the current state, from a mean dwell time in seconds."""
    if mean_dwell_s <= 0 or stride_s <= 0:
        raise AnalysisInputError(f"mean dwell ({mean_dwell_s} s) and stride ({stride_s} s) must be > 0")
    if n_states < 2:
        return 0.0
    return float(min(stride_s / mean_dwell_s, 1.0 - 1.0 / n_states))


def _log_transitions(n_states: int, p_switch: float) -> np.ndarray:
    off = p_switch / (n_states - 1) if n_states > 1 else 0.0
    trans = np.full((n_states, n_states), off)
    np.fill_diagonal(trans, 1.0 - p_switch)
    return np.log(np.clip(trans, 1e-12, None))


def _log_emissions(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) == 0:
        raise AnalysisInputError(f"activity probabilities must be [N, K] with N > 0, got {list(probs.shape)}")
    return np.log(np.clip(probs, _EPS, 1.0))


def viterbi(probs: np.ndarray, p_switch: float) -> np.ndarray:
    """Most likely state per window (int64 [N]) given per-window probabilities [N, K]."""
    emit = _log_emissions(probs)
    n, k = emit.shape
    trans = _log_transitions(k, p_switch)
    score = emit[0] - np.log(k)
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + trans  # (from, to)
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + emit[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def posteriors(probs: np.ndarray, p_switch: float) -> np.ndarray:
    """Forward-backward state posteriors [N, K] (each row sums to 1)."""
    emit = np.exp(_log_emissions(probs))
    n, k = emit.shape
    trans = np.exp(_log_transitions(k, p_switch))
    fwd = np.empty((n, k))
    f = emit[0] / k
    fwd[0] = f / f.sum()
    for t in range(1, n):
        f = (fwd[t - 1] @ trans) * emit[t]
        fwd[t] = f / f.sum()
    post = np.empty((n, k))
    b = np.ones(k)
    post[-1] = fwd[-1]
    for t in range(n - 2, -1, -1):
        b = trans @ (emit[t + 1] * b)
        b /= b.sum()
        p = fwd[t] * b
        post[t] = p / p.sum()
    return post


def decode(probs: np.ndarray, labels: tuple[str, ...] | list[str], *, stride_s: float,
           mean_dwell_s: float) -> tuple[list[str], np.ndarray]:
    """(label per window on the Viterbi path, the posterior of that label) for the ethogram."""
    probs = np.asarray(probs, dtype=np.float64)
    p_switch = switch_probability(stride_s, mean_dwell_s, probs.shape[1] if probs.ndim == 2 else 0)
    path = viterbi(probs, p_switch)
    conf = posteriors(probs, p_switch)[np.arange(len(path)), path]
    return [labels[i] for i in path.tolist()], conf

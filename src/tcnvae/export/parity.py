"""Parity of the exported graphs on real held-out windows: bounds, measurement, verdict.

Every bound lives in BOUNDS; parity.json carries the bounds, the measured values and a
pass/fail per bound, so a reader never has to look up what was required.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from sklearn.metrics import f1_score
from torch import nn

from tcnvae.export.errors import ExportError
from tcnvae.export.onnx import INPUT_NAME, OUTPUT_NAMES

log = logging.getLogger(__name__)

# name -> (kind, limit). kind "min": measured >= limit passes; "max": measured <= limit passes.
BOUNDS: dict[str, tuple[str, float]] = {
    "fp32_cosine_min": ("min", 0.9999),  # worst window, each output, ONNX vs PyTorch
    "fp32_max_abs_diff": ("max", 1e-4),  # every output element, ONNX vs PyTorch
    "static_vs_dynamic_max_abs_diff": ("max", 1e-5),
    "int8_latent_cosine_mean": ("min", 0.99),  # INT8 vs fp32 ONNX, mean over windows
    "int8_argmax_agreement": ("min", 0.99),
    "int8_macro_f1_drop": ("max", 0.005),  # 0.5 point, fp32 macro-F1 minus INT8 macro-F1 vs labels
}
MAX_PARITY_WINDOWS = 2048  # the static graph runs one window at a time


def load_heldout(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x [N,100,9] float32 normalized, y [N] int64) from a release's samples/heldout.npz."""
    try:
        with np.load(path, allow_pickle=False) as f:
            x, y = np.asarray(f["x"], dtype=np.float32), np.asarray(f["y"], dtype=np.int64)
    except (OSError, KeyError, ValueError) as e:
        raise ExportError(f"{path}: cannot read held-out windows x, y ({e})") from e
    if x.ndim != 3 or len(x) == 0 or len(x) != len(y):
        raise ExportError(f"{path}: expected x [N,T,C] and y [N] with N > 0, got {list(x.shape)} and {list(y.shape)}")
    return x[:MAX_PARITY_WINDOWS], y[:MAX_PARITY_WINDOWS]


def cpu_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An ONNX Runtime CPU session, all graph optimizations, sequential on `threads` threads."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_onnx(path: Path, x: np.ndarray, batch: int | None = 256) -> list[np.ndarray]:
    """All outputs of a graph over x; batch=None means one window per call (static graphs)."""
    sess, step = cpu_session(path), batch or 1
    have = {o.name for o in sess.get_outputs()}
    names = [n for n in OUTPUT_NAMES if n in have]  # a motif-only graph has no activity_probs
    parts = [sess.run(names, {INPUT_NAME: x[i:i + step]}) for i in range(0, len(x), step)]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(names))]


@torch.no_grad()
def run_torch(encoder: nn.Module, x: np.ndarray, batch: int = 256) -> list[np.ndarray]:
    """The PyTorch DeployableEncoder's outputs over x, in eval mode."""
    encoder.eval()
    parts = [[t.numpy() for t in encoder(torch.from_numpy(x[i:i + batch]))] for i in range(0, len(x), batch)]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row cosine similarity of two [N, D] arrays."""
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(den, 1e-12)


def compare(ref: list[np.ndarray], got: list[np.ndarray]) -> dict[str, dict[str, float]]:
    """Per output: worst-window cosine, mean cosine and max abs diff."""
    return {name: {"cosine_min": float(cosine(r, g).min()), "cosine_mean": float(cosine(r, g).mean()),
                   "max_abs_diff": float(np.abs(r - g).max())}
            for name, r, g in zip(OUTPUT_NAMES, ref, got)}


def int8_measures(fp32: list[np.ndarray], int8: list[np.ndarray], y: np.ndarray, n_classes: int) -> dict[str, float]:
    """Latent cosine, activity argmax agreement and macro-F1 (vs labels y) of INT8 against fp32.

    A motif-only model (no activity output) is held to top-motif agreement and has no macro-F1."""
    cos = cosine(fp32[0], int8[0])
    if len(fp32) < 3:
        return {"latent_cosine_mean": float(cos.mean()), "latent_cosine_min": float(cos.min()),
                "argmax_agreement": float((fp32[1].argmax(1) == int8[1].argmax(1)).mean()),
                "argmax_of": "motif_scores"}
    labels = list(range(n_classes))
    f1 = [float(f1_score(y, o[2].argmax(1), labels=labels, average="macro", zero_division=0)) for o in (fp32, int8)]
    return {"latent_cosine_mean": float(cos.mean()), "latent_cosine_min": float(cos.min()),
            "argmax_agreement": float((fp32[2].argmax(1) == int8[2].argmax(1)).mean()),
            "macro_f1_fp32": f1[0], "macro_f1_int8": f1[1], "macro_f1_drop": f1[0] - f1[1]}


def argmax_agreement_bound(n_windows: int) -> float:
    """The INT8 argmax-agreement bound for n parity windows: 0.99, but never stricter than one
    flipped window (below 100 windows 0.99 would allow none: a small release's export failed on
    1 of 91)."""
    return min(BOUNDS["int8_argmax_agreement"][1], 1.0 - 1.0 / max(n_windows, 1))


def verdict(measured: dict[str, float], limits: dict[str, float] | None = None) -> dict[str, dict]:
    """Each measured bound with its limit (BOUNDS, or `limits` where given) and pass/fail; bounds
    not measured are left out."""
    out = {}
    for name, value in measured.items():
        kind, limit = BOUNDS[name]
        limit = (limits or {}).get(name, limit)
        ok = value >= limit if kind == "min" else value <= limit
        out[name] = {"measured": value, "bound": limit, "kind": kind, "pass": bool(ok)}
    return out


def require_pass(checks: dict[str, dict], where: str) -> None:
    """Raise ExportError naming every failed bound."""
    failed = [f"{k} = {v['measured']:.6g} (bound {'>=' if v['kind'] == 'min' else '<='} {v['bound']:g})"
              for k, v in checks.items() if not v["pass"]]
    if failed:
        raise ExportError(f"{where}: parity failed: " + "; ".join(failed))

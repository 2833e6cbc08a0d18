"""Model outputs for a batch of windows, checked, and the batched run of a predictor over them.

A predictor is any callable `x [N, WINDOW, 9] raw SI -> {"latent", "motif_scores",
"activity_probs"?}`: the in-process runtime Engine offline, the sidecar over HTTP in the
gateway, or the deterministic stub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tcnvae.contract import LATENT_DIM, N_MOTIFS

Predictor = Callable[[np.ndarray], dict]
SOURCES = ("model", "stub")


class MalformedOutputs(ValueError):
    """A predictor answered with the wrong keys, shapes or values."""


@dataclass(frozen=True)
class ModelOutputs:
    latent: np.ndarray  # float32 [N, LATENT_DIM]
    motif_scores: np.ndarray  # float32 [N, N_MOTIFS], rows in [0, 1] summing to 1
    activity_probs: np.ndarray | None  # float32 [N, K] or None (the stub has no activity head)
    labels: tuple[str, ...]  # K activity names (empty when activity_probs is None)
    source: str  # "model" or "stub"
    model: str | None = None  # the model reference that answered, when known

    def __len__(self) -> int:
        return int(len(self.latent))

    def rows(self, start: int, stop: int) -> "ModelOutputs":
        """Windows start..stop of these outputs (views, no copy)."""
        probs = self.activity_probs[start:stop] if self.activity_probs is not None else None
        return replace(self, latent=self.latent[start:stop], motif_scores=self.motif_scores[start:stop],
                       activity_probs=probs)


def check_outputs(out: object, n: int) -> dict[str, np.ndarray]:
    """Validate one predictor answer for n windows; MalformedOutputs says what is wrong."""
    if not isinstance(out, dict):
        raise MalformedOutputs(f"expected an object, got {type(out).__name__}")
    checked: dict[str, np.ndarray] = {}
    for key, width in (("latent", LATENT_DIM), ("motif_scores", N_MOTIFS)):
        checked[key] = _matrix(out.get(key), key, n, width)
    s = checked["motif_scores"]
    if (s < -1e-4).any() or (s > 1 + 1e-4).any() or not np.allclose(s.sum(axis=1), 1.0, atol=1e-3):
        raise MalformedOutputs("motif_scores must be in [0, 1] and sum to 1 per window")
    probs = out.get("activity_probs")
    if probs is not None:
        checked["activity_probs"] = _matrix(probs, "activity_probs", n, None)
    return checked


def _matrix(value: object, key: str, n: int, width: int | None) -> np.ndarray:
    if value is None:
        raise MalformedOutputs(f"missing {key}")
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise MalformedOutputs(f"{key} is not numeric: {exc}") from None
    if arr.ndim == 1 and n == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[0] != n or (width is not None and arr.shape[1] != width):
        raise MalformedOutputs(f"{key} has shape {list(arr.shape)}, expected [{n}, {width or 'K'}]")
    if not np.isfinite(arr).all():
        raise MalformedOutputs(f"{key} has non-finite values")
    return arr


def concat_outputs(parts: list[dict[str, np.ndarray]], labels: tuple[str, ...], source: str,
                   model: str | None = None) -> ModelOutputs:
    """Join checked per-batch answers into one ModelOutputs."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    latent = np.concatenate([p["latent"] for p in parts])
    scores = np.concatenate([p["motif_scores"] for p in parts])
    has_probs = all("activity_probs" in p for p in parts) and source == "model"
    probs = np.concatenate([p["activity_probs"] for p in parts]) if has_probs else None
    if probs is not None and labels and probs.shape[1] != len(labels):
        raise MalformedOutputs(f"activity_probs has {probs.shape[1]} classes but {len(labels)} labels")
    if probs is not None and not labels:
        labels = tuple(f"class_{i}" for i in range(probs.shape[1]))
    return ModelOutputs(latent, scores, probs, labels if probs is not None else (), source, model)


def run_batches(predict: Predictor, x: np.ndarray, batch_size: int,
                progress: Callable[[int], None] | None = None) -> list[dict[str, np.ndarray]]:
    """Run `predict` over x in batches, checking each answer; `progress(n_done_in_batch)`."""
    parts = []
    for i in range(0, len(x), batch_size):
        batch = x[i:i + batch_size]
        parts.append(check_outputs(predict(batch), len(batch)))
        if progress is not None:
            progress(len(batch))
    return parts

"""The Backend protocol every runtime (ONNX Runtime, PyTorch, HailoRT) implements.

A backend sees NORMALIZED windows only; validation and normalization happen once, in
`Engine`, so no backend can get them subtly different.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

INPUT_NAME = "x"
OUTPUT_NAMES: tuple[str, ...] = ("latent", "motif_scores", "activity_probs")
MOTIF_ONLY_OUTPUTS: tuple[str, ...] = OUTPUT_NAMES[:2]  # a model trained without labels


def outputs_for(labels: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The outputs a model with these activity labels answers: none -> latent + motif scores only."""
    return OUTPUT_NAMES if len(labels) else MOTIF_ONLY_OUTPUTS


@runtime_checkable
class Backend(Protocol):
    """Runs the DeployableEncoder graph: x float32 [N, WINDOW, N_CHANNELS] normalized -> outputs."""

    name: str  # "onnx", "torch", "hailo"
    device: str  # "cpu", "hailo8", ...
    artifact: str  # the file the backend executes (for /healthz and logs)

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Return {"latent": [N,64], "motif_scores": [N,12], "activity_probs": [N,C]} float32
        (no activity_probs for a motif-only model)."""
        ...

    def close(self) -> None:
        """Release native resources (device handles, sessions)."""
        ...

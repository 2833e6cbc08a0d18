"""PyTorch backend: the release's DeployableEncoder in eager mode, weight norm folded, CPU."""

from __future__ import annotations

import numpy as np
import torch

from tcnvae.export.onnx import fold_normalization
from tcnvae.runtime.backend import OUTPUT_NAMES


class TorchBackend:
    """The reference implementation; slower than ONNX Runtime, but needs nothing exported."""

    name = "torch"
    device = "cpu"

    def __init__(self, encoder: torch.nn.Module, threads: int = 1, artifact: str = "encoder.safetensors") -> None:
        # Folding weight norm and BatchNorm once saves recomputing every weight on every call.
        self._module = fold_normalization(encoder)
        self.threads = threads
        self.artifact = artifact
        torch.set_num_threads(threads)  # process-wide; the sidecar runs one backend

    @classmethod
    def from_release(cls, release, threads: int = 1) -> "TorchBackend":
        return cls(release.load_encoder(), threads, str(release.path / "encoder.safetensors"))

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            out = self._module(torch.from_numpy(x))
        return {name: t.numpy() for name, t in zip(OUTPUT_NAMES, out)}

    def close(self) -> None:
        self._module = None

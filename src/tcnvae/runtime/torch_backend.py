"""PyTorch backend: the release's DeployableEncoder in eager mode, weight norm folded, on any device."""

from __future__ import annotations

import numpy as np
import torch

from tcnvae.export.onnx import fold_normalization
from tcnvae.model.device import resolve_device
from tcnvae.runtime.backend import OUTPUT_NAMES


class TorchBackend:
    """The reference implementation; slower than ONNX Runtime, but needs nothing exported."""

    name = "torch"

    def __init__(self, encoder: torch.nn.Module, threads: int = 1, artifact: str = "encoder.safetensors",
                 device: str = "cpu") -> None:
        # Folding weight norm and BatchNorm once saves recomputing every weight on every call.
        self._device = resolve_device(device)
        self.device = str(self._device)
        self._module = fold_normalization(encoder).to(self._device)
        self.threads = threads
        self.artifact = artifact
        torch.set_num_threads(threads)  # process-wide; the sidecar runs one backend

    @classmethod
    def from_release(cls, release, threads: int = 1, device: str = "cpu",
                     adapt: np.ndarray | None = None) -> "TorchBackend":
        """`adapt` (normalized windows [N, 100, 9] of one wearer): BatchNorm statistics re-estimated
        on them first (AdaBN, `tcnvae.model.adabn`); the release's files are left as they are."""
        if adapt is None:
            return cls(release.load_encoder(), threads, str(release.path / "encoder.safetensors"), device)
        from tcnvae.model.adabn import adapt_batch_norm
        from tcnvae.model.vae import DeployableEncoder

        adapted = adapt_batch_norm(release.load_model(), torch.from_numpy(np.ascontiguousarray(adapt)))
        return cls(DeployableEncoder(adapted).eval(), threads, f"{release.path / 'encoder.safetensors'} (AdaBN)",
                   device)

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            out = self._module(torch.from_numpy(np.ascontiguousarray(x)).to(self._device))
        return {name: t.cpu().numpy() for name, t in zip(OUTPUT_NAMES, out)}

    def close(self) -> None:
        self._module = None

"""One Engine interface over every backend: validate raw SI windows, normalize once, run.

    engine = Engine.from_release(Registry("models").open("tcn_encoder@champion"), backend="onnx")
    out = engine.infer(raw)      # raw float [N, 100, 9] in SI units (m/s^2, rad/s, uT)
    out["latent"], out["motif_scores"], out["activity_probs"]   # float32 [N,64], [N,12], [N,C]

`validate` and `run` are the two halves of `infer`, split so a micro-batcher can validate each
request on its own (errors name that request's window index) and run many requests at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tcnvae.contract import N_CHANNELS, N_MOTIFS, LATENT_DIM, WINDOW, channel_limits, validate_windows
from tcnvae.runtime.backend import OUTPUT_NAMES, Backend
from tcnvae.runtime.errors import EngineError
from tcnvae.runtime.precision import check_int8_start, graph_for, int8_gate

log = logging.getLogger(__name__)
BACKENDS = ("onnx", "torch", "hailo")
PARITY_ATOL = 1e-3  # ONNX Runtime vs PyTorch on the release's own calibration windows


@dataclass(frozen=True)
class ModelInfo:
    """What a client or an operator needs to know about the loaded model."""

    name: str
    version: str
    ref: str
    sha256: str  # of encoder.safetensors, as recorded in the release's SHA256SUMS
    labels: tuple[str, ...]


def build_backend(release, backend: str, threads: int, precision: str = "fp32") -> Backend:
    """Instantiate a backend by name for a release; BackendUnavailable says what is missing."""
    graph_for(precision)
    if precision != "fp32" and backend != "onnx":
        raise EngineError(f"precision {precision} needs the onnx backend (got {backend!r}); the hailo "
                          "graph is INT8 already and torch runs fp32")
    if backend == "onnx":
        from tcnvae.runtime.onnx_backend import OnnxBackend as cls
    elif backend == "torch":
        from tcnvae.runtime.torch_backend import TorchBackend as cls
    elif backend == "hailo":
        from tcnvae.runtime.hailo_backend import HailoBackend as cls
    else:
        raise EngineError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "onnx":
        return cls.from_release(release, threads=threads, precision=precision)
    return cls.from_release(release, threads=threads)


class Engine:
    """Raw windows in, model outputs out; thread-safe for one caller at a time per backend."""

    def __init__(self, backend: Backend, normalizer, info: ModelInfo,
                 limits: np.ndarray | None = None, precision: str = "fp32") -> None:
        self.backend = backend
        self.precision = precision
        self.normalizer = normalizer
        self.info = info
        self.int8_bounds: dict | None = None
        self.limits = None if limits is None else np.asarray(limits, dtype=np.float32)

    @classmethod
    def from_release(cls, release, backend: str = "onnx", threads: int = 1,
                     limits: np.ndarray | None = None, check_parity: bool = True,
                     precision: str = "fp32") -> "Engine":
        """Load a verified release (open it with Registry.open) and check the backend against PyTorch.

        precision="int8" serves export/encoder_int8.onnx, only if export/parity.json holds its bounds."""
        info = ModelInfo(release.name, release.version, release.ref, release.weights_sha256,
                         tuple(release.labels))
        gate = int8_gate(release.export_dir) if precision == "int8" else None
        engine = cls(build_backend(release, backend, threads, precision), release.normalizer(), info,
                     channel_limits() if limits is None else limits, precision)
        engine.int8_bounds = gate
        if check_parity and backend == "onnx":
            engine.check_parity(release)
        return engine

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    def validate(self, raw: np.ndarray) -> np.ndarray:
        """Contract checks (shape, finite, physical limits); ContractError names the index."""
        return validate_windows(raw, self.limits)

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Normalize VALIDATED raw windows once and run the backend."""
        out = self.backend.run(self.normalizer.apply(x))
        n = len(x)
        expected = {"latent": (n, LATENT_DIM), "motif_scores": (n, N_MOTIFS),
                    "activity_probs": (n, len(self.labels))}
        for key, shape in expected.items():
            if out[key].shape != shape:
                raise EngineError(f"backend {self.backend.name} returned {key} of shape "
                                  f"{out[key].shape}, expected {shape}")
        return out

    def infer(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        """validate -> Normalizer.apply -> backend, for raw SI windows [N, 100, 9] (or one [100, 9])."""
        return self.run(self.validate(raw))

    def activity(self, probs: np.ndarray) -> list[str]:
        """The most probable label of each row of activity_probs."""
        return [self.labels[i] for i in np.argmax(probs, axis=1)]

    def warmup(self, batch_sizes: Sequence[int] = (1, 8)) -> float:
        """Run zeros-at-rest windows through the backend; returns the batch-1 latency in ms."""
        latency = 0.0
        for n in batch_sizes:
            x = np.zeros((n, WINDOW, N_CHANNELS), dtype=np.float32)
            start = time.perf_counter()
            self.run(x)
            if n == 1:
                latency = (time.perf_counter() - start) * 1e3
        return latency

    def check_parity(self, release, n: int = 8) -> float:
        """Compare the backend with the PyTorch reference on calibration windows; EngineError if off."""
        import torch

        x = np.load(release.path / "samples" / "calibration.npy", mmap_mode="r")[:n]
        x = np.array(x, dtype=np.float32)  # a writable copy; already normalized
        with torch.inference_mode():
            ref = [t.numpy() for t in release.load_encoder()(torch.from_numpy(x))]
        got = self.backend.run(x)
        if self.precision == "int8":  # quantized: judged by its own bounds, not fp32's atol
            return check_int8_start(got, dict(zip(OUTPUT_NAMES, ref)), self.int8_bounds, self.backend.artifact)
        err = max(float(np.abs(got[k] - r).max()) for k, r in zip(OUTPUT_NAMES, ref))
        if not err <= PARITY_ATOL:
            raise EngineError(f"{self.backend.artifact}: {self.backend.name} differs from PyTorch "
                              f"by {err:.3g} (> {PARITY_ATOL}) on {release.ref} calibration windows")
        log.info("parity %s vs torch: max abs diff %.3g", self.backend.name, err)
        return err

    def close(self) -> None:
        self.backend.close()

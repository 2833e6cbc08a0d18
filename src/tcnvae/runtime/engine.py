"""One Engine interface over every backend: validate raw SI windows, normalize once, run.

    engine = Engine.from_release(Registry("models").open("tcn_encoder@champion"), backend="onnx")
    out = engine.infer(raw)      # raw float [N, 100, 9] in SI units (m/s^2, rad/s, uT)
    out["latent"], out["motif_scores"], out["activity_probs"]   # float32 [N,64], [N,12], [N,C]

A motif-only release (trained without labels: `labels` is empty) answers latent and
motif_scores only; `Engine.outputs` names what a release answers.

`validate` and `run` are the two halves of `infer`, split so a micro-batcher can validate each
request on its own (errors name that request's window index) and run many requests at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from tcnvae.contract import N_CHANNELS, N_MOTIFS, LATENT_DIM, WINDOW, channel_limits, validate_windows
from tcnvae.extras import available, require
from tcnvae.registry.reference import REFERENCE_FILE, ReferenceError, read_reference, reference_inputs
from tcnvae.runtime.backend import OUTPUT_NAMES, Backend, outputs_for
from tcnvae.runtime.errors import EngineError
from tcnvae.runtime.precision import check_int8_start, graph_for, int8_gate

log = logging.getLogger(__name__)
BACKENDS = ("onnx", "torch", "hailo")
PARITY_ATOL = 1e-3  # ONNX Runtime vs PyTorch (live or stored) on the release's own calibration windows


@dataclass(frozen=True)
class ModelInfo:
    """What a client or an operator needs to know about the loaded model."""

    name: str
    version: str
    ref: str
    sha256: str  # of encoder.safetensors, as recorded in the release's SHA256SUMS
    labels: tuple[str, ...]
    # motifs.json's per-motif entries (name, description, traits, dominant activities): what a
    # motif looks like, for reports; empty when the release has none.
    motifs: tuple[dict, ...] = field(default=(), compare=False, hash=False, repr=False)


def build_backend(release, backend: str, threads: int, precision: str = "fp32", device: str = "cpu",
                  adapt: np.ndarray | None = None) -> Backend:
    """Instantiate a backend by name for a release; BackendUnavailable says what is missing.

    `device` (auto, cpu, cuda, cuda:N, mps) places the torch backend; ONNX Runtime and Hailo
    run where they run, so they take only cpu."""
    graph_for(precision)
    if precision != "fp32" and backend != "onnx":
        raise EngineError(f"precision {precision} needs the onnx backend (got {backend!r}); the hailo "
                          "graph is INT8 already and torch runs fp32")
    if adapt is not None and backend != "torch":
        raise EngineError(f"adapting BatchNorm statistics needs the torch backend (got {backend!r}): the "
                          "exported graphs have the training statistics folded into their convs")
    if backend == "torch":
        require("torch", "the torch backend")
        from tcnvae.runtime.torch_backend import TorchBackend

        return TorchBackend.from_release(release, threads=threads, device=device, adapt=adapt)
    if device not in ("cpu", "auto"):
        raise EngineError(f"--device {device} applies to the torch backend only; {backend} runs on the CPU "
                          "(use --backend torch, or --device cpu)")
    if backend == "onnx":
        from tcnvae.runtime.onnx_backend import OnnxBackend as cls
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
        self.parity: dict[str, float] = {}  # start-up checks that ran -> max abs diff (see check_parity)

    @classmethod
    def from_release(cls, release, backend: str = "onnx", threads: int = 1,
                     limits: np.ndarray | None = None, check_parity: bool = True,
                     precision: str = "fp32", device: str = "cpu", adapt: np.ndarray | None = None) -> "Engine":
        """Load a verified release (open it with Registry.open) and prove the backend (check_parity).

        precision="int8" serves export/encoder_int8.onnx, only if export/parity.json holds its bounds;
        `device` places the torch backend (cpu, auto, cuda, cuda:N, mps); `adapt` (raw windows of one
        wearer, torch backend): BatchNorm statistics re-estimated on them first (AdaBN)."""
        info = ModelInfo(release.name, release.version, release.ref, release.weights_sha256,
                         tuple(release.labels), _motifs_of(release))
        gate = int8_gate(release.export_dir) if precision == "int8" else None
        normalizer = release.normalizer()
        adapt_x = None if adapt is None else normalizer.apply(adapt)
        engine = cls(build_backend(release, backend, threads, precision, device, adapt_x), normalizer, info,
                     channel_limits() if limits is None else limits, precision)
        engine.int8_bounds = gate
        if check_parity and backend == "onnx":
            engine.check_parity(release)
        return engine

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output names this model answers (no activity_probs for a motif-only model)."""
        return outputs_for(self.labels)

    def validate(self, raw: np.ndarray) -> np.ndarray:
        """Contract checks (shape, finite, physical limits); ContractError names the index."""
        return validate_windows(raw, self.limits)

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Normalize VALIDATED raw windows once and run the backend."""
        out = self.backend.run(self.normalizer.apply(x))
        n = len(x)
        expected = {"latent": (n, LATENT_DIM), "motif_scores": (n, N_MOTIFS),
                    "activity_probs": (n, len(self.labels))}
        for key in self.outputs:
            shape = expected[key]
            if key not in out or out[key].shape != shape:
                raise EngineError(f"backend {self.backend.name} returned {key} of shape "
                                  f"{out[key].shape if key in out else 'none'}, expected {shape}")
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

    def check_parity(self, release, n: int = 8) -> dict[str, float]:
        """Start-up proof that the backend reproduces the model; EngineError if off by > PARITY_ATOL.

        Against export/reference_outputs.npz (PyTorch's outputs stored at export; no torch needed)
        when the release has it, and against the PyTorch encoder on n calibration windows when
        torch is installed. Returns {"reference": max abs diff, "torch": max abs diff} for the
        checks that ran (for precision="int8" the mean latent cosine instead); a release with neither
        is served with a warning and an empty result.
        """
        done: dict[str, float] = {}
        stored = release.export_dir / REFERENCE_FILE
        if stored.is_file():
            try:
                ref, source = read_reference(stored)
            except ReferenceError as e:
                raise EngineError(str(e)) from e
            x = reference_inputs(release.path, len(ref["latent"]))
            done["reference"] = self._compare(x, [ref[k] for k in OUTPUT_NAMES if k in ref], release,
                                              f"the reference outputs in export/{REFERENCE_FILE} ({source})")
        if available("torch"):
            done["torch"] = self._compare_torch(release, n)
        if not done:
            log.warning("%s: start-up parity NOT checked: the release has no export/%s (exported before it "
                        "existed) and PyTorch is not installed; re-export it where tcnvae[train] is installed",
                        release.ref, REFERENCE_FILE)
        self.parity = done
        return done

    def _compare_torch(self, release, n: int) -> float:
        import torch

        x = reference_inputs(release.path, n)
        with torch.inference_mode():
            ref = [t.numpy() for t in release.load_encoder()(torch.from_numpy(x))]
        return self._compare(x, ref, release, "PyTorch")

    def _compare(self, x: np.ndarray, ref: list[np.ndarray], release, against: str) -> float:
        """Max abs difference of the backend's outputs on normalized x from ref; EngineError if too big."""
        got = self.backend.run(x)
        for key, r in zip(OUTPUT_NAMES, ref):
            if got[key].shape != r.shape:
                raise EngineError(f"{self.backend.artifact}: {key} of shape {list(got[key].shape)} but "
                                  f"{against} has {list(r.shape)} ({release.ref})")
        if self.precision == "int8":  # quantized: judged by its own bounds, not fp32's atol
            return check_int8_start(got, dict(zip(OUTPUT_NAMES, ref)), self.int8_bounds, self.backend.artifact)
        err = max(float(np.abs(got[k] - r).max()) for k, r in zip(OUTPUT_NAMES, ref))
        if not err <= PARITY_ATOL:
            raise EngineError(f"{self.backend.artifact}: {self.backend.name} differs from {against} "
                              f"by {err:.3g} (> {PARITY_ATOL}) on {len(x)} {release.ref} calibration windows")
        log.info("parity %s vs %s: max abs diff %.3g on %d windows", self.backend.name, against, err, len(x))
        return err

    def close(self) -> None:
        self.backend.close()


def _motifs_of(release) -> tuple[dict, ...]:
    try:
        doc = release.read_json("motifs.json")
    except (OSError, ValueError):  # a release without a motif table still serves
        return ()
    return tuple(m for m in doc.get("motifs", []) if isinstance(m, dict))

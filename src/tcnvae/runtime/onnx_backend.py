"""ONNX Runtime backend: the default, CPU, one sequential session with --threads intra-op threads."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from tcnvae.extras import require
from tcnvae.runtime.backend import INPUT_NAME, MOTIF_ONLY_OUTPUTS, OUTPUT_NAMES
from tcnvae.runtime.errors import BackendUnavailable, EngineError
from tcnvae.runtime.precision import graph_for

log = logging.getLogger(__name__)
ONNX_FILE = "encoder.onnx"


class OnnxBackend:
    """Runs export/encoder.onnx (or an on-the-fly export of the release) in ONNX Runtime."""

    name = "onnx"
    device = "cpu"

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:  # pragma: no cover - a core dependency
            raise BackendUnavailable("the ONNX backend needs the onnxruntime package") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors for bad graphs
            raise EngineError(f"{model_path}: ONNX Runtime cannot load the graph ({e})") from e
        names = [o.name for o in self._session.get_outputs()]
        known = [n for n in (OUTPUT_NAMES, MOTIF_ONLY_OUTPUTS) if sorted(names) == sorted(n)]
        if not known or self._session.get_inputs()[0].name != INPUT_NAME:
            raise EngineError(f"{model_path}: expected input {INPUT_NAME!r} and outputs {list(OUTPUT_NAMES)} "
                              f"(or {list(MOTIF_ONLY_OUTPUTS)} for a motif-only model), "
                              f"got {[i.name for i in self._session.get_inputs()]} -> {names}")
        self._outputs = list(known[0])
        self.artifact = str(model_path)
        self.threads = threads

    @classmethod
    def from_release(cls, release, threads: int = 1, precision: str = "fp32") -> "OnnxBackend":
        """Use export/encoder.onnx (encoder_int8.onnx for int8) when the release has one, else export
        the fp32 encoder to a temp dir."""
        shipped = release.export_dir / graph_for(precision)
        if shipped.is_file():
            return cls(shipped, threads)
        if precision != "fp32":
            raise EngineError(f"{shipped}: missing; re-export the release or serve --precision fp32")
        require("torch", f"{release.ref} has no export/{ONNX_FILE}: exporting it on the fly (run `tcnvae export` "
                         f"where torch is installed, then copy the release)")
        from tcnvae.export.onnx import export_onnx

        log.warning("%s has no export/%s; exporting the encoder on the fly", release.ref, ONNX_FILE)
        with tempfile.TemporaryDirectory(prefix="tcnvae-onnx-") as tmp:
            backend = cls(export_onnx(release.load_encoder(), Path(tmp) / ONNX_FILE, dynamic=True), threads)
        backend.artifact = f"{release.ref} (exported on the fly)"
        return backend

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        values = self._session.run(self._outputs, {INPUT_NAME: x})
        return dict(zip(self._outputs, values))

    def close(self) -> None:
        self._session = None

"""HailoRT backend: runs a compiled export/*.hef on a Hailo-8/8L accelerator.

It plugs in only where the `hailo_platform` package (HailoRT's Python binding) is installed
and the release carries a .hef compiled by the Hailo Dataflow Compiler from
export/encoder_static.onnx. Everywhere else it raises BackendUnavailable with what is missing.
InferVStreams streams the N windows of a batch through the device frame by frame.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

import numpy as np

from tcnvae.runtime.backend import OUTPUT_NAMES
from tcnvae.runtime.errors import BackendUnavailable, EngineError

log = logging.getLogger(__name__)
HINT = ("HailoRT backend needs the hailo_platform package (HailoRT) and a compiled .hef; "
        "install HailoRT from the Hailo developer zone, compile export/encoder_static.onnx with the "
        "Hailo Dataflow Compiler and add it with `tcnvae export`, or use --backend onnx")


def find_hef(export_dir: Path) -> Path:
    """The release's compiled HEF (export/*.hef; exactly one expected)."""
    hefs = sorted(export_dir.glob("*.hef")) if export_dir.is_dir() else []
    if not hefs:
        raise BackendUnavailable(f"{HINT} (no .hef in {export_dir})")
    if len(hefs) > 1:
        raise EngineError(f"{export_dir}: several .hef files {[h.name for h in hefs]}; keep one")
    return hefs[0]


class HailoBackend:
    """HailoRT inference through InferVStreams with float32 in and out (HailoRT quantizes)."""

    name = "hailo"

    def __init__(self, hef_path: Path, n_classes: int) -> None:
        if importlib.util.find_spec("hailo_platform") is None:
            raise BackendUnavailable(f"{HINT} (hailo_platform is not installed)")
        hp = importlib.import_module("hailo_platform")
        self._hp = hp
        self._hef = hp.HEF(str(hef_path))
        self._device = hp.VDevice()
        params = hp.ConfigureParams.create_from_hef(self._hef, interface=hp.HailoStreamInterface.PCIe)
        self._group = self._device.configure(self._hef, params)[0]
        self._group_params = self._group.create_params()
        self._in_params = hp.InputVStreamParams.make(self._group, format_type=hp.FormatType.FLOAT32)
        self._out_params = hp.OutputVStreamParams.make(self._group, format_type=hp.FormatType.FLOAT32)
        inputs = self._hef.get_input_vstream_infos()
        self._input_name = inputs[0].name
        self._out_map = self._map_outputs(n_classes)
        self.artifact = str(hef_path)
        self.device = "hailo"

    @classmethod
    def from_release(cls, release, threads: int = 1) -> "HailoBackend":
        del threads  # the accelerator does the work
        return cls(find_hef(release.export_dir), len(release.labels))

    def _map_outputs(self, n_classes: int) -> dict[str, str]:
        """HEF output names are compiler-given; match ours by width (64, 12, C), else by order."""
        infos = self._hef.get_output_vstream_infos()
        names = OUTPUT_NAMES if n_classes else OUTPUT_NAMES[:2]  # 0 classes: a motif-only model
        widths = dict(zip(names, (64, 12, n_classes)))
        by_width = {int(np.prod(i.shape)): i.name for i in infos}
        if len(set(widths.values())) == len(names) and all(w in by_width for w in widths.values()):
            return {ours: by_width[w] for ours, w in widths.items()}
        if len(infos) != len(names):
            raise EngineError(f"{self._hef}: expected {len(names)} outputs, got {[i.name for i in infos]}")
        return dict(zip(names, (i.name for i in infos)))

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        hp = self._hp
        with hp.InferVStreams(self._group, self._in_params, self._out_params) as pipeline:
            with self._group.activate(self._group_params):
                raw = pipeline.infer({self._input_name: np.ascontiguousarray(x, dtype=np.float32)})
        return {ours: np.asarray(raw[theirs], dtype=np.float32).reshape(len(x), -1)
                for ours, theirs in self._out_map.items()}

    def close(self) -> None:
        self._device.release()

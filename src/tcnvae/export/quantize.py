"""Calibration windows and static INT8 (QDQ, per-channel) quantization with ONNX Runtime.

Choices, measured on the 2-core EPYC dev machine (see BENCHMARKS.md):
- activations uint8 asymmetric, weights int8 symmetric per channel ("U8S8"): the format the
  x86 kernels (VNNI) run fastest; with int8 activations ORT left three Conv and the Pads in
  float, and ran 2.4x fp32 instead of 3.4x.
- only the TCN body is quantized (Conv, Add, Relu, Pad): the latent Gemm, the motif distance
  head and both softmaxes stay fp32. They cost < 1 % of the MACs but decide the latent and
  argmax parity.
- the layer that reads the input window stays fp32 (input Transpose/Pad, the first Conv and
  its residual 1x1 Conv): sitting vs standing differs by a few degrees of gravity direction,
  which an 8-bit input grid blurs. It costs nothing measurable (9 input channels). The
  micro-motion front end (`/micro/` nodes) before it stays fp32 too: its magnified differences
  span +-500 before clipping, and an 8-bit grid over that range rounds the tremor it exists
  to show to zero (argmax agreement fell to 0.49 on the HAPT-6 release).
- the causal Pads are folded into their Convs first (export/fold_pads.py): left in, each sits
  between its own DQ/Q pair and blocks ORT's Pad->Conv fusion at batch 1.
- Percentile (99.999) calibration: measured on the trained HAPT-6 release, INT8 vs fp32
  argmax agreement 0.990 with MinMax on the whole body, 0.994 with this recipe, same speed.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from tcnvae.contract import N_CHANNELS, WINDOW
from tcnvae.export.errors import ExportError
from tcnvae.export.fold_pads import fold_pads_into_convs
from tcnvae.export.onnx import INPUT_NAME

log = logging.getLogger(__name__)

MIN_CALIBRATION = 1024  # windows; fewer gives unstable activation ranges
MAX_CALIBRATION = 2048  # more adds minutes, not accuracy
CALIBRATION_BATCH = 64
QUANTIZED_OPS = ("Conv", "Add", "Relu", "Pad")  # Pad: any that folding leaves in place
FRONT_END_SCOPE = "/micro/"  # node-name prefix of model.micro (MicroMotion) in the exported graph


class WindowReader(CalibrationDataReader):
    """Feeds normalized windows [N,100,9] to the calibrator in batches."""

    def __init__(self, windows: np.ndarray, batch: int = CALIBRATION_BATCH) -> None:
        self._windows = windows
        self._batch = batch
        self._start = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._start >= len(self._windows):
            return None
        chunk = self._windows[self._start:self._start + self._batch]
        self._start += self._batch
        return {INPUT_NAME: chunk}

    def rewind(self) -> None:
        self._start = 0


def read_windows(path: Path) -> np.ndarray:
    """Windows [N, 100, 9] float32 from a .npy file: readable, that shape, finite (else ExportError naming it)."""
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ExportError(f"{path}: cannot read calibration windows ({e})") from e
    if x.ndim != 3 or x.shape[1:] != (WINDOW, N_CHANNELS):
        raise ExportError(f"{path}: calibration windows must be [N, {WINDOW}, {N_CHANNELS}] (channels ax..mz), "
                          f"got {list(x.shape)}")
    x = np.asarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ExportError(f"{path}: calibration windows contain NaN or Inf")
    return x


def load_calibration(path: Path) -> np.ndarray:
    """Normalized training windows from a release's samples/calibration.npy, checked and capped."""
    x = read_windows(path)
    if len(x) < MIN_CALIBRATION:
        raise ExportError(f"{path}: {len(x)} calibration windows, need at least {MIN_CALIBRATION}; give "
                          f"others with --calibration DATASET|FILE.npy (e.g. --calibration uci-hapt)")
    return np.ascontiguousarray(x[:MAX_CALIBRATION])


def input_layer_nodes(graph: onnx.GraphProto) -> list[str]:
    """Nodes from the graph input up to and including the first Conv(s) that read it; the
    micro-motion front end's fixed Conv is passed through, not stopped at."""
    frontier = {i.name for i in graph.input}
    picked: list[str] = []
    grew = True
    while grew:
        grew = False
        for node in graph.node:
            if node.name not in picked and any(i in frontier for i in node.input):
                picked.append(node.name)
                grew = True
                if node.op_type != "Conv" or node.name.startswith(FRONT_END_SCOPE):  # stop at the first learned conv
                    frontier |= set(node.output)
    return picked


def quantize_int8(fp32_path: Path, out_path: Path, windows: np.ndarray, work_dir: Path) -> Path:
    """Static INT8 QDQ of a dynamic-batch fp32 graph (opset >= 13), calibrated on `windows`."""
    prepared = work_dir / "encoder_prep.onnx"
    # Shape inference + graph cleanup the quantizer expects; the symbolic pass is only for
    # transformer-style dynamic shapes and needs extra packages, so it is skipped.
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
    graph = onnx.load(str(prepared))
    fold_pads_into_convs(graph)  # else each Pad sits between its own DQ/Q pair (export/fold_pads.py)
    onnx.save(graph, str(prepared))
    chatter = io.StringIO()  # the histogram calibrator print()s its progress; keep stdout clean
    with contextlib.redirect_stdout(chatter):
        quantize_static(str(prepared), str(out_path), WindowReader(windows),
                        quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=False,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.Percentile,
                        op_types_to_quantize=list(QUANTIZED_OPS),
                        nodes_to_exclude=input_layer_nodes(graph.graph))
    log.debug("calibrator: %s", chatter.getvalue().strip())
    log.info("quantized %s on %d calibration windows", out_path.name, len(windows))
    return out_path

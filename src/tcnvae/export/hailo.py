"""hailo_report.json: what the Hailo Dataflow Compiler needs to turn encoder_static.onnx into a .hef.

The report is computed from the graph itself (shapes by ONNX shape inference, MACs from
Conv/Gemm/MatMul shapes), so it describes what ships, not what the training code intended.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import numpy_helper

from tcnvae.export.allowlist import HAILO_ALLOWED_OPS, non_causal_pads, off_allowlist, op_histogram
from tcnvae.export.onnx import opset_of, value_shapes
from tcnvae.export.quantize import input_layer_nodes

HEF_NOTE = ("The .hef itself is compiled with the Hailo Dataflow Compiler (DFC), which is licensed "
            "separately and not available in this project's environment; this report lists its inputs.")


def _node_macs(node: onnx.NodeProto, shapes: dict[str, list], inits: dict[str, np.ndarray]) -> int:
    out = shapes.get(node.output[0])
    if node.op_type == "Conv":
        w = inits.get(node.input[1])
        if w is None or out is None:
            return 0
        return int(math.prod(out)) * int(math.prod(w.shape[1:]))  # each output: C_in/group * kernel
    if node.op_type in ("Gemm", "MatMul"):
        a = shapes.get(node.input[0]) or list(inits[node.input[0]].shape)
        if out is None:
            return 0
        return int(math.prod(out)) * int(a[-1])  # each output: one dot product of length K
    return 0


def count_macs(model: onnx.ModelProto) -> dict[str, int]:
    """Multiply-accumulates per inference by op type (model must carry inferred shapes)."""
    shapes = value_shapes(model)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    shapes.update({k: list(v.shape) for k, v in inits.items()})
    macs: dict[str, int] = {}
    for node in model.graph.node:
        n = _node_macs(node, shapes, inits)
        if n:
            macs[node.op_type] = macs.get(node.op_type, 0) + n
    return {**macs, "total": sum(macs.values())}


def count_params(model: onnx.ModelProto) -> int:
    """Elements of all float initializers (weights and biases)."""
    return int(sum(math.prod(i.dims) for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT))


def dfc_steps(name: str, calibration_shape: list[int], input_layers: list[str]) -> dict:
    """The DFC compile, as documentation strings (run on a machine with the Hailo DFC installed)."""
    return {
        "inputs": {"onnx": "encoder_static.onnx", "calibration": "calibration.npy",
                   "calibration_shape": calibration_shape, "calibration_layout": "NTC, normalized, float32"},
        "steps": [
            f"hailo parser onnx encoder_static.onnx --hw-arch hailo8 --net-name {name}",
            f"hailo optimize {name}.har --hw-arch hailo8 --calib-set-path calibration.npy",
            f"hailo compiler {name}_optimized.har --hw-arch hailo8",
        ],
        "output": f"{name}.hef",
        # The ONNX Runtime INT8 graph keeps these in fp32 (export/quantize.py); on the chip they
        # need the DFC's 16-bit precision mode, or the tremor and tilt they read round to zero.
        "high_precision_layers": {"nodes": input_layers,
                                  "why": "the input window and the micro-motion front end carry differences of "
                                         "~0.005 normalized units, below an 8-bit grid over the input range; "
                                         "compile them at 16 bits (a16_w16) or run them on the host"},
        "note": HEF_NOTE,
    }


def hailo_report(model: onnx.ModelProto, *, name: str, ref: str, normalization: dict,
                 receptive_field: int, calibration_shape: list[int]) -> dict:
    """The report for a checked static graph (with inferred shapes)."""
    shapes = value_shapes(model)
    io = {"inputs": {v.name: shapes[v.name] for v in model.graph.input},
          "outputs": {v.name: shapes[v.name] for v in model.graph.output}}
    dynamic = [k for side in io.values() for k, s in side.items() if any(not isinstance(d, int) or d <= 0 for d in s)]
    off = off_allowlist(model)
    bad_pads = non_causal_pads(model)
    return {
        "release": ref,
        "model": "encoder_static.onnx",
        "opset": opset_of(model),
        "static_shapes": not dynamic,
        **io,
        "operators": op_histogram(model),
        "allowlist": sorted(HAILO_ALLOWED_OPS),
        "off_allowlist": off,
        "non_causal_pads": bad_pads,
        "hailo_ready": not (dynamic or off or bad_pads),
        "parameters": count_params(model),
        "macs": count_macs(model),
        "receptive_field_samples": receptive_field,
        "host_normalization": {
            "formula": "x_norm[t, c] = (x[t, c] - mean[c]) / std[c]; channels not present are set to 0",
            "channel_order": normalization.get("channel_order"),
            "units": normalization.get("units"),
            "mean": normalization.get("mean"), "std": normalization.get("std"),
            "present": normalization.get("present"),
            "layout": "input x is [1, T, C] time-major: 100 samples x 9 channels",
        },
        "dfc": dfc_steps(name, calibration_shape, input_layer_nodes(model.graph)),
    }

"""The ONNX operators the Hailo-bound static graph may contain, and a check against them.

Why a list: the Hailo Dataflow Compiler (DFC) parses an ONNX graph into Hailo layers and
refuses (or silently moves to the host CPU) anything outside its supported-layers table.
The set below is the intersection of that table (Hailo DFC user guide, "Supported ONNX
operators": Conv, Relu, Add/Sub/Mul/Div, Pad in constant mode, GlobalAveragePool/ReduceMean,
Gemm/MatMul, Softmax, ReduceSum, Concat, Transpose, Reshape-family, Exp/Neg) with what our
encoder needs. Things deliberately absent: Slice (the classic TCN "pad both sides then chomp"
pattern — our model pads explicitly on the left instead), Loop/If/Scan (no dynamic control
flow), Shape/Gather/ConstantOfShape/Cast (shape arithmetic the DFC cannot place on the chip;
they must be constant-folded away before the graph ships).
"""

from __future__ import annotations

from collections import Counter

import onnx
from onnx import numpy_helper

HAILO_ALLOWED_OPS: frozenset[str] = frozenset({
    "Conv", "Relu", "Add", "Sub", "Mul", "Div", "Neg", "Exp",
    "Pad", "GlobalAveragePool", "ReduceMean", "ReduceSum",
    "Transpose", "Gemm", "MatMul", "Softmax",
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Constant",
})


def op_histogram(model: onnx.ModelProto) -> dict[str, int]:
    """Operator type -> count over the main graph, sorted by name."""
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def off_allowlist(model: onnx.ModelProto) -> list[str]:
    """Names of nodes whose operator is not in HAILO_ALLOWED_OPS, as `op_type:node_name`."""
    return [f"{n.op_type}:{n.name}" for n in model.graph.node if n.op_type not in HAILO_ALLOWED_OPS]


def non_causal_pads(model: onnx.ModelProto) -> list[str]:
    """Pad nodes that are not constant-mode, left-only padding on the time axis (last axis).

    Causality on the chip relies on zeros being prepended only; a pad at the end or a
    non-constant mode would change the function and is reported by name.
    """
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    bad = []
    for n in model.graph.node:
        if n.op_type != "Pad":
            continue
        mode = next((a.s.decode() for a in n.attribute if a.name == "mode"), "constant")
        pads = inits.get(n.input[1]) if len(n.input) > 1 else None
        if mode != "constant" or pads is None:
            bad.append(n.name)
            continue
        half = len(pads) // 2
        begins, ends = list(pads[:half]), list(pads[half:])
        if any(ends) or any(begins[:-1]):
            bad.append(n.name)
    return bad

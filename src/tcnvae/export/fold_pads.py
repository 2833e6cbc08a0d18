"""Fold each causal zero `Pad` into the `pads` attribute of the Conv that reads it (INT8 graph only).

Why: the model pads explicitly on the left before an unpadded convolution (model/tcn.py), so
the graph holds one Pad per convolution. In fp32, ONNX Runtime's own Pad→Conv fusion removes
them at session start. In a QDQ graph the quantizer puts each Pad between its own
DequantizeLinear/QuantizeLinear pair (DQ → Pad → Q → DQ → Conv): the fusion no longer matches,
so every layer runs an extra dequantize, a float pad and a requantize at batch 1, which is
where INT8 lost most of its edge over fp32 on one window (BENCHMARKS.md). Folding the pads
before quantization gives DQ → Conv(pads=[left, 0]), which ORT runs as one integer convolution.

The function is unchanged: a constant-mode Pad with value 0 is what Conv's implicit padding
does (in the quantized Conv the zero point stands for 0.0, exactly as the quantized Pad fills
it). Only Pads whose every consumer is a Conv without padding of its own are folded; anything
else is left as it is. The static Hailo graph keeps its explicit Pads (the allowlist checks them).
"""

from __future__ import annotations

import logging

import numpy as np
import onnx
from onnx import helper, numpy_helper

log = logging.getLogger(__name__)


def _attr(node: onnx.NodeProto, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _zero_pad_amounts(node: onnx.NodeProto, inits: dict[str, np.ndarray]) -> list[int] | None:
    """[begin..., end...] of a constant-mode zero Pad with constant amounts, else None."""
    mode = _attr(node, "mode", b"constant")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant":
        return None
    if len(node.input) < 2 or node.input[1] not in inits:
        return None
    if len(node.input) > 2 and node.input[2]:  # a constant_value input: must be 0
        value = inits.get(node.input[2])
        if value is None or np.any(value != 0):
            return None
    if len(node.input) > 3 and node.input[3]:  # axes input (opset 18): not produced by our exporter
        return None
    return [int(v) for v in inits[node.input[1]].reshape(-1)]


def _conv_takes(conv: onnx.NodeProto, pads: list[int]) -> list[int] | None:
    """The Conv `pads` attribute equal to `pads` on [N, C, spatial...], or None if it cannot."""
    rank = len(pads) // 2
    begins, ends = pads[:rank], pads[rank:]
    if rank < 3 or any(begins[:2]) or any(ends[:2]) or min(pads) < 0:
        return None  # padding the batch or channel axis is not a convolution's
    if _attr(conv, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    own = list(_attr(conv, "pads", [0] * (2 * (rank - 2))))
    if any(own):
        return None
    return begins[2:] + ends[2:]


def fold_pads_into_convs(model: onnx.ModelProto) -> int:
    """Rewrite `model` in place; returns how many Pads were folded."""
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    outputs = {o.name for o in graph.output}
    folded: list[onnx.NodeProto] = []
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        amounts = _zero_pad_amounts(pad, inits)
        readers = consumers.get(pad.output[0], [])
        if amounts is None or not readers or pad.output[0] in outputs:
            continue
        if any(r.op_type != "Conv" or r.input[0] != pad.output[0] for r in readers):
            continue
        conv_pads = [_conv_takes(r, amounts) for r in readers]
        if any(p is None for p in conv_pads):
            continue
        for reader, p in zip(readers, conv_pads):
            kept = [a for a in reader.attribute if a.name != "pads"]
            del reader.attribute[:]
            reader.attribute.extend([*kept, helper.make_attribute("pads", p)])
            reader.input[0] = pad.input[0]
        folded.append(pad)
    gone = {pad.output[0] for pad in folded}
    for pad in folded:
        graph.node.remove(pad)
    for info in [v for v in graph.value_info if v.name in gone]:
        graph.value_info.remove(info)
    _drop_unused_initializers(graph)
    log.info("folded %d causal Pads into their Convs", len(folded))
    return len(folded)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {i for n in graph.node for i in n.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)

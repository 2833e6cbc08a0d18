"""Folding the causal Pads into their Convs before INT8 quantization (export/fold_pads.py)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tcnvae.export.fold_pads import fold_pads_into_convs
from tcnvae.export.onnx import export_onnx
from tcnvae.model.vae import TCNVAE, DeployableEncoder, ModelConfig


def _run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


@pytest.mark.parametrize("options", [{"batch_norm": True}, {"batch_norm": True, "micro_gains": (10.0, 100.0)}],
                         ids=["tcn", "micro_motion"])
def test_folding_removes_every_pad_and_keeps_the_outputs(tmp_path, options):
    enc = DeployableEncoder(TCNVAE(ModelConfig(channels=(16, 32), decoder_channels=(32, 16), n_classes=6,
                                               **options))).eval()
    model = onnx.load(export_onnx(enc, tmp_path / "m.onnx", dynamic=True))
    pads = sum(n.op_type == "Pad" for n in model.graph.node)
    x = np.random.default_rng(0).normal(size=(3, 100, 9)).astype(np.float32)
    before = _run(model, x)
    assert fold_pads_into_convs(model) == pads > 0
    onnx.checker.check_model(model, full_check=True)
    assert not [n for n in model.graph.node if n.op_type == "Pad"]
    assert all(helper.get_attribute_value(a)[0] > 0 for n in model.graph.node if n.op_type == "Conv"
               for a in n.attribute if a.name == "pads" and any(helper.get_attribute_value(a)))
    for got, want in zip(_run(model, x), before):
        np.testing.assert_allclose(got, want, atol=1e-6)


def _pad_conv(pads: list[int], value: float = 0.0, conv_pads: list[int] | None = None) -> onnx.ModelProto:
    """x [1,2,8] -> Pad -> Conv(k=3)."""
    conv_attrs = {"pads": conv_pads} if conv_pads else {}
    nodes = [helper.make_node("Pad", ["x", "pads", "value"], ["p"], name="pad", mode="constant"),
             helper.make_node("Conv", ["p", "w"], ["y"], name="conv", **conv_attrs)]
    inits = [numpy_helper.from_array(np.array(pads, dtype=np.int64), "pads"),
             numpy_helper.from_array(np.array(value, dtype=np.float32), "value"),
             numpy_helper.from_array(np.ones((2, 2, 3), dtype=np.float32), "w")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("case", [{"pads": [0, 0, 2, 0, 0, 0], "value": 1.0},  # not a zero pad
                                  {"pads": [1, 0, 2, 0, 0, 0]},  # pads the batch axis too
                                  {"pads": [0, 0, 2, 0, 0, 0], "conv_pads": [1, 1]}],  # conv pads itself
                         ids=["nonzero_value", "batch_axis", "conv_has_pads"])
def test_pads_a_conv_cannot_take_are_left_alone(case):
    model = _pad_conv(**case)
    x = np.random.default_rng(1).normal(size=(1, 2, 8)).astype(np.float32)
    before = _run(model, x)
    assert fold_pads_into_convs(model) == 0
    assert [n.op_type for n in model.graph.node] == ["Pad", "Conv"]
    np.testing.assert_allclose(_run(model, x)[0], before[0])


def test_a_left_zero_pad_becomes_the_convs_own_padding():
    model = _pad_conv([0, 0, 2, 0, 0, 0])
    x = np.random.default_rng(2).normal(size=(1, 2, 8)).astype(np.float32)
    before = _run(model, x)
    assert fold_pads_into_convs(model) == 1
    (conv,) = model.graph.node
    assert conv.input[0] == "x" and list(helper.get_attribute_value(conv.attribute[0])) == [2, 0]
    assert {i.name for i in model.graph.initializer} == {"w"}
    np.testing.assert_allclose(_run(model, x)[0], before[0], atol=1e-6)


def test_the_exported_int8_graph_has_no_pad_between_its_quantize_pairs(exported):
    model = onnx.load(exported["release"].export_dir / "encoder_int8.onnx")
    assert not [n.name for n in model.graph.node if n.op_type == "Pad"]
    assert exported["summary"]["passed"]

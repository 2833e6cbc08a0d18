"""The exported graphs: shapes, opsets, Hailo allowlist, dynamic batch, weight-norm folding."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from tcnvae.export.allowlist import HAILO_ALLOWED_OPS, non_causal_pads, off_allowlist
from tcnvae.export.onnx import export_onnx, fold_normalization, opset_of, value_shapes
from tcnvae.export.quantize import FRONT_END_SCOPE, input_layer_nodes
from tcnvae.model.vae import TCNVAE, DeployableEncoder, ModelConfig


def test_static_graph_has_fixed_shapes_opset_11_and_only_allowed_ops(exported):
    declared = onnx.load(exported["release"].export_dir / "encoder_static.onnx")
    n_classes = len(exported["release"].labels)
    # The graph's own signature (not inferred value_info) holds a number in every dim.
    signature = {v.name: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]
                 for v in [*declared.graph.input, *declared.graph.output]}
    assert signature == {"x": [1, 100, 9], "latent": [1, 64], "motif_scores": [1, 12], "activity_probs": [1, n_classes]}
    assert all(isinstance(d, int) and d > 0 for dims in signature.values() for d in dims), signature
    model = onnx.shape_inference.infer_shapes(declared, strict_mode=True)
    shapes = value_shapes(model)
    assert shapes["x"] == [1, 100, 9]
    assert shapes["latent"] == [1, 64] and shapes["motif_scores"] == [1, 12]
    assert shapes["activity_probs"] == [1, n_classes]
    assert opset_of(model) == 11
    assert off_allowlist(model) == []
    assert {n.op_type for n in model.graph.node} <= HAILO_ALLOWED_OPS
    assert not {"Slice", "Loop", "If", "Shape", "ConstantOfShape", "Cast"} & {n.op_type for n in model.graph.node}
    assert non_causal_pads(model) == []


def test_dynamic_graph_runs_a_batch_of_five_and_matches_pytorch(exported):
    release = exported["release"]
    model = onnx.load(release.export_dir / "encoder.onnx")
    assert opset_of(model) >= 13
    x = np.random.default_rng(3).normal(size=(5, 100, 9)).astype(np.float32)
    sess = ort.InferenceSession(str(release.export_dir / "encoder.onnx"), providers=["CPUExecutionProvider"])
    latent, motifs, probs = sess.run(None, {"x": x})
    assert latent.shape == (5, 64) and motifs.shape == (5, 12) and probs.shape == (5, len(release.labels))
    with torch.no_grad():
        ref = release.load_encoder()(torch.from_numpy(x))
    for got, want in zip((latent, motifs, probs), ref):
        np.testing.assert_allclose(got, want.numpy(), atol=1e-4)


def test_int8_graph_is_qdq_per_channel_at_opset_13_or_more(exported):
    model = onnx.load(exported["release"].export_dir / "encoder_int8.onnx")
    assert opset_of(model) >= 13
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    scales = [i for i in model.graph.initializer if i.name.endswith("weight_scale")]
    assert scales and all(len(s.dims) == 1 and s.dims[0] > 1 for s in scales)  # one scale per out channel


@pytest.mark.parametrize("options", [{"batch_norm": True}, {"batch_norm": False},
                                     {"batch_norm": True, "micro_gains": (10.0, 100.0)},
                                     {"batch_norm": True, "micro_gains": (10.0, 100.0), "micro_lags": (1, 10)}],
                         ids=["batch_norm", "weight_norm", "micro_motion", "micro_motion_lags"])
def test_model_options_export_with_allowed_ops_and_match_pytorch(tmp_path, options):
    """BatchNorm (folded into the convs) and the micro-motion front end keep the static graph on
    the Hailo allowlist and faithful to PyTorch, as the seed's weight-norm layout does."""
    torch.manual_seed(0)
    model = TCNVAE(ModelConfig(channels=(16, 32), decoder_channels=(32, 16), n_classes=6, **options))
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()) == options["batch_norm"]
    model.train()
    with torch.no_grad():
        for _ in range(3):  # move BatchNorm running statistics off their defaults
            model(torch.randn(32, 100, 9) * 2 + 0.5)
    enc = DeployableEncoder(model).eval()
    path = export_onnx(enc, tmp_path / "static.onnx", dynamic=False)
    onnx_model = onnx.load(path)
    assert opset_of(onnx_model) == 11 and off_allowlist(onnx_model) == [] and non_causal_pads(onnx_model) == []
    x = np.random.default_rng(0).normal(size=(1, 100, 9)).astype(np.float32)
    x[0, 50:] = x[0, 49] + 0.003 * x[0, 50:]  # a still stretch: micro-motion channels in their linear range
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    with torch.no_grad():
        want = enc(torch.from_numpy(x))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), atol=1e-5)


def test_int8_keeps_the_micro_motion_front_end_and_the_first_conv_in_float(tmp_path):
    """The magnified differences span +-500 before clipping: quantized, the tremor rounds to zero."""
    enc = DeployableEncoder(TCNVAE(ModelConfig(channels=(16, 32), decoder_channels=(32, 16), n_classes=6,
                                               batch_norm=True, micro_gains=(10.0, 100.0)))).eval()
    graph = onnx.load(export_onnx(enc, tmp_path / "m.onnx", dynamic=True)).graph
    kept = input_layer_nodes(graph)
    micro = [n.name for n in graph.node if n.name.startswith(FRONT_END_SCOPE)]
    assert micro and set(micro) <= set(kept)
    learned = [n for n in graph.node if n.op_type == "Conv" and n.name in kept and not n.name.startswith(FRONT_END_SCOPE)]
    assert learned and all(n.name.startswith("/encoder/network/network.0/") for n in learned)


def test_fold_normalization_keeps_the_original_intact():
    torch.manual_seed(0)
    enc = DeployableEncoder(TCNVAE(ModelConfig(n_classes=3))).eval()
    x = torch.randn(2, 100, 9)
    with torch.no_grad():
        before = enc(x)[0]
        folded = fold_normalization(enc)
        fold_normalization(enc)  # twice: the original must still be parametrized and working
        assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in folded.modules())
        torch.testing.assert_close(folded(x)[0], before)
        torch.testing.assert_close(enc(x)[0], before)


def _pad_model(pads: list[int]) -> onnx.ModelProto:
    node = helper.make_node("Pad", ["x", "pads"], ["y"], name="p", mode="constant")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(np.array(pads, dtype=np.int64), "pads")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])


def test_non_causal_pads_flags_right_padding_only():
    assert non_causal_pads(_pad_model([0, 0, 2, 0, 0, 0])) == []
    assert non_causal_pads(_pad_model([0, 0, 0, 0, 0, 2])) == ["p"]
    assert non_causal_pads(_pad_model([0, 1, 0, 0, 0, 0])) == ["p"]

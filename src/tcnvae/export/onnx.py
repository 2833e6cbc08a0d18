"""Static (Hailo, opset 11) and dynamic-batch (server, opset 17) ONNX graphs of the encoder.

The model exported is `DeployableEncoder` on a deep copy with weight norm folded into plain
conv weights. We use the TorchScript exporter (`dynamo=False`): the dynamo exporter in
torch 2.13 emits opset >= 18 only, and down-converting to opset 11 is not clean. The
TorchScript exporter leaves the pad amounts as a small shape computation
(ConstantOfShape/Concat/Slice/Cast) that its own folding skips; `fold_constants` evaluates
every node whose inputs are all constants, so the shipped graph holds only compute ops.
"""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from torch import nn
from torch.nn.utils import parametrize

from tcnvae.contract import N_CHANNELS, WINDOW
from tcnvae.export.errors import ExportError
from tcnvae.model.tcn import fold_batch_norm

log = logging.getLogger(__name__)

INPUT_NAME = "x"
OUTPUT_NAMES = ("latent", "motif_scores", "activity_probs")
MOTIF_ONLY_OUTPUTS = OUTPUT_NAMES[:2]  # a model trained without labels has no activity head
STATIC_OPSET = 11  # what the Hailo DFC parses reliably
DYNAMIC_OPSET = 17  # servers; >= 13 also lets INT8 carry per-channel QDQ


def fold_normalization(encoder: nn.Module) -> nn.Module:
    """A deep copy in eval mode with every parametrization (weight norm) baked into its weight
    and every BatchNorm folded into its conv: the exported graph is plain Conv/Relu/Add.

    The original is left intact. `deepcopy` shares the parametrized module's injected class with
    the original, and `remove_parametrizations` deletes the property from that class, which
    would break the original; so each copied module first gets a class of its own.
    """
    folded = copy.deepcopy(encoder).eval()
    for module in folded.modules():
        if parametrize.is_parametrized(module):
            cls = type(module)
            body = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
            module.__class__ = type(cls.__name__, cls.__bases__, body)
            for name in list(module.parametrizations.keys()):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    fold_batch_norm(folded)
    return folded


def output_names(encoder: nn.Module) -> tuple[str, ...]:
    """The graph outputs of a DeployableEncoder: without an activity head, latent + motif scores."""
    return OUTPUT_NAMES if getattr(encoder, "activity_head", None) is not None else MOTIF_ONLY_OUTPUTS


def export_onnx(encoder: nn.Module, path: Path, dynamic: bool) -> Path:
    """Export a DeployableEncoder to `path`: static [1,100,9] at opset 11, or free batch at opset 17."""
    model = fold_normalization(encoder).cpu()  # exported from the CPU whatever device it trained on
    example = torch.zeros(1, WINDOW, N_CHANNELS)
    names = output_names(encoder)
    axes = {k: {0: "batch"} for k in (INPUT_NAME, *names)} if dynamic else None
    with warnings.catch_warnings():
        # The TorchScript exporter's deprecation notice and its Slice-folding notes: we fold
        # constants ourselves and check parity, so these carry no information for the user.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), input_names=[INPUT_NAME],
                          output_names=list(names), opset_version=DYNAMIC_OPSET if dynamic else STATIC_OPSET,
                          dynamic_axes=axes, do_constant_folding=True, dynamo=False)
    graph = fold_constants(onnx.load(str(path)))
    if not dynamic:
        pin_batch_dim(graph)
    graph.producer_name = "tcnvae"
    onnx.save(graph, str(path))
    check_onnx(path)
    log.info("exported %s (%s)", path.name, "dynamic batch" if dynamic else "static")
    return path


def _evaluate_node(node: onnx.NodeProto, consts: dict[str, np.ndarray], opsets) -> list[np.ndarray]:
    ins = [i for i in node.input if i]
    inputs = [helper.make_tensor_value_info(i, helper.np_dtype_to_tensor_dtype(consts[i].dtype), consts[i].shape)
              for i in ins]
    outputs = [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output]
    single = helper.make_model(helper.make_graph([node], "fold", inputs, outputs), opset_imports=opsets)
    return [np.asarray(v) for v in ReferenceEvaluator(single).run(None, {i: consts[i] for i in ins})]


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace every node computable from initializers/Constants alone by an initializer."""
    g = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    known = set(consts)
    kept: list[onnx.NodeProto] = []
    for node in g.node:  # nodes are topologically sorted, so one pass folds chains
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif all(i == "" or i in consts for i in node.input):
            consts.update(zip(node.output, _evaluate_node(node, consts, model.opset_import)))
        else:
            kept.append(node)
    used = {i for n in kept for i in n.input} | {o.name for o in g.output}
    inits = [i for i in g.initializer if i.name in used]
    inits += [numpy_helper.from_array(consts[n], n) for n in sorted(used & (set(consts) - known))]
    del g.node[:]
    g.node.extend(kept)
    del g.initializer[:]
    g.initializer.extend(inits)
    return model


def pin_batch_dim(model: onnx.ModelProto, batch: int = 1) -> onnx.ModelProto:
    """Declare the static graph's outputs with concrete shapes ([1, 64], [1, 12], [1, C]).

    The TorchScript exporter names the outputs' batch dim symbolically (`Gemmlatent_dim_0`)
    even without dynamic axes; the Hailo parser and any reader of the graph's signature want
    numbers. Strict shape inference in check_onnx then proves the pinned dims are consistent.
    """
    for value in [*model.graph.input, *model.graph.output]:
        for i, dim in enumerate(value.type.tensor_type.shape.dim):
            if not dim.HasField("dim_value"):
                if i != 0:
                    raise ExportError(f"{value.name}: dim {i} is symbolic ({dim.dim_param!r}); only the batch may be")
                dim.Clear()
                dim.dim_value = batch
    return model


def check_onnx(path: Path) -> onnx.ModelProto:
    """onnx.checker (full) + strict shape inference; returns the model with inferred shapes."""
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model, full_check=True)
        return onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ExportError(f"{path.name}: ONNX check failed: {e}") from e


def value_shapes(model: onnx.ModelProto) -> dict[str, list[int | str]]:
    """name -> shape (ints, or the symbolic name of a free dim) for inputs, outputs, inferred values."""
    out: dict[str, list[int | str]] = {}
    for v in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        dims = v.type.tensor_type.shape.dim
        out[v.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    return out


def opset_of(model: onnx.ModelProto) -> int:
    """The default-domain opset version of a model."""
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))

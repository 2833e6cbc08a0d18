"""The seed system's published v0.1.0 encoder, brought back as a TCNVAE.

The seed shipped its complete encoder as ONNX (fc_mu included, weight norm folded) and a TCN
state dict (old-style weight norm `weight_g`/`weight_v`, no `fc_mu`). The two are NOT the same
weights: the state dict's biases differ from the ONNX's by up to 0.5 (it is another checkpoint),
so only the ONNX reproduces what the seed served. We therefore import every weight from the ONNX
graph (a folded weight w becomes weight-norm g = ||w||, v = w) and report how far the state dict
is from it, so a user migrating from the seed gets back the model that was actually deployed.
"""

from __future__ import annotations

from tcnvae.errors import TcnvaeError

import json
import re
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from tcnvae.model.vae import TCNVAE, ModelConfig

SEED_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "legacy"
SEED_ONNX = "tcn_encoder_for_edgeinfer.onnx"
SEED_PTH = "tcn_encoder_for_edgeinfer.pth"
SEED_CONFIG = "model_config.json"
_KEY = re.compile(r"^network\.(\d+)\.(conv1|conv2|downsample)\.(weight_g|weight_v|weight|bias)$")
_ONNX_CONV = re.compile(r"network\.(\d+)/(?:net/)?(conv1|conv2|downsample)/Conv")


class LegacyError(TcnvaeError, ValueError):
    """The seed artifacts are missing or not what the seed published (names the file)."""


def _state_from_pth(pth: Path) -> dict[str, torch.Tensor]:
    try:
        sd = torch.load(pth, map_location="cpu", weights_only=True)  # never unpickle code
    except Exception as e:  # noqa: BLE001 - torch raises many types for a foreign file
        raise LegacyError(f"{pth}: not a PyTorch state dict ({e})") from e
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        m = _KEY.match(key)
        if not m:
            continue  # `network.{i}.net.*` duplicates conv1/conv2 (same tensors, Sequential view)
        block, conv, kind = m.groups()
        prefix = f"encoder.network.{block}.{conv}"
        if kind == "weight_g":
            out[f"{prefix}.parametrizations.weight.original0"] = value
        elif kind == "weight_v":
            out[f"{prefix}.parametrizations.weight.original1"] = value
        else:
            out[f"{prefix}.{kind}"] = value
    if not out:
        raise LegacyError(f"{pth}: no `network.{{i}}.conv1/conv2` keys; not the seed's TCN state dict")
    return out


def _state_from_onnx(onnx_path: Path) -> dict[str, torch.Tensor]:
    """Encoder + fc_mu weights from the seed ONNX, keyed like TCNVAE's state dict."""
    try:
        graph = onnx.load(str(onnx_path)).graph
    except Exception as e:  # noqa: BLE001 - onnx raises DecodeError and friends
        raise LegacyError(f"{onnx_path}: not an ONNX model ({e})") from e
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    out: dict[str, torch.Tensor] = {}
    for node in graph.node:
        m = _ONNX_CONV.search(node.output[0]) if node.op_type == "Conv" else None
        if not m:
            continue
        prefix = f"encoder.network.{m.group(1)}.{m.group(2)}"
        weight, bias = inits[node.input[1]], inits[node.input[2]]
        if m.group(2) == "downsample":
            out[f"{prefix}.weight"] = weight
        else:
            out[f"{prefix}.parametrizations.weight.original0"] = weight.flatten(1).norm(dim=1)[:, None, None]
            out[f"{prefix}.parametrizations.weight.original1"] = weight
        out[f"{prefix}.bias"] = bias
    if "fc_mu.weight" not in inits or "fc_mu.bias" not in inits:
        raise LegacyError(f"{onnx_path}: no fc_mu.weight/fc_mu.bias initializers")
    out["fc_mu.weight"], out["fc_mu.bias"] = inits["fc_mu.weight"], inits["fc_mu.bias"]
    return out


def state_dict_divergence(seed_dir: str | Path = SEED_DIR) -> float:
    """Max abs difference between the seed .pth's effective conv weights/biases and the ONNX's."""
    seed_dir = Path(seed_dir)
    pth, ref = _state_from_pth(seed_dir / SEED_PTH), _state_from_onnx(seed_dir / SEED_ONNX)
    worst = 0.0
    for key, value in pth.items():
        if key.endswith("original0"):
            v = pth[key.replace("original0", "original1")]
            eff = value * v / v.flatten(1).norm(dim=1)[:, None, None]
            worst = max(worst, float((eff - ref[key.replace("original0", "original1")]).abs().max()))
        elif key in ref and not key.endswith("original1"):
            worst = max(worst, float((value - ref[key]).abs().max()))
    return worst


def load_seed_normalization(config_path: Path) -> dict:
    """The seed's `normalization` block (mean, std, channel_order) from model_config.json."""
    try:
        block = json.loads(Path(config_path).read_text())["normalization"]
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise LegacyError(f"{config_path}: no readable `normalization` block ({e})") from e
    return block


def load_seed_model(seed_dir: str | Path = SEED_DIR) -> TCNVAE:
    """A TCNVAE whose encoder + fc_mu are the seed's v0.1.0 weights (heads untrained)."""
    seed_dir = Path(seed_dir)
    for name in (SEED_PTH, SEED_ONNX):
        if not (seed_dir / name).is_file():
            raise LegacyError(f"{seed_dir / name}: missing")
    model = TCNVAE(ModelConfig(n_classes=1, label_names=("unknown",)))
    _state_from_pth(seed_dir / SEED_PTH)  # structure check: refuse a foreign state dict
    state = _state_from_onnx(seed_dir / SEED_ONNX)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(k.startswith(("encoder.", "fc_mu.")) for k in missing):
        raise LegacyError(f"{seed_dir}: seed weights do not fit the v0.1.0 architecture: "
                          f"missing {[k for k in missing if k.startswith('encoder.')][:3]}, unexpected {unexpected[:3]}")
    return model.eval()


def seed_onnx_latent(onnx_path: str | Path, windows: np.ndarray) -> np.ndarray:
    """Run the seed ONNX on normalized windows (N, 100, 9), one at a time (its batch is fixed at 1)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: w[None].astype(np.float32)})[0] for w in windows])

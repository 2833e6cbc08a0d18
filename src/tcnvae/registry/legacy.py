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
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from tcnvae.model.vae import TCNVAE, ModelConfig

log = logging.getLogger(__name__)

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


# -- registering the seed as tcn_encoder@v0.1.0 -------------------------------------------------
LEGACY_NAME, LEGACY_VERSION = "tcn_encoder", "v0.1.0"
LEGACY_SOURCE = "seed v0.1.0 (tcn_encoder_for_edgeinfer.onnx)"
PARITY_TOL = 1e-5
MAX_DATA_WINDOWS = 256


def parity_windows(seed_dir: Path, normalizer) -> tuple[np.ndarray, list[str]]:
    """Real windows, normalized with the seed normalization, and where they came from.

    The seed's conformance bodies (the 105-row one gives its first and last 100 rows), plus
    up to MAX_DATA_WINDOWS UCI HAPT windows when that dataset is already fetched.
    """
    raw, sources = [], []
    for path in sorted((seed_dir.parent / "conformance").glob("*.json")):
        x = np.asarray(json.loads(path.read_text()).get("x", []), dtype=np.float32)
        if x.ndim == 2 and x.shape[1] == 9 and x.shape[0] >= 100:
            raw += [x[:100]] + ([x[-100:]] if x.shape[0] > 100 else [])
            sources.append(f"conformance/{path.name}")
    hapt = _hapt_windows()
    if len(hapt):
        raw += list(hapt)
        sources.append(f"uci-hapt ({len(hapt)} windows)")
    if not raw:
        raise LegacyError(f"{seed_dir.parent / 'conformance'}: no real windows to prove parity on")
    return normalizer.apply(np.stack(raw)), sources


def _hapt_windows() -> np.ndarray:
    """Evenly spaced UCI HAPT windows if the dataset is fetched; empty otherwise (never downloads)."""
    try:
        from tcnvae.data.dataset import load_recordings
        from tcnvae.data.fetch import read_manifest
        from tcnvae.data.windows import make_windows

        if read_manifest("uci-hapt") is None:
            return np.empty((0, 100, 9), np.float32)
        ws = make_windows(load_recordings("uci-hapt"))
    except (TcnvaeError, ImportError, OSError, ValueError) as e:  # data package errors: fall back
        log.warning("uci-hapt windows unavailable for the parity check: %s", e)
        return np.empty((0, 100, 9), np.float32)
    idx = np.linspace(0, len(ws) - 1, min(MAX_DATA_WINDOWS, len(ws))).astype(int)
    return ws.x[idx] if len(ws) else np.empty((0, 100, 9), np.float32)


def _already_imported(registry) -> dict | None:
    from tcnvae.model.checkpoint import read_metadata

    if LEGACY_VERSION not in registry.versions(LEGACY_NAME):
        return None
    release = registry.open(f"{LEGACY_NAME}@{LEGACY_VERSION}")  # verifies; raises if tampered
    if read_metadata(release.path / "encoder.safetensors").get("source") != LEGACY_SOURCE:
        raise LegacyError(f"{release.path}: {release.ref} exists and is not the seed import; refusing to touch it")
    metrics = release.read_json("eval_metrics.json")
    return {"status": "already imported", "ref": release.ref, "path": str(release.path),
            "parity_max_abs_diff": metrics.get("legacy_parity", {}).get("max_abs_diff"),
            "state_dict_divergence": metrics.get("state_dict_divergence"), "weights_sha256": release.weights_sha256}


def import_seed(seed_dir: str | Path = SEED_DIR, models_root: str | Path = "models") -> dict:
    """Register the seed encoder as tcn_encoder@v0.1.0 after proving parity with its ONNX."""
    from tcnvae.registry.store import Registry

    seed_dir, registry = Path(seed_dir), Registry(models_root)
    done = _already_imported(registry)
    if done is not None:
        return done
    with torch.random.fork_rng():  # the untrained decoder/heads in full.safetensors: reproducible
        torch.manual_seed(0)
        model = load_seed_model(seed_dir)
    normalizer = _seed_normalizer(seed_dir / SEED_CONFIG)
    x, sources = parity_windows(seed_dir, normalizer)
    with torch.no_grad():
        got = model.encode(torch.from_numpy(x))[0].numpy()
    diff = float(np.abs(got - seed_onnx_latent(seed_dir / SEED_ONNX, x)).max())
    if not diff <= PARITY_TOL:
        raise LegacyError(f"{seed_dir / SEED_ONNX}: imported encoder differs from the seed ONNX by {diff:.3g} "
                          f"(> {PARITY_TOL:g}) on {len(x)} windows; not registering it")
    parity = {"max_abs_diff": diff, "tolerance": PARITY_TOL, "windows": len(x), "sources": sources}
    release = _publish_seed(registry, seed_dir, model, normalizer, x, parity, state_dict_divergence(seed_dir))
    metrics = release.read_json("eval_metrics.json")
    return {"status": "imported", "ref": release.ref, "path": str(release.path), "parity_max_abs_diff": diff,
            "parity_windows": len(x), "parity_sources": sources,
            "state_dict_divergence": metrics["state_dict_divergence"], "weights_sha256": release.weights_sha256}


def _seed_normalizer(config_path: Path):
    from tcnvae.data.normalize import Normalizer

    block = load_seed_normalization(config_path)
    try:
        return Normalizer.from_dict(block, str(config_path))
    except Exception as e:  # noqa: BLE001 - DataError is not (yet) a TcnvaeError
        raise LegacyError(f"{config_path}: seed normalization unusable ({e})") from e


def _seed_accuracy(config_path: Path) -> dict:
    info = json.loads(config_path.read_text()).get("export_info", {})
    text = str(info.get("model_accuracy", "")).rstrip("%")
    try:
        return {"validation_accuracy": round(float(text) / 100, 6), "as_published": info.get("model_accuracy"),
                "improvement_claimed": info.get("improvement"), "exported": info.get("timestamp")}
    except ValueError:
        return {"as_published": info.get("model_accuracy")}


def _legacy_docs(seed_dir: Path, parity: dict, divergence: float) -> dict[str, dict]:
    from tcnvae.registry.checksums import sha256_file

    files = {n: sha256_file(seed_dir / n) for n in (SEED_ONNX, SEED_PTH, SEED_CONFIG)}
    return {
        "labels.json": {"labels": ["unknown"], "domains": [], "sources": {"seed v0.1.0": ["unknown"]}},
        "eval_metrics.json": {"seed_reported": _seed_accuracy(seed_dir / SEED_CONFIG), "legacy_parity": parity,
                              "state_dict_divergence": divergence},
        "motifs.json": {"motifs": [], "fitted": False, "note": (
            "No motifs were fitted for the seed encoder: its 12 prototypes are all zero, so every window gets "
            "the uniform score 1/12 for every motif. Fit motifs on your data before reading motif scores.")},
        "train_config.json": {"legacy": True, "command": f"tcnvae legacy import --from {seed_dir}",
                              "seed_files_sha256": files},
    }


def _legacy_notes(parity: dict, divergence: float) -> list[str]:
    return [
        f"Imported from the seed's v0.1.0 ONNX; parity with it on {parity['windows']} real windows "
        f"({', '.join(parity['sources'])}): max abs diff {parity['max_abs_diff']:.2e} "
        f"(tolerance {parity['tolerance']:g}).",
        f"The seed's .pth is a different checkpoint from its ONNX: effective weights/biases differ by up to "
        f"{divergence:.3g} (state_dict_divergence). The ONNX is what the seed served, so its weights are used.",
        "The seed's reported accuracy is its own validation claim, not re-measured here; there is no test result.",
        "The activity head has one class (`unknown`) and is untrained; full.safetensors' decoder, logvar and "
        "domain heads are untrained (seeded initialisation): the seed never published them.",
        "samples/ holds only the parity windows (normalized), far fewer than the >= 1024 calibration windows an "
        "INT8 export wants; heldout.npz labels them all `unknown`. Calibrate with your own data.",
    ]


def _publish_seed(registry, seed_dir: Path, model: TCNVAE, normalizer, x: np.ndarray, parity: dict,
                  divergence: float):
    from datetime import datetime, timezone

    from tcnvae.model.checkpoint import save_model
    from tcnvae.registry.card import render_card
    from tcnvae.registry.release import write_encoder_weights, write_json

    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    staging = registry.staging_dir(LEGACY_NAME)
    try:
        write_json(staging / "model_config.json", model.config.to_dict())
        write_json(staging / "normalization.json", normalizer.to_dict())
        for name, doc in _legacy_docs(seed_dir, parity, divergence).items():
            write_json(staging / name, doc)
        (staging / "samples").mkdir()
        np.save(staging / "samples" / "calibration.npy", x.astype(np.float32))
        np.savez(staging / "samples" / "heldout.npz", x=x.astype(np.float32), y=np.zeros(len(x), np.int64))
        meta = {"name": LEGACY_NAME, "version": LEGACY_VERSION, "created": created, "source": LEGACY_SOURCE}
        write_encoder_weights(staging / "encoder.safetensors", model, meta)
        save_model(staging / "full.safetensors", model, meta)
        card = render_card(staging, LEGACY_NAME, LEGACY_VERSION, created, str(seed_dir),
                           notes=_legacy_notes(parity, divergence))
        (staging / "model_card.md").write_text(card)
        summary = (f"- imported the seed system's v0.1.0 encoder from `{seed_dir}`\n"
                   f"- parity with the seed ONNX: max abs diff {parity['max_abs_diff']:.2e} on {parity['windows']} "
                   f"windows\n- state_dict_divergence (.pth vs ONNX): {divergence:.3g}\n"
                   f"- seed-reported validation accuracy {_seed_accuracy(seed_dir / SEED_CONFIG).get('as_published')} "
                   "(not re-measured); labels: unknown")
        return registry.publish(staging, LEGACY_NAME, LEGACY_VERSION, summary)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

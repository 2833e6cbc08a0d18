"""Checkpoints as safetensors: weights plus the config needed to rebuild, never pickle.

The model config and any extra metadata travel in the safetensors header (string values),
so `load_model` rebuilds a TCNVAE without the training code.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tcnvae.errors import TcnvaeError

if TYPE_CHECKING:  # torch is imported by the functions that need it: read_metadata works without it
    from tcnvae.model.vae import TCNVAE


class CheckpointError(TcnvaeError, ValueError):
    """A checkpoint file cannot be read as a tcnvae safetensors checkpoint (names the file)."""


def save_model(path: str | Path, model: TCNVAE, metadata: dict | None = None) -> Path:
    """Write weights + config atomically (temp file in the same folder, then rename)."""
    from safetensors.torch import save_file

    path = Path(path)
    header = {"format": "tcnvae", "model_config": json.dumps(model.config.to_dict())}
    header.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=header)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The safetensors header metadata, read without loading tensors."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if n <= 0 or n > 100_000_000:
                raise CheckpointError(f"{path}: not a safetensors file (bad header length)")
            header = json.loads(f.read(n))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a safetensors file ({e})") from e
    return header.get("__metadata__", {}) or {}


def load_model(path: str | Path, strict: bool = True) -> tuple[TCNVAE, dict[str, str]]:
    """Rebuild a TCNVAE (eval mode) and return it with its header metadata."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from tcnvae.model.vae import TCNVAE, ModelConfig

    path = Path(path)
    meta = read_metadata(path)
    if "model_config" not in meta:
        raise CheckpointError(f"{path}: no model_config in the safetensors header")
    model = TCNVAE(ModelConfig.from_dict(json.loads(meta["model_config"])))
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{path}: cannot read tensors ({e})") from e
    missing, unexpected = model.load_state_dict(state, strict=False)
    if strict and (missing or unexpected):
        raise CheckpointError(f"{path}: missing keys {missing[:5]}, unexpected keys {unexpected[:5]}")
    return model.eval(), meta

"""The TCN-VAE model: config dataclass, modules, motif head, safetensors checkpoints.

The names below load on first use (PEP 562), so `tcnvae.model.checkpoint.read_metadata` and
`CheckpointError` stay importable on the torch-free edge install.
"""

from __future__ import annotations

import importlib

__all__ = ["TCNVAE", "DeployableEncoder", "ModelConfig", "load_model", "save_model"]
_HOME = {"TCNVAE": "vae", "DeployableEncoder": "vae", "ModelConfig": "vae",
         "load_model": "checkpoint", "save_model": "checkpoint"}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(importlib.import_module(f"tcnvae.model.{_HOME[name]}"), name)
    raise AttributeError(f"module 'tcnvae.model' has no attribute {name!r}")

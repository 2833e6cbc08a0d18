"""Builders for test fixtures (kept out of conftest so scripts can reuse them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from tcnvae.model.checkpoint import save_model
from tcnvae.model.vae import TCNVAE, ModelConfig

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
LABELS = ("walking", "sitting", "standing")


def make_run_dir(out: Path) -> Path:
    """A structurally complete run directory. TODO(lead): replaced by a real short training."""
    torch.manual_seed(0)
    cfg = ModelConfig(n_classes=len(LABELS), label_names=LABELS, domain_names=("watch",))
    model = TCNVAE(cfg).eval()
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(12, cfg.latent_dim)).astype(np.float32)
    model.motifs.set_prototypes(centers, temperature=64.0)
    save_model(out / "model.safetensors", model, {"epoch": 0})
    (out / "model_config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    (out / "normalization.json").write_text(json.dumps({
        "method": "z_score_per_channel", "channel_order": ["ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"],
        "units": ["m/s^2"] * 3 + ["rad/s"] * 3 + ["uT"] * 3,
        "mean": [0.0, 0.0, 9.8, 0, 0, 0, 0, 0, 0], "std": [3.0, 3.0, 3.0, 1, 1, 1, 1, 1, 1],
        "present": [True] * 6 + [False] * 3}, indent=2))
    (out / "labels.json").write_text(json.dumps({"labels": list(LABELS), "domains": ["watch"],
                                                 "sources": {"watch": list(LABELS)}}))
    (out / "eval_metrics.json").write_text(json.dumps({"test": {"accuracy": 0.0, "macro_f1": 0.0}}))
    (out / "motifs.json").write_text(json.dumps({"motifs": [{"id": i} for i in range(12)]}))
    (out / "train_config.json").write_text(json.dumps({"data": ["watch"], "epochs": 0, "seed": 0}))
    (out / "samples").mkdir()
    x = rng.normal(size=(1024, 100, 9)).astype(np.float32)
    x[..., 6:] = 0.0
    np.save(out / "samples" / "calibration.npy", x)
    np.savez(out / "samples" / "heldout.npz", x=x[:256], y=rng.integers(0, len(LABELS), 256))
    return out


def make_registry(root: Path, run_dir: Path) -> Path:
    from tcnvae.registry.release import create_release
    from tcnvae.registry.store import Registry

    reg = Registry(root)
    create_release(reg, run_dir, name="tcn_encoder", version="1.0.0")
    reg.promote("tcn_encoder@v1.0.0", "champion")
    return root

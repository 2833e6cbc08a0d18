"""The seed's v0.1.0 encoder comes back in PyTorch and reproduces the seed ONNX output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from tcnvae.registry.legacy import SEED_CONFIG, SEED_ONNX, load_seed_model, load_seed_normalization, seed_onnx_latent


def _real_windows(shared: Path) -> np.ndarray:
    """The seed's own conformance windows, normalized with the seed's normalization."""
    norm = load_seed_normalization(shared / "legacy" / SEED_CONFIG)
    mean, std = np.array(norm["mean"], np.float32), np.array(norm["std"], np.float32)
    wins = [np.array(json.loads(p.read_text())["x"], np.float32)
            for p in sorted((shared / "conformance").glob("*.json"))]
    wins = [w for w in wins if w.shape == (100, 9)]
    assert len(wins) >= 2
    return (np.stack(wins) - mean) / std


def test_legacy_import_reproduces_seed_onnx(shared_dir: Path) -> None:
    torch.set_num_threads(1)
    model = load_seed_model(shared_dir / "legacy")
    x = _real_windows(shared_dir)
    expected = seed_onnx_latent(shared_dir / "legacy" / SEED_ONNX, x)
    with torch.no_grad():
        got = model.encode(torch.from_numpy(x))[0].numpy()
    assert np.abs(got - expected).max() <= 1e-5

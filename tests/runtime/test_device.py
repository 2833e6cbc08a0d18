"""The torch backend takes a device; ONNX Runtime refuses one it cannot use, naming the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tcnvae.registry.store import Registry
from tcnvae.runtime.engine import Engine
from tcnvae.runtime.errors import EngineError


def test_torch_backend_on_a_device_matches_onnx(registry_root: Path) -> None:
    release = Registry(registry_root).open("tcn_encoder@champion")
    torch_engine = Engine.from_release(release, backend="torch", device="auto")
    onnx_engine = Engine.from_release(release, backend="onnx")
    raw = np.zeros((4, 100, 9), np.float32)
    raw[:, :, 2] = 9.81
    a, b = torch_engine.infer(raw), onnx_engine.infer(raw)
    assert np.abs(a["activity_probs"] - b["activity_probs"]).max() < 1e-3
    assert torch_engine.backend.device in ("cpu", "cuda:0")


def test_onnx_backend_refuses_a_gpu_device(registry_root: Path) -> None:
    release = Registry(registry_root).open("tcn_encoder@champion")
    with pytest.raises(EngineError, match="torch backend only.*--backend torch"):
        Engine.from_release(release, backend="onnx", device="cuda")

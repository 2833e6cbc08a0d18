"""Real sidecar processes shared by the serve tests (started once, in parallel, per session)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.serve.server import ServerProcess

API_KEYS = ("test-key-0123456789abcdef", "second-key-0123456789abcdef")


@pytest.fixture(scope="session")
def serve_models(tmp_path_factory: pytest.TempPathFactory, registry_root: Path) -> Path:
    """A private copy of the shared registry (the servers never write, but stay off the original)."""
    dst = tmp_path_factory.mktemp("serve") / "models"
    shutil.copytree(registry_root, dst)
    return dst


@pytest.fixture(scope="session")
def servers(serve_models: Path):
    """Two servers started together: onnx with batching, and torch with batching off + API keys."""
    onnx = ServerProcess(serve_models)
    torch = ServerProcess(serve_models, "--backend", "torch", "--max-batch", "1",
                          env={"TCNVAE_API_KEYS": ",".join(API_KEYS)})
    try:
        yield {"onnx": onnx.wait_ready(), "torch": torch.wait_ready()}
    finally:
        for s in (onnx, torch):
            s.stop()


@pytest.fixture(scope="session")
def server(servers) -> ServerProcess:
    return servers["onnx"]


@pytest.fixture(scope="session")
def conformance(shared_dir: Path) -> dict[str, dict]:
    folder = shared_dir / "conformance"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


@pytest.fixture(scope="session")
def windows(conformance) -> np.ndarray:
    """Eight valid raw windows: the two conformance ones and seeded perturbations of them."""
    base = np.array([conformance["realistic_imu_sample"]["x"], conformance["random_imu_sample"]["x"]],
                    dtype=np.float32)
    rng = np.random.default_rng(0)
    noisy = base[rng.integers(0, 2, 6)] + rng.normal(0, 0.3, (6, 100, 9)).astype(np.float32)
    return np.concatenate([base, noisy])

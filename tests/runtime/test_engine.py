"""Engine: validation -> normalization once -> backend; backends agree; HailoRT says what it needs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from tcnvae.contract import ContractError
from tcnvae.registry.store import Registry
from tcnvae.runtime import BackendUnavailable, Engine, EngineError
from tcnvae.runtime.hailo_backend import HailoBackend, find_hef


@pytest.fixture(scope="module")
def release(registry_root: Path):
    return Registry(registry_root).open("tcn_encoder@champion")


@pytest.fixture(scope="module")
def engines(release):
    return {b: Engine.from_release(release, backend=b) for b in ("onnx", "torch")}


def _raw(n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (n, 100, 9)).astype(np.float32)
    x[..., 2] += 9.81
    return x


def test_outputs_and_backend_parity(engines):
    x = _raw()
    a, b = engines["onnx"].infer(x), engines["torch"].infer(x)
    assert a["latent"].shape == (4, 64) and a["motif_scores"].shape == (4, 12)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-4)
    assert ((a["motif_scores"] >= 0) & (a["motif_scores"] <= 1)).all()


def test_normalization_is_applied_once(engines, release):
    x = _raw(2)
    enc = release.load_encoder()
    with torch.inference_mode():
        ref = enc(torch.from_numpy(release.normalizer().apply(x)))[0].numpy()
    np.testing.assert_allclose(engines["onnx"].infer(x)["latent"], ref, atol=1e-4)


@pytest.mark.parametrize("mutate, word", [
    (lambda x: x[:, :99], "[99, 9]"),
    (lambda x: np.where(np.arange(9) == 4, np.nan, x), "non-finite"),
    (lambda x: x * 0 + 500.0, "physical limit"),
])
def test_validation(engines, mutate, word):
    with pytest.raises(ContractError, match=word.replace("[", r"\[").replace("]", r"\]")):
        engines["onnx"].infer(mutate(_raw(2)))


def test_single_window_and_warmup(engines):
    assert engines["onnx"].infer(_raw(1)[0])["latent"].shape == (1, 64)
    assert engines["onnx"].warmup() > 0


def test_unknown_backend(release):
    with pytest.raises(EngineError, match="unknown backend"):
        Engine.from_release(release, backend="tpu")


def test_hailo_backend_explains_what_is_missing(release, tmp_path):
    with pytest.raises(BackendUnavailable, match="hailo_platform"):
        Engine.from_release(release, backend="hailo")
    with pytest.raises(BackendUnavailable, match="no .hef"):
        find_hef(tmp_path)
    (tmp_path / "encoder.hef").write_bytes(b"not really")
    assert find_hef(tmp_path).name == "encoder.hef"
    if importlib.util.find_spec("hailo_platform") is None:
        with pytest.raises(BackendUnavailable, match="hailo_platform package"):
            HailoBackend(tmp_path / "encoder.hef", n_classes=3)

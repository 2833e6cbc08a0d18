"""--device / --precision: resolving devices, refusing absent ones, training in bf16/fp16 on the CPU."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tcnvae.model.device import DeviceError, autocast, check_precision, grad_scaler, resolve_device
from tcnvae.train.config import build_config
from tcnvae.train.loop import Trainer, predict
from tcnvae.train.prepare import prepare
from tests.support import TINY_TRAINING


def test_auto_and_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("CPU") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:3"])
def test_absent_cuda_is_a_clear_error(spec: str) -> None:
    with pytest.raises(DeviceError, match=rf"--device {spec}: no CUDA device.*use --device cpu or auto"):
        resolve_device(spec)


def test_unknown_device_and_precision_name_the_choices() -> None:
    with pytest.raises(DeviceError, match=r"'tpu' is not one of auto, cpu, cuda, cuda:N, mps"):
        resolve_device("tpu")
    with pytest.raises(DeviceError, match=r"'fp8' is not one of fp32, bf16, fp16"):
        check_precision("fp8", torch.device("cpu"))


def test_autocast_runs_the_convolutions_in_bf16() -> None:
    conv = torch.nn.Conv1d(9, 8, 3)
    with autocast(torch.device("cpu"), "bf16"):
        assert conv(torch.zeros(2, 9, 16)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert conv(torch.zeros(2, 9, 16)).dtype == torch.float32
    assert grad_scaler(torch.device("cpu"), "fp32") is None
    assert grad_scaler(torch.device("cpu"), "fp16") is not None


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_training_on_cpu(tmp_path: Path, precision: str) -> None:
    """One epoch in autocast: finite losses, fp32 master weights, a checkpoint that loads as fp32."""
    torch.set_num_threads(1)
    cfg = build_config(**{**TINY_TRAINING, "epochs": 1, "max_train_windows": 256})
    trainer = Trainer(cfg, prepare(cfg), tmp_path, precision=precision)
    trainer.fit()
    row = __import__("json").loads((tmp_path / "history.jsonl").read_text().splitlines()[0])
    assert math.isfinite(row["loss"]) and row["val_macro_f1"] > 0
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    probs, _ = predict(trainer.ema, trainer.x_val[:8])
    assert probs.shape[0] == 8 and abs(float(probs.sum(1).mean()) - 1) < 1e-4

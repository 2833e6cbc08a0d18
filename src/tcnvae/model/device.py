"""Where a model runs and in which precision: `--device` and `--precision` for every torch path.

    device = resolve_device("auto")            # cuda:0 when a CUDA device is visible, else cpu
    with autocast(device, "bf16"): out = model(x)

`auto` picks CUDA when present and the CPU otherwise; MPS (Apple) only when asked for, since
nothing in this project was measured on it. The default precision is fp32 on every device:
on this project's CPU machine bf16 autocast was slower at the same accuracy (BENCHMARKS.md,
train_throughput), and no GPU was available to measure whether bf16 pays off there.
"""

from __future__ import annotations

import contextlib
import re

import torch

from tcnvae.errors import TcnvaeError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class DeviceError(TcnvaeError):
    """A --device or --precision value that this machine cannot honour (names the value)."""


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """The torch.device for `spec` (auto, cpu, cuda, cuda:N, mps); DeviceError when it is absent."""
    if isinstance(spec, torch.device):
        return spec
    text = (spec or "auto").strip().lower()
    if text == "auto":
        return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    m = re.fullmatch(r"cuda(?::(\d+))?", text)
    if m:
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {spec}: no CUDA device is visible to this torch "
                              f"(built for CUDA {torch.version.cuda or 'none'}); use --device cpu or auto")
        index = int(m.group(1)) if m.group(1) is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise DeviceError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) "
                              f"(cuda:0..cuda:{torch.cuda.device_count() - 1})")
        return torch.device("cuda", index)
    if text == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise DeviceError("--device mps: Apple's MPS backend is not available here; use --device cpu or auto")
        return torch.device("mps")
    raise DeviceError(f"--device {spec!r} is not one of {', '.join(DEVICE_CHOICES)}")


def check_precision(precision: str, device: torch.device) -> str:
    """`precision` when `device` can run it; DeviceError naming the choices otherwise."""
    if precision not in PRECISIONS:
        raise DeviceError(f"--precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise DeviceError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16; use fp16 or fp32")
    return precision


def autocast(device: torch.device, precision: str):
    """The autocast context for `precision` (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """A GradScaler for fp16 (its small exponent range underflows gradients); None otherwise."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Copy a CPU tensor to `device` through pinned memory, asynchronously on CUDA."""
    if device.type == "cpu":
        return x
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)

"""export/reference_outputs.npz: what the deployed graph must output on the release's own samples.

Written by `tcnvae export` (PyTorch's DeployableEncoder outputs on the first REFERENCE_WINDOWS
windows of samples/calibration.npy, already normalized), checksummed in SHA256SUMS like every
release file. The sidecar's start-up parity check compares the ONNX graph against it, so a
device without PyTorch still proves, before it reports ready, that its runtime reproduces the
model. numpy only: this module is part of the torch-free edge install.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from tcnvae.errors import TcnvaeError

REFERENCE_FILE = "reference_outputs.npz"  # under the release's export/
REFERENCE_INPUT = "samples/calibration.npy"  # relative to the release
REFERENCE_WINDOWS = 32
OUTPUTS = ("latent", "motif_scores", "activity_probs")  # = runtime.backend.OUTPUT_NAMES


class ReferenceError(TcnvaeError):
    """reference_outputs.npz is unreadable or does not match the release's samples (names the file)."""


def reference_inputs(release_path: Path, n: int = REFERENCE_WINDOWS) -> np.ndarray:
    """The first n normalized windows of samples/calibration.npy, float32 [n, T, C] (a copy)."""
    x = np.load(release_path / REFERENCE_INPUT, mmap_mode="r", allow_pickle=False)[:n]
    return np.array(x, dtype=np.float32)


def encode_reference(outputs: dict[str, np.ndarray], source: str) -> bytes:
    """The .npz bytes: each output float32 [n, D], the input it came from and who computed it."""
    keys = [k for k in OUTPUTS if k in outputs]  # a motif-only model has no activity_probs
    n = {len(outputs[k]) for k in keys}
    if len(n) != 1:
        raise ReferenceError(f"reference outputs disagree on the window count: {sorted(n)}")
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(outputs[k], dtype=np.float32) for k in keys},
             input=np.array(REFERENCE_INPUT), source=np.array(source))
    return buf.getvalue()


def write_reference(path: Path, outputs: dict[str, np.ndarray], source: str) -> Path:
    """Write reference_outputs.npz (the caller adds it to the release through Registry.add_files)."""
    path.write_bytes(encode_reference(outputs, source))
    return path


def read_reference(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """(outputs, source) from reference_outputs.npz; ReferenceError names what is wrong."""
    try:
        with np.load(path, allow_pickle=False) as f:
            # latent and motif_scores always; activity_probs unless the model is motif-only
            outputs = {k: np.asarray(f[k], dtype=np.float32) for k in OUTPUTS if k in f.files or k != OUTPUTS[2]}
            source, recorded = str(f["source"]), str(f["input"])
    except (OSError, KeyError, ValueError) as e:
        raise ReferenceError(f"{path}: cannot read the reference outputs {list(OUTPUTS)} ({e})") from e
    if recorded != REFERENCE_INPUT:
        raise ReferenceError(f"{path}: computed on {recorded!r}, expected {REFERENCE_INPUT!r}")
    counts = {k: len(v) for k, v in outputs.items()}
    if len(set(counts.values())) != 1 or not all(v.ndim == 2 for v in outputs.values()) or not counts["latent"]:
        raise ReferenceError(f"{path}: expected 2-D outputs with one common window count, got "
                             f"{ {k: list(v.shape) for k, v in outputs.items()} }")
    return outputs, source

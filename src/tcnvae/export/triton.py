"""A Triton / KServe model repository entry: triton/<name>/config.pbtxt + triton/<name>/<int>/model.onnx.

Triton versions are integers; a release's semver maps to MAJOR*10000 + MINOR*100 + PATCH
(v1.2.3 -> 10203), which keeps the order of versions and is reversible while MINOR and
PATCH stay below 100.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tcnvae.contract import LATENT_DIM, N_CHANNELS, N_MOTIFS, WINDOW
from tcnvae.export.errors import ExportError
from tcnvae.export.onnx import INPUT_NAME

MAX_BATCH = 256
PREFERRED_BATCHES = (16, 64, 256)
MAX_QUEUE_DELAY_US = 2000


def triton_version(version: str) -> int:
    """`v1.2.3` -> 10203; refuses minor/patch >= 100, which would collide."""
    try:
        major, minor, patch = (int(p) for p in version.lstrip("v").split("."))
    except ValueError as e:
        raise ExportError(f"version {version!r}: expected vMAJOR.MINOR.PATCH") from e
    if minor >= 100 or patch >= 100:
        raise ExportError(f"version {version}: MINOR and PATCH must be < 100 for the Triton version number")
    return major * 10000 + minor * 100 + patch


def _tensor(name: str, dims: list[int]) -> str:
    return f'  {{\n    name: "{name}"\n    data_type: TYPE_FP32\n    dims: [ {", ".join(map(str, dims))} ]\n  }}'


def config_pbtxt(name: str, version: str, n_classes: int) -> str:
    """The model configuration in protobuf text format (Triton's ModelConfig schema)."""
    number = triton_version(version)
    outputs = [("latent", [LATENT_DIM]), ("motif_scores", [N_MOTIFS])]
    if n_classes > 0:  # 0: a motif-only model, no activity output
        outputs.append(("activity_probs", [n_classes]))
    return "\n".join([
        f"# Triton / KServe model repository entry for {name}@{version}, written by `tcnvae export`.",
        "# Version folder: semver MAJOR.MINOR.PATCH -> MAJOR*10000 + MINOR*100 + PATCH "
        f"({version} -> {number}).",
        "# Input x: NORMALIZED windows (see the release's normalization.json), batch dim implicit.",
        f'name: "{name}"',
        'platform: "onnxruntime_onnx"',
        f"max_batch_size: {MAX_BATCH}",
        "input [\n" + _tensor(INPUT_NAME, [WINDOW, N_CHANNELS]) + "\n]",
        "output [\n" + ",\n".join(_tensor(n, d) for n, d in outputs) + "\n]",
        "dynamic_batching {",
        f"  preferred_batch_size: [ {', '.join(map(str, PREFERRED_BATCHES))} ]",
        f"  max_queue_delay_microseconds: {MAX_QUEUE_DELAY_US}",
        "}",
        "instance_group [\n  {\n    count: 1\n    kind: KIND_CPU\n  }\n]",
        f"version_policy: {{ specific: {{ versions: [ {number} ] }} }}",
        "",
    ])


def write_triton_repo(out: Path, name: str, version: str, n_classes: int, onnx_path: Path) -> dict[str, Path]:
    """Write the entry under out/triton/; returns {"triton/...": path} for every file written."""
    number = triton_version(version)
    folder = out / "triton" / name
    (folder / str(number)).mkdir(parents=True, exist_ok=True)
    (folder / "config.pbtxt").write_text(config_pbtxt(name, version, n_classes))
    shutil.copyfile(onnx_path, folder / str(number) / "model.onnx")
    return {p.relative_to(out).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}

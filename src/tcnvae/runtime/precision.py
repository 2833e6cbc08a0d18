"""Which ONNX graph a precision means, and the gate an INT8 graph must pass before it serves.

`fp32` is export/encoder.onnx. `int8` is export/encoder_int8.onnx, served only when the
release's export/parity.json says every INT8 bound held on the held-out windows; the gate
re-reads each measured value against its bound (it does not trust the file's own pass flags),
and the refusal names every number. At start-up the engine then re-checks the loaded INT8
graph against the fp32 reference on the release's calibration windows (`check_int8_start`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from tcnvae.runtime.errors import EngineError

log = logging.getLogger(__name__)
PRECISIONS = ("fp32", "int8")
GRAPHS = {"fp32": "encoder.onnx", "int8": "encoder_int8.onnx"}
INT8_BOUNDS = ("int8_latent_cosine_mean", "int8_argmax_agreement", "int8_macro_f1_drop")


def graph_for(precision: str) -> str:
    """The export/ file name a precision serves."""
    if precision not in GRAPHS:
        raise EngineError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    return GRAPHS[precision]


def _passes(kind: str, measured: float, bound: float) -> bool:
    return measured >= bound if kind == "min" else measured <= bound


def int8_gate(export_dir: Path) -> dict[str, dict]:
    """The INT8 checks of export/parity.json when all are present and within bounds; EngineError otherwise."""
    graph, report = export_dir / GRAPHS["int8"], export_dir / "parity.json"
    if not graph.is_file():
        raise EngineError(f"{graph}: no INT8 graph in this release; re-export it with `tcnvae export REF` "
                          "(without --skip-int8) or serve --precision fp32")
    if not report.is_file():
        raise EngineError(f"{report}: missing, so the INT8 graph's parity is unknown; re-export the release")
    try:
        checks = json.loads(report.read_text())["checks"]
    except (ValueError, KeyError, TypeError) as e:
        raise EngineError(f"{report}: unreadable parity report ({e})") from None
    missing = [k for k in INT8_BOUNDS if k not in checks]
    if missing:
        raise EngineError(f"{report}: no INT8 measurement for {', '.join(missing)}; re-export the release")
    failed = []
    for name in INT8_BOUNDS:
        c = checks[name]
        kind, measured, bound = c.get("kind"), c.get("measured"), c.get("bound")
        if kind not in ("min", "max") or not isinstance(measured, (int, float)) or not isinstance(bound, (int, float)):
            raise EngineError(f"{report}: {name} lacks a numeric measured/bound/kind")
        if not _passes(kind, float(measured), float(bound)):
            failed.append(f"{name} = {measured:.6g} (bound {'>=' if kind == 'min' else '<='} {bound:g})")
    if failed:
        raise EngineError(f"refusing to serve {graph.name}: {report} is out of bounds: " + "; ".join(failed))
    return {k: checks[k] for k in INT8_BOUNDS}


def cosine_mean(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return float(np.mean(np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)))


def check_int8_start(got: dict[str, np.ndarray], ref: dict[str, np.ndarray], bounds: dict[str, dict],
                     where: str) -> float:
    """The loaded INT8 graph vs the fp32 reference on calibration windows: latent cosine within its bound."""
    bound = float(bounds["int8_latent_cosine_mean"]["bound"])
    cos = cosine_mean(got["latent"], ref["latent"])
    if not cos >= bound:
        raise EngineError(f"{where}: INT8 latent cosine vs fp32 is {cos:.6f} on the calibration windows "
                          f"(bound >= {bound:g}); the graph does not match its parity report")
    log.info("INT8 start-up parity: latent cosine %.6f (bound %g)", cos, bound)
    return cos

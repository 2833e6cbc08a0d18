"""The main job in one call: fetch real data, train subject-wise, evaluate, release, export,
verify, measure speed. Each stage reports through a callback so the CLI can show progress.

Running it twice never touches an earlier release: each run gets the next free version.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from tcnvae.data.fetch import fetch, read_manifest
from tcnvae.export import export_release
from tcnvae.registry.release import create_release
from tcnvae.registry.store import Registry
from tcnvae.train.config import TrainConfig
from tcnvae.train.run import train_run

log = logging.getLogger(__name__)
Stage = Callable[[str, dict], None]


def onnx_windows_per_s(path: Path, x: np.ndarray, seconds: float = 1.5) -> float:
    """Single-thread ONNX Runtime throughput at batch 1 (median of 3 timed passes)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    sess.run(None, {name: x[:1]})
    rates = []
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 3:
            sess.run(None, {name: x[n % len(x)][None]})
            n += 1
        rates.append(n / (time.perf_counter() - t0))
    return float(np.median(rates))


def run_quickstart(cfg: TrainConfig, models: Path | None, runs: Path, from_path: Path | None = None,
                   name: str = "tcn_encoder", on_stage: Stage | None = None, on_step=None, on_epoch=None) -> dict:
    stage = on_stage or (lambda _s, _d: None)
    t_start = time.perf_counter()
    source = cfg.data[0]
    if from_path is not None or read_manifest(source) is None:
        stage("fetch", {"data": source})
        fetch(source, from_path=from_path)
    run_dir = runs / f"quickstart-{source}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}"
    stage("train", {"run_dir": str(run_dir), "epochs": cfg.epochs, "preset": cfg.preset})
    results = train_run(cfg, run_dir, on_step=on_step, on_epoch=on_epoch)
    registry = Registry(models)  # None: the user registry (git-ignored) beside the shipped models/
    stage("release", {"models": str(registry.root)})
    release = create_release(registry, run_dir, name=name)
    registry.promote(release.ref, "candidate")  # the newest quickstart model; champion is left alone
    stage("export", {"ref": release.ref})
    exported = export_release(registry, release.ref, int8=True)
    stage("verify", {"ref": release.ref})
    release = registry.open(release.ref)  # recompute every checksum, export/ included
    stage("speed", {"ref": release.ref})
    x = np.load(release.path / "samples" / "heldout.npz")["x"][:64].astype(np.float32)
    speed = {"fp32": onnx_windows_per_s(release.export_dir / "encoder.onnx", x),
             "int8": onnx_windows_per_s(release.export_dir / "encoder_int8.onnx", x)}
    checks = exported["checks"]
    return {
        "ref": release.ref, "path": str(release.path), "run_dir": str(run_dir),
        "test": results.get("test", {}), "validation": results.get("validation", {}),
        "parity_passed": exported["passed"], "parity": {k: v["measured"] for k, v in checks.items()},
        "windows_per_s": speed, "train_seconds": results["train_seconds"],
        "total_seconds": time.perf_counter() - t_start,
        "serve": f"tcnvae serve {release.ref}" + (f" --models {models}" if models is not None else ""),
    }

"""One training run end to end: prepare data, train, fit motifs, evaluate, write the run dir.

Run directory: model.safetensors, model_config.json, train_config.json, normalization.json,
labels.json, motifs.json, eval_metrics.json, history.jsonl, curves.png, confusion/latent PNGs,
samples/calibration.npy + samples/heldout.npz (real windows for INT8 calibration and parity).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from tcnvae.errors import TcnvaeError
from tcnvae.evaluate import evaluate_model, plot_curves, write_evaluation
from tcnvae.model.checkpoint import load_model, save_model
from tcnvae.train.config import TrainConfig
from tcnvae.train.loop import BEST_FILE, HISTORY_FILE, Trainer, predict
from tcnvae.train.motif_fit import fit_motifs
from tcnvae.train.prepare import prepare

log = logging.getLogger(__name__)
N_CALIBRATION = 1024
N_HELDOUT = 1024


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    tmp.replace(path)


def _samples(run_dir: Path, data, seed: int) -> None:
    """Real normalized windows that travel with the release (INT8 calibration, parity checks)."""
    rng = np.random.default_rng(seed)
    (run_dir / "samples").mkdir(exist_ok=True)
    # Training subjects only (fit + validation): never a test subject's window.
    pool = data.train.x if len(data.train) >= N_CALIBRATION else np.concatenate([data.train.x, data.val.x])
    cal = rng.choice(len(pool), min(N_CALIBRATION, len(pool)), replace=False)
    np.save(run_dir / "samples" / "calibration.npy", data.normalizer.apply(pool[np.sort(cal)]))
    held = next((ws.select(ws.labelled) if ws.labelled.any() else ws
                 for ws in (data.test, data.val) if ws is not None and len(ws)), None)
    if held is None:  # a refit without a test split: parity can only use training windows
        log.warning("no held-out subjects: samples/heldout.npz holds training windows")
        held = data.train
    pick = stratified_pick(held.y, N_HELDOUT, rng)
    np.savez(run_dir / "samples" / "heldout.npz", x=data.normalizer.apply(held.x[pick]), y=held.y[pick])


def stratified_pick(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to n indices with classes as equal as availability allows.

    Parity checks compare macro-F1 on this sample; drawn at random, a rare class (a postural
    transition) gets a handful of windows and one flipped window moves its F1 by points.
    """
    by_class = [rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]
    picked: list[np.ndarray] = []
    budget, left = min(n, len(y)), list(by_class)
    while budget > 0 and left:
        share = max(1, budget // len(left))
        taken = [idx[:share] for idx in left]
        picked += taken
        budget -= sum(len(t) for t in taken)
        left = [idx[share:] for idx in left if len(idx) > share]
    return np.sort(np.concatenate(picked)[:min(n, len(y))])


def train_run(cfg: TrainConfig, run_dir: Path, resume: bool = False, data_dir=None,
              on_step: Callable[[dict], None] | None = None,
              on_epoch: Callable[[dict], None] | None = None) -> dict:
    run_dir = Path(run_dir)
    if run_dir.exists() and any(run_dir.iterdir()) and not resume:
        raise TcnvaeError(f"{run_dir} is not empty; pass --resume to continue it or choose another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    if resume and (run_dir / "train_config.json").is_file():
        saved = json.loads((run_dir / "train_config.json").read_text())
        if {k: v for k, v in saved.items() if k != "epochs"} != {k: v for k, v in json.loads(
                json.dumps(cfg.to_dict())).items() if k != "epochs"}:
            raise TcnvaeError(f"{run_dir}/train_config.json differs from this run's config; resume with the same config")
    _write_json(run_dir / "train_config.json", cfg.to_dict())
    t0 = time.perf_counter()
    data = prepare(cfg, data_dir)
    trainer = Trainer(cfg, data, run_dir, on_step)
    if resume:
        trainer.load_state()
    trainer.fit(on_epoch)
    train_seconds = time.perf_counter() - t0
    return finish_run(cfg, data, run_dir, train_seconds)


def finish_run(cfg: TrainConfig, data, run_dir: Path, train_seconds: float) -> dict:
    """Motifs, evaluation and metadata from the best checkpoint."""
    model, meta = load_model(run_dir / BEST_FILE)
    _, z_train = predict(model, data.normalizer.apply(data.train.x))
    motifs = fit_motifs(model, z_train, data.train.y, data.label_names, cfg.seed, windows=data.train, stride=cfg.stride)
    save_model(run_dir / BEST_FILE, model, meta)
    _write_json(run_dir / "motifs.json", motifs)
    _write_json(run_dir / "model_config.json", model.config.to_dict())
    data.normalizer.save(run_dir / "normalization.json")
    _write_json(run_dir / "labels.json", {"labels": list(data.label_names), "domains": list(data.domain_names),
                                          "sources": data.sources, "subjects": data.subjects})
    (run_dir / "eval_metrics.json").unlink(missing_ok=True)
    results = {}
    for split, ws in (("validation", data.val), ("test", data.test)):
        ws = ws.select(ws.labelled) if ws is not None and data.label_names else None
        if ws is None or not len(ws):  # nothing labelled to score (a motif-only model)
            continue
        m, z = evaluate_model(model, data.normalizer, ws, data.train.select(data.train.labelled), split, cfg.seed)
        write_evaluation(run_dir, m, model, ws, z)
        results[split] = {k: m[k] for k in ("accuracy", "macro_f1", "linear_probe_accuracy", "silhouette")}
    _merge_json(run_dir / "eval_metrics.json", {
        "training": {"seconds": round(train_seconds, 1), "best_epoch": int(meta.get("epoch", 0)),
                     "best_val_macro_f1": json.loads(meta.get("val_macro_f1", "null")),  # header values are JSON
                     "refit": json.loads(meta.get("refit", "false")),
                     "n_windows": {"train": len(data.train), "validation": len(data.val),
                                   "test": len(data.test) if data.test is not None else 0},
                     "n_unlabelled_windows": {"train": int((~data.train.labelled).sum()),
                                              "validation": int((~data.val.labelled).sum())},
                     "motif_only": not data.label_names},
        "data": {"sources": list(cfg.data), "classes": list(data.label_names), "stride": cfg.stride}})
    plot_curves(run_dir / HISTORY_FILE, run_dir / "curves.png")
    _samples(run_dir, data, cfg.seed)
    return {**results, "train_seconds": train_seconds}


def _merge_json(path: Path, extra: dict) -> None:
    obj = json.loads(path.read_text()) if path.is_file() else {}
    obj.update(extra)
    _write_json(path, obj)

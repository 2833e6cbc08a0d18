"""One training run end to end: prepare data, train, fit motifs, evaluate, write the run dir.

Run directory: model.safetensors, model_config.json, train_config.json, normalization.json,
labels.json, motifs.json, eval_metrics.json, history.jsonl, curves.png, confusion/latent PNGs,
samples/calibration.npy + samples/heldout.npz (real windows for INT8 calibration and parity);
with `refit`, selection/ (the early-stopped stage: its checkpoint, history.jsonl, state.pt).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from tcnvae.data.errors import DataError
from tcnvae.data.fetch import data_root, read_manifest
from tcnvae.data.sources import get_source
from tcnvae.errors import TcnvaeError
from tcnvae.evaluate import evaluate_model, plot_curves, write_evaluation
from tcnvae.model.checkpoint import load_model, read_metadata, save_model
from tcnvae.train.config import TrainConfig
from tcnvae.train.loop import BEST_FILE, HISTORY_FILE, STATE_FILE, Trainer, predict
from tcnvae.train.motif_fit import fit_motifs
from tcnvae.train.distributed import SINGLE, World, barrier, broadcast, run_on_main
from tcnvae.train.prepare import Prepared, prepare

log = logging.getLogger(__name__)
N_CALIBRATION = 1024
N_HELDOUT = 1024
SELECTION_DIR = "selection"  # a refit run's early-stopped training


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


def has_state(run_dir: Path) -> bool:
    """A resumable training state in the run, or in its refit's first stage: the run has started."""
    return any((d / STATE_FILE).is_file() for d in (run_dir, run_dir / SELECTION_DIR))


def check_start(cfg: TrainConfig, run_dir: Path, resume: bool, data_dir=None) -> None:
    """Refuse a start that cannot work before anything is written to `run_dir`.

    A misspelt dataset or an unfetched source must not leave a train_config.json behind that
    blocks the corrected command (with or without --resume)."""
    for name in cfg.data:
        source = get_source(name)  # DataError naming the known datasets
        if read_manifest(name, data_dir) is None and source.default_path() is None:
            raise DataError(f"dataset {name!r} is not fetched; run `tcnvae data fetch {name}`",
                            data_root(data_dir) / name)
    if run_dir.exists() and not run_dir.is_dir():
        raise TcnvaeError(f"{run_dir} is a file, not a run directory; choose another --out")
    started = has_state(run_dir)
    if run_dir.is_dir() and any(run_dir.iterdir()) and not resume:
        raise TcnvaeError(f"{run_dir} is not empty; pass --resume to continue it or choose another --out")
    if resume and started and (run_dir / "train_config.json").is_file():
        saved = json.loads((run_dir / "train_config.json").read_text())
        if {k: v for k, v in saved.items() if k != "epochs"} != {k: v for k, v in json.loads(
                json.dumps(cfg.to_dict())).items() if k != "epochs"}:
            raise TcnvaeError(f"{run_dir}/train_config.json differs from this run's config; resume with the same config")


def train_run(cfg: TrainConfig, run_dir: Path, resume: bool = False, data_dir=None,
              on_step: Callable[[dict], None] | None = None,
              on_epoch: Callable[[dict], None] | None = None, device: torch.device | str = "cpu",
              precision: str = "fp32", world: World = SINGLE, sync_check: bool = False) -> dict:
    """Train, then (rank 0) fit motifs, evaluate and write the run directory; returns the metrics.

    With `cfg.refit`, the early-stopped training runs in `run_dir/selection/` and a fresh model then
    trains on every training subject for the epochs it selected (`refit_run`).
    Under torchrun every rank calls this; ranks other than 0 return {} after training."""
    run_dir, device = Path(run_dir), torch.device(device)
    t0 = time.perf_counter()

    def start() -> Prepared:
        check_start(cfg, run_dir, resume, data_dir)
        return prepare(cfg, data_dir)  # data errors surface before the run directory exists

    # Rank 0 checks and prepares first (filling the window caches); the others then read them.
    data = run_on_main(world, start)
    if not world.main:
        data = prepare(cfg, data_dir)
    created = world.main and not run_dir.exists()
    two_stage = cfg.refit and len(data.val) > 0
    if cfg.refit and not two_stage:
        log.warning("refit: no validation subject was held out (one training subject), so nothing chooses "
                    "the epoch budget: it trains on all of it for the full budget, as without refit")
    first_dir = run_dir / SELECTION_DIR if two_stage else run_dir
    if world.main:
        first_dir.mkdir(parents=True, exist_ok=True)
    try:
        if world.main:
            _write_json(run_dir / "train_config.json", cfg.to_dict())
        barrier(world)
        trainer = Trainer(cfg, data, first_dir, on_step, device, precision, world, sync_check)
        if resume:
            trainer.load_state()
        trainer.fit(on_epoch)
        if two_stage:
            selected, data = data, refit_run(cfg, data, run_dir, resume, data_dir, on_step, on_epoch, device,
                                             precision, world, sync_check)
    except BaseException:
        # Nothing to resume yet (no epoch finished): leave no folder that blocks a retry.
        if created and not has_state(run_dir):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    if not world.main:
        return {}
    train_seconds = time.perf_counter() - t0
    results = finish_run(cfg, data, run_dir, train_seconds, device, {"device": str(device), "precision": precision,
                                                                     "processes": world.size})
    if two_stage:
        results["selection"] = score_selection(run_dir, selected, data.test, cfg.seed)
    return results


def refit_run(cfg: TrainConfig, selected: Prepared, run_dir: Path, resume: bool, data_dir, on_step, on_epoch,
              device, precision: str, world: World, sync_check: bool) -> Prepared:
    """A fresh model on every training subject (validation ones too) for the epochs that the
    early-stopped run in `run_dir/selection/` kept; returns the data it trained on.

    The budget, not the weights, is what the validation subjects choose: the refit sees ~15 % more
    people, and its learning rate anneals to zero over that budget instead of being cut off."""
    epochs = broadcast(world, int(read_metadata(run_dir / SELECTION_DIR / BEST_FILE)["epoch"])
                       if world.main else None)
    final = dataclasses.replace(cfg, val_subjects=0, epochs=epochs)
    log.info("refit: %d epochs (the selected checkpoint's) on all %d training subjects", epochs,
             len(selected.train.subjects()) + len(selected.val.subjects()))
    data = run_on_main(world, lambda: prepare(final, data_dir))
    if not world.main:
        data = prepare(final, data_dir)
    trainer = Trainer(final, data, run_dir, on_step, device, precision, world, sync_check)
    if resume:
        trainer.load_state()
    trainer.fit(on_epoch)
    return data


def score_selection(run_dir: Path, selected: Prepared, test, seed: int) -> dict:
    """The early-stopped model of a refit run, scored on the same test windows as the refit
    (with its own normalization): what the refit gained, measured in the same run."""
    model, meta = load_model(run_dir / SELECTION_DIR / BEST_FILE)
    row = {"best_epoch": int(meta.get("epoch", 0)), "val_macro_f1": json.loads(meta.get("val_macro_f1", "null"))}
    if test is not None and len(test) and selected.label_names:
        m, _ = evaluate_model(model, selected.normalizer, test, None, "test", seed)
        row["test"] = {k: m[k] for k in ("accuracy", "macro_f1", "n_windows")}
    _merge_json(run_dir / "eval_metrics.json", {"selection": row})
    return row


def finish_run(cfg: TrainConfig, data, run_dir: Path, train_seconds: float, device: torch.device | str = "cpu",
               hardware: dict | None = None) -> dict:
    """Motifs, evaluation and metadata from the best checkpoint (on `device`; files hold CPU tensors)."""
    model, meta = load_model(run_dir / BEST_FILE)
    model.to(device)
    log.info("fitting motifs on %d training windows", len(data.train))
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
        log.info("evaluating on %d %s windows", len(ws), split)
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
                     "motif_only": not data.label_names,
                     **({"hardware": hardware} if hardware else {})},
        "data": {"sources": list(cfg.data), "classes": list(data.label_names), "stride": cfg.stride}})
    plot_curves(run_dir / HISTORY_FILE, run_dir / "curves.png")
    _samples(run_dir, data, cfg.seed)
    return {**results, "train_seconds": train_seconds}


def _merge_json(path: Path, extra: dict) -> None:
    obj = json.loads(path.read_text()) if path.is_file() else {}
    obj.update(extra)
    _write_json(path, obj)

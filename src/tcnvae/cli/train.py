"""`tcnvae train --data NAME[,NAME...] --out RUN_DIR [--test-subjects A,B] [--config FILE] [--epochs N] [--resume]`."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import torch

from tcnvae.cli.progress import TrainProgress
from tcnvae.model.device import PRECISIONS, check_precision, resolve_device
from tcnvae.model.presets import PRESETS
from tcnvae.train.config import TrainConfig, build_config
from tcnvae.train.distributed import init_from_env, shutdown
from tcnvae.train.run import train_run


def register(sub) -> None:
    p = sub.add_parser("train", help="train a TCN-VAE on one or more datasets (subject-wise splits)")
    p.add_argument("--data", default=None, help="dataset name(s), comma-separated (default: watch)")
    p.add_argument("--out", type=Path, required=True, help="run directory to create")
    p.add_argument("--config", type=Path, default=None, help="JSON training config (keys of TrainConfig; default: none, built-in defaults)")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None, help="model size (default: deep_bn_micro_lags; seed = the v0.1.0 architecture)")
    p.add_argument("--classes", default=None, help="comma-separated subset of labels to keep (default: all)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"training epochs (default: the config file's, else {TrainConfig.epochs})")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"windows per batch (default: the config file's, else {TrainConfig.batch_size})")
    p.add_argument("--lr", type=float, default=None,
                   help=f"peak AdamW learning rate (default: the config file's, else {TrainConfig.lr:g})")
    p.add_argument("--seed", type=int, default=None,
                   help=f"seed for splits, shuffling, augmentation (default: the config file's, else {TrainConfig.seed})")
    p.add_argument("--val-subjects", type=_count_or_share, default=None, metavar="N|SHARE",
                   help="training subjects held out for early stopping: a count, a share (0.15), "
                        f"or 0 to refit on all of them for the full epoch budget (default: {TrainConfig.val_subjects})")
    p.add_argument("--refit", action="store_true", default=None,
                   help="after early stopping on the validation subjects, train a fresh model on all training "
                        "subjects for the epochs selected (about twice the training time; the early-stopped "
                        "model stays in RUN_DIR/selection/ and is scored too)")
    p.add_argument("--unlabelled", action="store_true", default=None,
                   help="also train on the windows of unlabelled stretches (VAE + motifs; default: labelled "
                        "windows only; a dataset without any label always gives a motif-only model)")
    p.add_argument("--test-subjects", default=None, metavar="A,B,...",
                   help="subjects held out for testing (as `tcnvae data inspect` lists them; overrides a "
                        "dataset's official split; default: the official split or meta.json test_subjects)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda, cuda:N or mps "
                   "(default: auto; under torchrun each process takes the GPU of its LOCAL_RANK)")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="fp32, or autocast in bf16 / fp16 (fp16 with a GradScaler); default fp32")
    p.add_argument("--sync-check", action="store_true",
                   help="log a digest of the weights after every step on every rank (checks torchrun runs stay in step)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="dataset cache (default: $TCNVAE_DATA, else ~/.cache/tcnvae)")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR from its last completed epoch")
    p.set_defaults(func=run)


def _count_or_share(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def run(args: argparse.Namespace) -> int:
    cfg = build_config(args.config, data=args.data, preset=args.preset, classes=args.classes, epochs=args.epochs,
                       batch_size=args.batch_size, lr=args.lr, seed=args.seed, threads=args.threads,
                       val_subjects=args.val_subjects, test_subjects=args.test_subjects,
                       unlabelled=args.unlabelled, refit=args.refit)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(args.device)
    check_precision(args.precision, device)
    world, device = init_from_env(device)
    try:
        return _train(args, cfg, device, world)
    finally:
        shutdown()


def _train(args: argparse.Namespace, cfg, device, world) -> int:
    if not world.main:  # one voice: rank 0 reports; the others only warn (and log --sync-check digests)
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("tcnvae.train.loop.sync").setLevel(logging.INFO)
    progress = TrainProgress(cfg.batch_size, stream=None if world.main else open(os.devnull, "w"))

    def on_epoch(row: dict) -> None:
        validated = "val_macro_f1" in row or "val_loss" in row  # a refit has no validation subjects
        if "val_macro_f1" in row:
            held_out = (f"val macro-F1 {row['val_macro_f1']:.4f}  val acc {row['val_accuracy']:.4f}  "
                        f"active units {row['active_units']}")
        elif validated:  # nothing labelled to score (a motif-only model)
            held_out = f"val loss {row['val_loss']:.4f}  active units {row['active_units']}"
        elif "train_accuracy" in row:
            held_out = f"train acc {row['train_accuracy']:.4f}  (refit: no validation subjects)"
        else:
            held_out = "(refit: no validation subjects)"
        progress.write(f"epoch {row['epoch']:>3}  loss {row['loss']:.4f}  {held_out}  "
                   f"{row['seconds']:.0f}s{'  *best' if validated and row['best'] else ''}")

    try:
        results = train_run(cfg, args.out, args.resume, args.data_dir, progress.on_step, on_epoch, device,
                            args.precision, world, args.sync_check)
    finally:
        progress.close()
    if not world.main:
        return 0
    print(json.dumps({k: v for k, v in results.items()}, indent=2, default=str))
    print(f"run written to {args.out}  (next: tcnvae release {args.out})")
    return 0

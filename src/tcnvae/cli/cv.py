"""`tcnvae cv --data NAME --folds K [--config FILE] [--out DIR]`: subject-wise cross-validation.

K models, each tested on the subjects of its fold; prints a per-fold table and mean ± sd, and
writes cv.json, confusion_matrix_cv.png and one run directory per fold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm import tqdm

from tcnvae.cli.common import average_offsets
from tcnvae.model.presets import PRESETS
from tcnvae.train.config import build_config
from tcnvae.train.cv import cross_validate


def register(sub) -> None:
    p = sub.add_parser("cv", help="subject-wise k-fold cross-validation (K = number of subjects: leave-one-subject-out)")
    p.add_argument("--data", default=None, help="dataset name(s), comma-separated (default: watch)")
    p.add_argument("--folds", type=int, required=True, metavar="K", help="number of subject folds")
    p.add_argument("--out", type=Path, default=None, help="output directory (default: runs/cv-NAME-kK)")
    p.add_argument("--config", type=Path, default=None, help="JSON training config (keys of TrainConfig)")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None, help="model size (default: deep_bn_micro_lags)")
    p.add_argument("--classes", default=None, help="comma-separated subset of labels to keep")
    p.add_argument("--epochs", type=int, default=None, help="training epochs per fold (default: the config's, else 30)")
    p.add_argument("--batch-size", type=int, default=None, help="windows per batch (default: the config's, else 64)")
    p.add_argument("--seed", type=int, default=None, help="training seed of every fold's model")
    p.add_argument("--fold-seed", type=int, default=0, help="shuffles which subjects share a fold (default: 0)")
    p.add_argument("--val-subjects", type=float, default=None, metavar="N|SHARE",
                   help="training subjects held out for early stopping in each fold (0: refit)")
    p.add_argument("--refit", action="store_true", default=None,
                   help="each fold: early-stop on validation subjects, then refit on all its training subjects "
                        "for the epochs selected (`tcnvae train --refit`)")
    p.add_argument("--max-train-windows", type=int, default=None, help="subsample each fold's training windows")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--average-shifts", default=None, metavar="D,D,...",
                   help="also score each fold averaged over its test windows shifted by ±D samples, e.g. 25,50 "
                        "(as `tcnvae evaluate --average-shifts`)")
    p.add_argument("--adapt", action="store_true",
                   help="also score each fold with BatchNorm re-estimated per test subject from their own "
                        "unlabelled windows (AdaBN, as `tcnvae evaluate --adapt`): what adapting a new wearer buys")
    p.add_argument("--data-dir", type=Path, default=None, help="dataset cache (default: $TCNVAE_DATA, else ~/.cache/tcnvae)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    offsets = average_offsets(args.average_shifts)  # before any training: a bad value fails fast
    val = args.val_subjects
    val = int(val) if val is not None and float(val).is_integer() else val
    cfg = build_config(args.config, data=args.data, preset=args.preset, classes=args.classes, epochs=args.epochs,
                       batch_size=args.batch_size, seed=args.seed, threads=args.threads, val_subjects=val,
                       max_train_windows=args.max_train_windows, refit=args.refit)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = args.out or Path("runs") / f"cv-{'+'.join(cfg.data)}-k{args.folds}"

    def on_epoch(row: dict) -> None:
        score = f"val macro-F1 {row['val_macro_f1']:.4f}" if "val_macro_f1" in row else "refit"
        tqdm.write(f"  epoch {row['epoch']:>3}  loss {row['loss']:.4f}  {score}  {row['seconds']:.0f}s")

    def on_fold(row: dict) -> None:
        extra = "".join(f"  {key} macro-F1 {row[key]['macro_f1']:.4f}" for key in EXTRA_SCORES if key in row)
        tqdm.write(f"fold {row['fold']}: accuracy {row['accuracy']:.4f}  macro-F1 {row['macro_f1']:.4f}{extra}  "
                   f"({row['n_windows']} windows of {', '.join(row['test_subjects'])})")

    doc = cross_validate(cfg, args.folds, out, args.fold_seed, args.data_dir, on_fold, on_epoch, offsets,
                         adapt=args.adapt)
    print(format_table(doc))
    print(f"wrote {out / 'cv.json'} and {out / 'confusion_matrix_cv.png'}")
    return 0


EXTRA_SCORES = ("averaged", "adapted")  # the row/summary keys of --average-shifts and --adapt


def format_table(doc: dict) -> str:
    """The per-fold Markdown table with its mean ± sd row (also what BENCHMARKS.md shows); one more
    macro-F1 column for each extra score the folds carry (--average-shifts, --adapt)."""
    s = doc["summary"]
    extras = [k for k in EXTRA_SCORES if k in s]
    heads = {"averaged": "macro-F1 averaged over ±" + ", ±".join(str(d) for d in s.get("averaged", {}).get("offsets", ())
                                                                 if d > 0),
             "adapted": "macro-F1 adapted (AdaBN per test subject)"}
    lines = ["| fold | test subjects | windows | accuracy | macro-F1 |" + "".join(f" {heads[k]} |" for k in extras),
             "|---|---|---:|---:|---:|" + "---:|" * len(extras)]
    for f in doc["folds"]:
        subjects = ", ".join(x.split(":", 1)[-1] for x in f["test_subjects"])
        lines.append(f"| {f['fold']} | {subjects} | {f['n_windows']} | {f['accuracy']:.3f} | {f['macro_f1']:.3f} |"
                     + "".join(f" {f[k]['macro_f1']:.3f} |" for k in extras))
    lines.append(f"| **mean ± sd** | {s['k']} folds | {s['n_windows']} | {s['accuracy_mean']:.3f} ± "
                 f"{s['accuracy_sd']:.3f} | {s['macro_f1_mean']:.3f} ± {s['macro_f1_sd']:.3f} |"
                 + "".join(f" {s[k]['macro_f1_mean']:.3f} ± {s[k]['macro_f1_sd']:.3f} |" for k in extras))
    lines.append("| pooled (summed confusion) | | | " + f"{s['pooled_accuracy']:.3f} | {s['pooled_macro_f1']:.3f} |"
                 + "".join(f" {s[k]['pooled_macro_f1']:.3f} |" for k in extras))
    return "\n".join(lines)

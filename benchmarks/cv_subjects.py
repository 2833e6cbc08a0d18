"""Subject-wise k-fold cross-validation of a short TCN-VAE recipe; appends its table to BENCHMARKS.md.

    .venv/bin/python benchmarks/cv_subjects.py --data watch --folds 5 --preset tiny --epochs 3
    .venv/bin/python benchmarks/cv_subjects.py --config configs/hapt6.json --folds 5 --preset tiny --epochs 2

A thin driver over `tcnvae.train.cv` (the same as `tcnvae cv`), with `--minirocket` fitting
MiniRocket on each fold's very training windows (benchmarks/_minirocket.py) for a reference.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tcnvae.cli.cv import format_table  # noqa: E402
from tcnvae.train.config import build_config  # noqa: E402
from tcnvae.train.cv import cross_validate, subject_folds, summarize  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def minirocket_folds(cfg, k: int, fold_seed: int, data_dir) -> dict:
    from _minirocket import minirocket_fold

    rows = [{"fold": f.index, **minirocket_fold(cfg, f, data_dir, cfg.seed)}
            for f in subject_folds(cfg.data, k, fold_seed, cfg.stride, data_dir)]
    return summarize(rows, rows[0]["labels"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--preset", default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--max-train-windows", type=int, default=None)
    ap.add_argument("--val-subjects", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--minirocket", action="store_true")
    ap.add_argument("--note", default="", help="what else was running")
    args = ap.parse_args()
    val = args.val_subjects
    val = int(val) if val is not None and float(val).is_integer() else val
    cfg = build_config(args.config, data=args.data, preset=args.preset, epochs=args.epochs,
                       max_train_windows=args.max_train_windows, val_subjects=val, threads=args.threads)
    torch.set_num_threads(cfg.threads)
    out = args.out or REPO / "runs" / f"bench-cv-{'+'.join(cfg.data)}-k{args.folds}"
    t0 = time.perf_counter()
    doc = cross_validate(cfg, args.folds, out, data_dir=args.data_dir)
    seconds = time.perf_counter() - t0
    table = format_table(doc)
    extra = ""
    if args.minirocket:
        mr = minirocket_folds(cfg, args.folds, 0, args.data_dir)
        extra = (f"\nMiniRocket (10k kernels) on the same folds and windows: accuracy {mr['accuracy_mean']:.3f} ± "
                 f"{mr['accuracy_sd']:.3f}, macro-F1 {mr['macro_f1_mean']:.3f} ± {mr['macro_f1_sd']:.3f}\n")
    cmd = "python benchmarks/cv_subjects.py " + " ".join(sys.argv[1:])
    text = (f"\n### Subject-wise {args.folds}-fold CV: {', '.join(cfg.data)} (short settings)\n\n"
            f"`{cmd}` — preset `{cfg.preset}`, {cfg.epochs} epochs, val_subjects {cfg.val_subjects}, "
            f"max_train_windows {cfg.max_train_windows or 'all'}, classes {len(doc['summary']['labels'])}, "
            f"fold seed 0; {seconds / 60:.1f} min on {platform.machine()} ({cfg.threads} torch threads). "
            f"{args.note}\n\n{table}\n{extra}")
    print(text)
    with open(REPO / "BENCHMARKS.md", "a") as fh:
        fh.write(text)
    print(json.dumps(doc["summary"], indent=1)[:400])


if __name__ == "__main__":
    main()

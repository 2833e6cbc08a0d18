"""Subject-wise k-fold cross-validation of the TCN-VAE recipe against MiniRocket on the same folds.

    .venv/bin/python benchmarks/cv_subjects.py --data watch --folds 5 --minirocket
    .venv/bin/python benchmarks/cv_subjects.py --config configs/hapt6.json --folds 5 --epochs 6 --minirocket

A thin driver over `tcnvae.train.cv` (the same as `tcnvae cv`; a fold whose run directory under
`--out` is complete is reused, so a `tcnvae cv` run can be scored against MiniRocket afterwards).
With `--minirocket`, MiniRocket (benchmarks/_minirocket.py) is fitted on each fold's very training
windows (training + validation subjects) in a spawned process of its own — after aeon/numba ran
in a process, later torch steps there ran ~7x slower — and the table pairs the two per fold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _minirocket import in_fresh_process, minirocket_fold  # noqa: E402
from _report import publish  # noqa: E402

from tcnvae.cli.cv import format_table  # noqa: E402
from tcnvae.train.config import build_config  # noqa: E402
from tcnvae.train.cv import cross_validate, subject_folds  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _minirocket_all(cfg, k: int, fold_seed: int, data_dir) -> list[dict]:
    return [{"fold": f.index, **minirocket_fold(cfg, f, data_dir, cfg.seed)}
            for f in subject_folds(cfg.data, k, fold_seed, cfg.stride, data_dir)]


def minirocket_folds(cfg, k: int, fold_seed: int, data_dir) -> list[dict]:
    """MiniRocket's per-fold scores, computed in a spawned process (keeps numba out of this one)."""
    return in_fresh_process(_minirocket_all, cfg, k, fold_seed, data_dir)


def _ms(values) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.3f} ± {a.std(ddof=1) if len(a) > 1 else 0.0:.3f}"


def paired_table(doc: dict, mr: list[dict]) -> str:
    """Per fold: TCN-VAE and MiniRocket macro-F1 / accuracy and their difference; mean ± sd rows."""
    by_fold = {r["fold"]: r for r in mr}
    lines = ["| fold | test subjects | windows | TCN-VAE macro-F1 | MiniRocket macro-F1 | Δ macro-F1 | "
             "TCN-VAE acc | MiniRocket acc | MiniRocket fit (s) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    ours, theirs, acc_o, acc_t = [], [], [], []
    for f in doc["folds"]:
        m = by_fold[f["fold"]]
        ours.append(f["macro_f1"]), theirs.append(m["macro_f1"]), acc_o.append(f["accuracy"]), acc_t.append(m["accuracy"])
        subjects = ", ".join(x.split(":", 1)[-1] for x in f["test_subjects"])
        lines.append(f"| {f['fold']} | {subjects} | {f['n_windows']} | {f['macro_f1']:.3f} | {m['macro_f1']:.3f} | "
                     f"{f['macro_f1'] - m['macro_f1']:+.3f} | {f['accuracy']:.3f} | {m['accuracy']:.3f} | "
                     f"{m['fit_s']:.0f} |")
    diff = np.subtract(ours, theirs)
    lines.append(f"| **mean ± sd** | {len(ours)} folds | {sum(f['n_windows'] for f in doc['folds'])} | **{_ms(ours)}** | "
                 f"{_ms(theirs)} | {_ms(diff)} | {_ms(acc_o)} | {_ms(acc_t)} | |")
    lines.append(f"\nPaired over folds: TCN-VAE − MiniRocket macro-F1 {diff.mean():+.3f} (sd {diff.std(ddof=1):.3f}); "
                 f"TCN-VAE ahead on {int((diff > 0).sum())} of {len(diff)} folds.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--preset", default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--max-train-windows", type=int, default=None)
    ap.add_argument("--val-subjects", type=float, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="run folders (complete folds there are reused)")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--minirocket", action="store_true")
    ap.add_argument("--note", default="", help="what else was running")
    ap.add_argument("--no-append", action="store_true")
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
    fold_s = ", ".join(f"{f['seconds'] / 60:.0f}" for f in doc["folds"])
    head = (f"Recipe: preset `{cfg.preset}`, {cfg.epochs} epochs (patience {cfg.patience}), val_subjects "
            f"{cfg.val_subjects}, max_train_windows {cfg.max_train_windows or 'all'}, classes "
            f"{len(doc['summary']['labels'])}, fold seed 0, training seed {cfg.seed}, {cfg.threads} torch thread(s). "
            f"TCN-VAE fit per fold (min): {fold_s}; this call {seconds / 60:.1f} min (reused folds cost nothing). "
            f"{args.note}")
    body = head + "\n\n" + format_table(doc)
    if args.minirocket:
        mr = minirocket_folds(cfg, args.folds, 0, args.data_dir)
        (out / "minirocket.json").write_text(json.dumps(mr, indent=1, default=str))
        body += "\n\nSame folds, MiniRocket (10k kernels, ridge) fitted on exactly each fold's TCN-VAE training windows:\n\n"
        body += paired_table(doc, mr)
    publish(f"Subject-wise {args.folds}-fold CV: {', '.join(cfg.data)}", body, append=not args.no_append)


if __name__ == "__main__":
    main()

"""Training benchmark on UCI HAPT, official subject split: TCN-VAE vs MiniRocket, same windows.

HAPT-6 (6 activities) and HAPT-12 (with the 6 transitions); 100-sample windows at 100 Hz,
stride 50. The TCN-VAE uses configs/hapt6.json / hapt12.json: a refit on all 21 training
subjects for the epoch budget and recipe chosen on held-out TRAINING subjects
(benchmarks/train_ablation.py); the test subjects are never looked at before the final
evaluation. MiniRocket (aeon) is fitted on the same training windows and scored on the same
test windows.

`--recipe default` trains what `tcnvae train --data uci-hapt` does with no flags instead (the
recipe the cross-dataset suite chose: 30 epochs, early stopping on 15 % of the training subjects);
`--set refit=true` adds its refit. Each TCN-VAE is also scored averaged over shifted windows and
with AdaBN per test subject (`tcnvae evaluate --average-shifts 25,50` / `--adapt`).

    python benchmarks/train_hapt.py --from ../shared/data/uci-hapt.zip [--tasks hapt6,hapt12] [--runs runs]
    python benchmarks/train_hapt.py --recipe default --set threads=1 --skip-minirocket --runs runs/default
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _minirocket import minirocket_predict  # noqa: E402
from _report import publish  # noqa: E402
from recipe_suite import DATASETS, parse_sets  # noqa: E402

from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.model.presets import preset_has_batch_norm  # noqa: E402
from tcnvae.train.config import build_config  # noqa: E402
from tcnvae.train.cv import adapted_fold_scores, averaged_fold_scores  # noqa: E402
from tcnvae.train.prepare import prepare, shifted_windows, split_windows  # noqa: E402
from tcnvae.train.loop import HISTORY_FILE  # noqa: E402
from tcnvae.train.run import SELECTION_DIR, has_state, train_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def minirocket(cfg, seed: int = 0) -> dict:
    data = prepare(cfg)
    train_x = np.concatenate([data.train.x, data.val.x])  # all training subjects, as the anchor
    train_y = np.concatenate([data.train.y, data.val.y])
    pred, fit_s = minirocket_predict(data.normalizer, train_x, train_y, data.test.x, seed)
    return {"accuracy": float((pred == data.test.y).mean()), "macro_f1": float(f1_score(data.test.y, pred, average="macro")),
            "seconds": fit_s, "n_train": len(train_y), "n_test": len(data.test.y)}


SHIFTS = [-50, -25, 25, 50]  # what `tcnvae evaluate --average-shifts 25,50` averages over


def tcnvae(cfg, run_dir: Path) -> dict:
    res = train_run(cfg, run_dir, resume=has_state(run_dir))
    # Training time from the epochs' own timings (a refit's first stage too): right for a resumed run as well.
    histories = [run_dir / HISTORY_FILE, run_dir / SELECTION_DIR / HISTORY_FILE]
    seconds = sum(json.loads(row)["seconds"] for h in histories if h.is_file()
                  for row in h.read_text().splitlines() if row.strip())
    metrics = json.loads((run_dir / "eval_metrics.json").read_text())
    test = metrics["test"]
    # The test windows as `tcnvae evaluate` cuts them, plain and shifted, for the averaged and adapted scores.
    labels = tuple(json.loads((run_dir / "model_config.json").read_text())["label_names"])
    subjects = tuple(test["subjects"])
    plain, _ = split_windows(cfg.data, labels, "test", None, cfg.stride, subjects)
    averaged = averaged_fold_scores(run_dir, plain, shifted_windows(cfg.data, labels, "test", SHIFTS, None,
                                                                    cfg.stride, subjects))
    adapted = adapted_fold_scores(run_dir, plain, cfg.data) if preset_has_batch_norm(cfg.preset) else None  # AdaBN needs BatchNorm
    return {"accuracy": test["accuracy"], "macro_f1": test["macro_f1"], "seconds": seconds,
            "linear_probe": test.get("linear_probe_accuracy"), "best_epoch": metrics["training"]["best_epoch"],
            "n_train": metrics["training"]["n_windows"]["train"], "n_test": test["n_windows"],
            "averaged_macro_f1": averaged["macro_f1"], "adapted_macro_f1": adapted and adapted["macro_f1"],
            "selection": metrics.get("selection"),
            "per_class_f1": {k: v["f1"] for k, v in test["per_class"].items()}, "res": res}


def task_config(task: str, recipe: str, sets: dict):
    """configs/TASK.json (the release recipe), or the default recipe on the task's data and classes."""
    if recipe == "configs":
        return build_config(ROOT / "configs" / f"{task}.json", **sets)
    return build_config(**{**DATASETS[task], **sets})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--tasks", default="hapt6,hapt12")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs")
    ap.add_argument("--recipe", choices=("configs", "default"), default="configs",
                    help="configs/TASK.json (the releases' recipe) or the default of `tcnvae train`")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="TrainConfig override key=value")
    ap.add_argument("--skip-minirocket", action="store_true")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    fetch("uci-hapt", from_path=args.from_path)
    rows, notes = [], []
    sets = parse_sets(args.sets)
    for task in args.tasks.split(","):
        cfg = task_config(task, args.recipe, sets)
        ours = tcnvae(cfg, args.runs / f"bench-{task}")
        recipe = f"configs/{task}.json" if args.recipe == "configs" else "default recipe"
        recipe += "".join(f", {k}={v}" for k, v in sets.items())
        rows.append((task, f"TCN-VAE `{cfg.preset}` ({recipe})", ours))
        notes.append(f"- {task} TCN-VAE per-class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in ours["per_class_f1"].items()))
        adapted = "–" if ours["adapted_macro_f1"] is None else f"{ours['adapted_macro_f1']:.3f}"
        notes.append(f"- {task} TCN-VAE best epoch {ours['best_epoch']}; averaged over ±25/±50-sample shifts "
                     f"macro-F1 {ours['averaged_macro_f1']:.3f}; AdaBN per test subject {adapted}")
        if ours["selection"]:
            notes.append(f"- {task} before the refit (early-stopped at epoch {ours['selection']['best_epoch']}): "
                         f"test macro-F1 {ours['selection']['test']['macro_f1']:.3f}")
        if not args.skip_minirocket:
            rows.append((task, "MiniRocket (aeon, 10k kernels, ridge)", minirocket(cfg)))
        print(json.dumps(rows[-1][2], default=str), flush=True)
    lines = ["| task | model | test accuracy | test macro-F1 | linear probe (latent) | train windows / test windows | fit time (s) |",
             "|---|---|---|---|---|---|---|"]
    for task, model, r in rows:
        probe = f"{r['linear_probe']:.3f}" if r.get("linear_probe") is not None else "–"
        lines.append(f"| {task} | {model} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {probe} | "
                     f"{r['n_train']:,} / {r['n_test']:,} | {r['seconds']:.0f} |")
    table = "\n".join(lines) + "\n\n" + "\n".join(notes)
    publish("Training: UCI HAPT, official subject split (TCN-VAE vs MiniRocket)", table, append=not args.no_append)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training-recipe ablation on HAPT-6, scored on VALIDATION subjects only.

Each variant trains on 15 of the 21 official training subjects and is scored on the other 6
(val_subjects=0.3); the official test subjects are dropped before training and never looked
at, so choosing a recipe from this table does not tune on the test set. Windows use stride 100
(half the benchmark's) and 12-15 epochs to keep a variant near 8 minutes on one core; MiniRocket
on the same windows gives the reference.

    python benchmarks/train_ablation.py --variants baseline,batch_norm [--threads 1]
    python benchmarks/train_ablation.py --variants minirocket
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _minirocket import minirocket_predict  # noqa: E402
from _report import publish  # noqa: E402

from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.model.checkpoint import load_model  # noqa: E402
from tcnvae.model.presets import PRESETS  # noqa: E402
from tcnvae.train.config import build_config  # noqa: E402
from tcnvae.train.loop import HISTORY_FILE, Trainer, predict  # noqa: E402
from tcnvae.train.prepare import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEEP = PRESETS["deep"]
# Presets tried here only (the winner became `deep_bn` in tcnvae.model.presets).
PRESETS["deep_lowdrop"] = {**DEEP, "dropout": 0.05}
PRESETS["deep_kaiming"] = {**DEEP, "dropout": 0.05, "seed_init": False}
PRESETS["deep_k5"] = {**DEEP, "dropout": 0.05, "seed_init": False, "kernel_size": 5}
DEEP_BN = PRESETS["deep_bn"]
PRESETS["deep_bn_drop"] = {**DEEP_BN, "dropout": 0.2}
PRESETS["deep_bn_micro3"] = {**DEEP_BN, "micro_gains": (10.0, 100.0, 1000.0)}
PRESETS["deep_bn_micro_lag10"] = {**PRESETS["deep_bn_micro"], "micro_lags": (1, 10)}
PRESETS["deep_bn_wide"] = {**DEEP_BN, "channels": (64, 64, 128, 128, 256)}

COMMON = {"preset": "deep", "val_subjects": 0.3, "stride": 100, "epochs": 15, "weight_decay": 1e-2, "patience": 8,
          "aug_scale": 0.1, "aug_rotate_deg": 5.0}  # the recipe of the first table; later variants override
VARIANTS: dict[str, dict] = {
    "baseline": {},  # configs/hapt6.json of v1.0.0: `deep`, seed init, dropout 0.2, wd 1e-2
    "no_jitter": {"aug_jitter": 0.0},
    "no_augmentation": {"augment": False},
    "classifier_only": {"recon_weight": 0.0, "beta": 0.0},
    "low_regularization": {"preset": "deep_lowdrop", "weight_decay": 1e-4},
    "no_regularization": {"preset": "deep_lowdrop", "weight_decay": 0.0, "label_smoothing": 0.0},
    "kaiming_init": {"preset": "deep_kaiming", "weight_decay": 1e-4},
    "subject_adversary": {"preset": "deep_kaiming", "weight_decay": 1e-4, "domain_weight": 0.3, "epochs": 12},
    "kernel_5": {"preset": "deep_k5", "weight_decay": 1e-4, "epochs": 12},
    "batch_norm": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12},
    # Session 3: on top of batch_norm, aimed at generalising to unseen subjects.
    "bn_long_ema": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12, "ema_decay": 0.998},
    "bn_strong_aug": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12, "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    "bn_dropout": {"preset": "deep_bn_drop", "weight_decay": 1e-3, "epochs": 12},
    "bn_wide": {"preset": "deep_bn_wide", "weight_decay": 1e-4, "epochs": 12},
    "bn_rotate_30": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12, "aug_rotate_deg": 30.0, "aug_scale": 0.2},
    "bn_rotate_45": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12, "aug_rotate_deg": 45.0, "aug_scale": 0.2},
    "bn_scale_only": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12, "aug_scale": 0.2},
    "bn_micro": {"preset": "deep_bn_micro", "weight_decay": 1e-4, "epochs": 12, "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    "bn_micro_20_epochs": {"preset": "deep_bn_micro", "weight_decay": 1e-4, "epochs": 20, "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    "bn_micro_light_aug": {"preset": "deep_bn_micro", "weight_decay": 1e-4, "epochs": 12},
    "bn_micro_3_gains": {"preset": "deep_bn_micro3", "weight_decay": 1e-4, "epochs": 12, "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    "bn_low_lr": {"preset": "deep_bn", "weight_decay": 1e-4, "epochs": 12, "lr": 1e-3},
    # Session 4: the benchmark's stride (50) and a full cosine schedule without early stopping,
    # to choose the epoch budget for refitting on all training subjects (last weights kept).
    "bn_micro_s50_15": {"preset": "deep_bn_micro", "weight_decay": 1e-4, "stride": 50, "epochs": 15, "patience": 99,
                        "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    "bn_micro_s50_12": {"preset": "deep_bn_micro", "weight_decay": 1e-4, "stride": 50, "epochs": 12, "patience": 99,
                        "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    # Longer-lag differences: the slow postural sway of a standing person, not only its tremor.
    "micro_lag10_s50_12": {"preset": "deep_bn_micro_lag10", "weight_decay": 1e-4, "stride": 50, "epochs": 12,
                           "patience": 99, "aug_rotate_deg": 15.0, "aug_scale": 0.2},
    "micro_lag4_16_s50_12": {"preset": "deep_bn_micro_lags", "weight_decay": 1e-4, "stride": 50, "epochs": 12,
                             "patience": 99, "aug_rotate_deg": 15.0, "aug_scale": 0.2},
}


def subject_domains(data):
    """The domain head sees subjects instead of datasets (subject-adversarial training)."""
    subjects = tuple(sorted(set(data.train.subject.tolist())))
    return dataclasses.replace(data, train=dataclasses.replace(data.train, domain=data.train.subject),
                               domain_names=subjects)


def run_variant(name: str, data_dir: Path, seed: int = 0) -> dict:
    split_cfg = build_config(ROOT / "configs" / "hapt6.json", **{**COMMON, **VARIANTS[name]})  # seed 0: the subjects
    cfg = dataclasses.replace(split_cfg, seed=seed)  # the training seed alone varies
    data = dataclasses.replace(prepare(split_cfg, data_dir), test=None)  # the test subjects are never used
    if name == "subject_adversary":
        data = subject_domains(data)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        Trainer(cfg, data, Path(tmp)).fit(lambda r: print(name, r["epoch"], f"{r['val_macro_f1']:.4f}", flush=True))
        model, meta = load_model(Path(tmp) / "model.safetensors")
        last = json.loads((Path(tmp) / HISTORY_FILE).read_text().splitlines()[-1])  # what a refit would ship
    probs, _ = predict(model, data.normalizer.apply(data.val.x))
    per_class = f1_score(data.val.y, probs.argmax(1), average=None)
    return {"macro_f1": float(per_class.mean()), "seconds": time.perf_counter() - t0, "best_epoch": meta.get("epoch"),
            "last_epoch_macro_f1": last.get("val_macro_f1"), "per_class": dict(zip(data.label_names, per_class.round(3).tolist())), "overrides": VARIANTS[name]}


MINIROCKET = {"minirocket": {}, "minirocket_s50": {"stride": 50}}  # the reference at each window stride


def run_minirocket(name: str, data_dir: Path) -> dict:
    data = prepare(build_config(ROOT / "configs" / "hapt6.json", **{**COMMON, **MINIROCKET[name]}), data_dir)
    t0 = time.perf_counter()
    pred, _ = minirocket_predict(data.normalizer, data.train.x, data.train.y, data.val.x)
    per_class = f1_score(data.val.y, pred, average=None)
    return {"macro_f1": float(per_class.mean()), "seconds": time.perf_counter() - t0, "best_epoch": "–",
            "per_class": dict(zip(data.label_names, per_class.round(3).tolist())), "overrides": "aeon, 10k kernels"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated: {', '.join([*VARIANTS, *MINIROCKET])}")
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0, help="training seed (the validation subjects stay those of seed 0)")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    fetch("uci-hapt", from_path=args.from_path, data_dir=args.data_dir)
    lines = ["| variant | changes | validation macro-F1 | SIT / STAND F1 | best epoch | seconds |", "|---|---|---|---|---|---|"]
    for name in args.variants.split(","):
        r = run_minirocket(name, args.data_dir) if name in MINIROCKET else run_variant(name, args.data_dir, args.seed)
        print(json.dumps({name: r}), flush=True)
        lines.append(f"| {name} (seed {args.seed}) | `{json.dumps(r['overrides'])}` | {r['macro_f1']:.3f} | "
                     f"{r['per_class']['SITTING']:.2f} / {r['per_class']['STANDING']:.2f} | {r['best_epoch']} | {r['seconds']:.0f} |")
    table = "\n".join(lines)
    publish("Training recipe ablation: HAPT-6, validation subjects only", table, append=not args.no_append)
    return 0


if __name__ == "__main__":
    sys.exit(main())

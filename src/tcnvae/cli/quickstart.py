"""`tcnvae quickstart`: the main job in one command, with progress and a summary table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from tcnvae.cli.common import MODELS_HELP, command_name
from tcnvae.model.presets import PRESETS
from tcnvae.train.config import build_config

# Sized to stay under 10 minutes on 2 CPU cores even while another 2-thread job shares them: on a
# quiet machine 12 epochs of `watch` took 3.5 min (4.5 with install), which doubles when shared;
# 8 epochs leave room (the cosine schedule still runs to its end).
DEFAULTS = {"watch": {"preset": "deep_bn_micro_lags", "epochs": 8, "max_train_windows": 0},
            "uci-hapt": {"preset": "deep_bn_micro_lags", "epochs": 6, "max_train_windows": 8000}}
TINY = {"preset": "tiny", "epochs": 2, "max_train_windows": 1500, "batch_size": 64, "lr": 3e-3, "val_subjects": 1}


def register(sub) -> None:
    p = sub.add_parser("quickstart", help="fetch real data, train, evaluate, release, export, verify (about 10 min)")
    p.add_argument("--data", choices=sorted(DEFAULTS), default=None,
                   help="dataset (default: watch, embedded in the seglearn package; uci-hapt when --from is given)")
    p.add_argument("--from", dest="from_path", type=Path, default=None, help="local copy of the dataset archive (default: fetch it)")
    p.add_argument("--models", type=Path, default=None, help=MODELS_HELP)
    p.add_argument("--runs", type=Path, default=Path("runs"), help="where run directories go (default: ./runs)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: "
                   + ", ".join(f"{d} {s['epochs']}" for d, s in DEFAULTS.items()) + f", --tiny {TINY['epochs']})")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help=f"model preset (default: {DEFAULTS['watch']['preset']}, --tiny {TINY['preset']})")
    p.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (tests use it)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tcnvae.quickstart import run_quickstart

    data = args.data or ("uci-hapt" if args.from_path else "watch")
    settings = {**DEFAULTS[data], **(TINY if args.tiny else {})}
    cfg = build_config(data=data, **{**settings, **{k: v for k, v in (("epochs", args.epochs),
                                                                        ("preset", args.preset)) if v}})
    bar = tqdm(total=None, unit="batch", dynamic_ncols=True, disable=None, leave=False)

    def on_stage(name: str, info: dict) -> None:
        tqdm.write(f"==> {name}: " + ", ".join(f"{k}={v}" for k, v in info.items()))

    def on_step(m: dict) -> None:
        if bar.total != m["steps"]:
            bar.reset(total=m["steps"])
        bar.set_description(f"epoch {m['epoch']}/{m['epochs']}")
        bar.set_postfix(loss=f"{m['loss']:.3f}", refresh=False)
        bar.update(1)

    def on_epoch(row: dict) -> None:
        tqdm.write(f"    epoch {row['epoch']:>3}  val macro-F1 {row['val_macro_f1']:.4f}  "
                   f"val acc {row['val_accuracy']:.4f}  {row['seconds']:.0f}s")

    try:
        summary = run_quickstart(cfg, args.models, args.runs, args.from_path, on_stage=on_stage,
                                 on_step=on_step, on_epoch=on_epoch)
    finally:
        bar.close()
    # The command as this shell can run it (`.venv/bin/tcnvae` unless the venv is activated).
    summary["serve"] = summary["serve"].replace("tcnvae", command_name(), 1)
    print(json.dumps(summary, indent=2) if args.json else _table(summary))
    return 0


def _table(s: dict) -> str:
    test, speed = s["test"], s["windows_per_s"]
    rows = [("release", s["ref"]),
            ("test accuracy (held-out subjects)", f"{test.get('accuracy', float('nan')):.4f}"),
            ("test macro-F1", f"{test.get('macro_f1', float('nan')):.4f}"),
            ("linear probe on latent", f"{test.get('linear_probe_accuracy', float('nan')):.4f}"),
            ("parity (fp32, INT8)", "pass" if s["parity_passed"] else "FAIL"),
            ("fp32 ONNX, 1 thread", f"{speed['fp32']:,.0f} windows/s"),
            ("INT8 ONNX, 1 thread", f"{speed['int8']:,.0f} windows/s"),
            ("training time", f"{s['train_seconds']:.0f} s"),
            ("total time", f"{s['total_seconds']:.0f} s")]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    return "\n".join(["", "quickstart summary", "-" * (width + 30), *lines, "",
                      f"serve it:  {s['serve']}", f"run dir:   {s['run_dir']}"])

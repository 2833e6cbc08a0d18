"""`tcnvae evaluate RUN_DIR|REF --data NAME --split test`: metrics and pictures on held-out subjects."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tcnvae.cli.common import MODELS_HELP
from tcnvae.evaluate import evaluate_model, write_evaluation
from tcnvae.train.prepare import split_windows


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a run directory or a released model on held-out subjects")
    p.add_argument("target", help="a run directory, or a registry reference like tcn_encoder@champion")
    p.add_argument("--data", required=True, help="dataset name(s), comma-separated")
    p.add_argument("--split", choices=("test", "train", "all"), default="test", help="which subjects to evaluate on")
    p.add_argument("--models", type=Path, default=None, help="for a REF: " + MODELS_HELP)
    p.add_argument("--out", type=Path, default=None, help="where to write eval_metrics.json and PNGs "
                   "(default: the run directory; for a REF eval/NAME-VERSION, since releases are immutable)")
    p.add_argument("--data-dir", type=Path, default=None, help="dataset cache (default: $TCNVAE_DATA, else ~/.cache/tcnvae)")
    p.set_defaults(func=run)


def _load(args: argparse.Namespace):
    target = Path(args.target)
    if target.is_dir():
        from tcnvae.data.normalize import Normalizer
        from tcnvae.model.checkpoint import load_model

        model, _ = load_model(target / "model.safetensors")
        return model, Normalizer.load(target / "normalization.json"), args.out or target
    from tcnvae.registry.store import Registry

    release = Registry(args.models).open(args.target)  # verifies checksums before loading
    out = args.out or Path("eval") / f"{release.name}-{release.version}"
    return release.load_model(), release.normalizer(), out


def run(args: argparse.Namespace) -> int:
    model, normalizer, out = _load(args)
    out.mkdir(parents=True, exist_ok=True)
    names = tuple(s for s in args.data.split(",") if s)
    test, train = split_windows(names, tuple(model.config.label_names), args.split, args.data_dir)
    metrics, z = evaluate_model(model, normalizer, test, train, args.split)
    write_evaluation(out, metrics, model, test, z)
    summary = {k: metrics.get(k) for k in ("n_windows", "accuracy", "macro_f1", "linear_probe_accuracy",
                                           "silhouette", "active_units")}
    print(json.dumps(summary, indent=2))
    print(f"wrote {out / 'eval_metrics.json'} and PNGs")
    return 0

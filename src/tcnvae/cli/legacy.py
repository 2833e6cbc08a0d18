"""`tcnvae legacy import`: bring back the seed system's v0.1.0 encoder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tcnvae.cli.common import MODELS_HELP


def register(sub) -> None:
    p = sub.add_parser("legacy", help="import the seed system's v0.1.0 encoder")
    lsub = p.add_subparsers(dest="legacy_cmd", required=True)
    imp = lsub.add_parser("import", help="import the seed encoder and prove parity with its ONNX")
    imp.add_argument("--from", dest="seed_dir", type=Path, default=None,
                     help="folder with the seed's .onnx, .pth and model_config.json (default: ../shared/legacy)")
    imp.add_argument("--models", type=Path, default=None, help=MODELS_HELP)
    imp.add_argument("--json", action="store_true", help="print the import report as JSON")
    imp.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from tcnvae.registry import legacy  # torch + onnx: imported only when the verb runs

    report = legacy.import_seed((args.seed_dir or legacy.SEED_DIR).resolve(), args.models)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for k, v in report.items():
            print(f"{k:>24}: {v}")
    return 0

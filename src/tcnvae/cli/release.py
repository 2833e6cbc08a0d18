"""`tcnvae release RUN_DIR`: publish a training run as a versioned, checksummed release."""

from __future__ import annotations

import argparse
from pathlib import Path

from tcnvae.cli.common import MODELS_HELP


def register(sub) -> None:
    p = sub.add_parser("release", help="release a training run into the model registry")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="output folder of `tcnvae train`")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--version", help="exact version X.Y.Z, refused if it exists (default: the next minor version)")
    which.add_argument("--bump", choices=("major", "minor", "patch"), help="bump the latest version")
    p.add_argument("--name", default="tcn_encoder", help="model name (default: tcn_encoder)")
    p.add_argument("--models", type=Path, default=None, help=MODELS_HELP)
    p.add_argument("--promote", metavar="ALIAS", help="point ALIAS (e.g. champion) at the new release (default: no alias)")
    p.set_defaults(func=_release)


def _release(args: argparse.Namespace) -> int:
    from tcnvae.registry.release import create_release
    from tcnvae.registry.store import Registry

    registry = Registry(args.models)
    release = create_release(registry, args.run_dir, name=args.name, version=args.version, bump=args.bump)
    print(f"released {release.ref} at {release.path}")
    if args.promote:
        registry.promote(release.ref, args.promote)
        print(f"{args.name}@{args.promote} -> {release.version}")
    return 0

"""The `tcnvae` command: a thin shell over the library, one module per verb.

Each verb module exposes `register(subparsers)`; it parses arguments, calls library
functions, and owns progress bars and tables. User errors (TcnvaeError) become one line on
stderr and exit 1; a verb that is not built yet exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from tcnvae.cli.common import Parser
from tcnvae.errors import TcnvaeError

VERBS = ("data", "train", "evaluate", "release", "registry", "export", "serve",
         "gateway", "analyze", "legacy", "quickstart")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tcnvae", description=(
        "TCN-VAE for IMU activity and behaviour: data -> train -> registry -> export -> serve."))
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        importlib.import_module(f"tcnvae.cli.{verb}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except TcnvaeError as e:
        print(f"tcnvae {args.verb}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `tcnvae ... | head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def not_built(name: str):
    """Handler for a verb whose issue has not landed yet."""
    def run(_args: argparse.Namespace) -> int:
        print(f"tcnvae {name}: not built yet", file=sys.stderr)
        return 2
    return run

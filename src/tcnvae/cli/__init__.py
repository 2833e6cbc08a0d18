"""The `tcnvae` command: a thin shell over the library, one module per verb.

Each verb module exposes `register(subparsers)`; it parses arguments, calls library
functions, and owns progress bars and tables. User errors (TcnvaeError) become one line on
stderr and exit 1; a verb that is not built yet exits 2.

Only the verb being run is imported (`tcnvae serve` never loads the training code); `--help`
imports them all. A verb whose optional extra is missing (torch on the edge install) still
shows in the help and exits 1 with one line naming `pip install 'tcnvae[train]'`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from tcnvae.cli.common import Parser
from tcnvae.errors import TcnvaeError
from tcnvae.extras import MissingExtra, extra_for

VERBS = ("data", "train", "cv", "evaluate", "release", "registry", "export", "serve",
         "gateway", "analyze", "stream", "adapt", "legacy", "quickstart")


def build_parser(verbs: tuple[str, ...] = VERBS) -> argparse.ArgumentParser:
    parser = Parser(prog="tcnvae", description=(
        "TCN-VAE for IMU activity and behaviour: data -> train -> registry -> export -> serve."))
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in verbs:
        _register(sub, verb)
    return parser


def _register(sub, verb: str) -> None:
    """The verb's own parser, or a stand-in that reports the missing extra when it is run."""
    try:
        module = importlib.import_module(f"tcnvae.cli.{verb}")
    except ModuleNotFoundError as e:
        missing = extra_for(e)
        if missing is None:
            raise
        p = sub.add_parser(verb, add_help=False, help=f"(needs pip install 'tcnvae[{missing.extra}]')")
        p.set_defaults(func=_raise(missing), stand_in=True)  # its own flags are unknown here: ignored
        return
    module.register(sub)


def _raise(error: MissingExtra):
    def run(_args: argparse.Namespace) -> int:
        raise error
    return run


def _chosen_verb(argv: list[str]) -> tuple[str, ...]:
    """The verb named on the command line (only -v/--verbose may precede it), else every verb."""
    for arg in argv:
        if not arg.startswith("-"):
            return (arg,) if arg in VERBS else VERBS
    return VERBS


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_chosen_verb(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "stand_in", False):
        parser.parse_args(argv)  # argparse's own "unrecognized arguments" message and exit 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except TcnvaeError as e:
        print(f"tcnvae {args.verb}: error: {e}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as e:  # a lazy import of an optional extra (torch on the edge install)
        missing = extra_for(e)
        if missing is None:
            raise
        print(f"tcnvae {args.verb}: error: {missing}", file=sys.stderr)
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

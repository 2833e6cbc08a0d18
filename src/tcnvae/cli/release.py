"""`tcnvae release`."""

from __future__ import annotations

from tcnvae.cli import not_built


def register(sub) -> None:
    p = sub.add_parser("release", help="release (not built yet)")
    p.set_defaults(func=not_built("release"))

"""`tcnvae registry`."""

from __future__ import annotations

from tcnvae.cli import not_built


def register(sub) -> None:
    p = sub.add_parser("registry", help="registry (not built yet)")
    p.set_defaults(func=not_built("registry"))

"""`tcnvae data`."""

from __future__ import annotations

from tcnvae.cli import not_built


def register(sub) -> None:
    p = sub.add_parser("data", help="data (not built yet)")
    p.set_defaults(func=not_built("data"))

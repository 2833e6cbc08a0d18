"""`tcnvae serve`."""

from __future__ import annotations

from tcnvae.cli import not_built


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve (not built yet)")
    p.set_defaults(func=not_built("serve"))

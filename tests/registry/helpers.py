"""Small helpers shared by the registry tests: a private, tamperable copy of the fixture registry."""

from __future__ import annotations

import shutil
from pathlib import Path

from tcnvae.registry.store import Registry

REF = "tcn_encoder@v1.0.0"


def copy_registry(registry_root: Path, dst: Path) -> tuple[Registry, Path]:
    """(Registry over a copy, path of the copied v1.0.0 folder)."""
    shutil.copytree(registry_root, dst, symlinks=True)
    return Registry(dst), dst / "tcn_encoder" / "v1.0.0"

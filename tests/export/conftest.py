"""Fixtures for export tests: one full export of a copy of the session registry, shared by the module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tcnvae.export import export_release
from tcnvae.registry.store import Registry

REF = "tcn_encoder@champion"


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)  # shared 2-core machine


def copy_registry(registry_root: Path, dest: Path) -> Path:
    """A private copy of the session registry (export adds files, the fixture must stay pristine)."""
    shutil.copytree(registry_root, dest)
    return dest


@pytest.fixture(scope="session")
def exported(registry_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """{"root", "release", "summary"} after a full export (INT8 included) of tcn_encoder@champion."""
    root = copy_registry(registry_root, tmp_path_factory.mktemp("export") / "models")
    summary = export_release(Registry(root), REF, int8=True)
    return {"root": root, "release": Registry(root).open(REF), "summary": summary}

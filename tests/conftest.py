"""Shared fixtures: a run directory and a registry with a released model.

`run_dir` is the output of a real short training on the `watch` dataset once training
exists (see tests/support.py); every test that needs a model uses these fixtures so the
expensive part runs once per session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import support

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Never touch the user's ~/.cache in tests.
    os.environ.setdefault("TCNVAE_DATA", str(tmp_path_factory.mktemp("tcnvae-data")))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED.resolve()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run directory (weights, config, normalization, labels, metrics, samples)."""
    return support.make_run_dir(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="session")
def registry_root(tmp_path_factory: pytest.TempPathFactory, run_dir: Path) -> Path:
    """A registry holding tcn_encoder@v1.0.0 (alias champion) released from `run_dir`.

    Session-wide and shared: tests must not modify it; copy it (shutil.copytree) to tamper.
    """
    return support.make_registry(tmp_path_factory.mktemp("models"), run_dir)

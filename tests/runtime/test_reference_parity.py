"""Start-up parity against export/reference_outputs.npz: passes on a shipped release, refuses a wrong one.

A copy of the shipped champion is the release under test; tampered copies get their SHA256SUMS
rewritten with the registry's own functions, so only the parity check stands between them and
serving.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tcnvae.registry.checksums import compute_sums, write_sums
from tcnvae.registry.reference import REFERENCE_FILE, ReferenceError, encode_reference, read_reference
from tcnvae.registry.store import Registry
from tcnvae.runtime.engine import PARITY_ATOL, Engine
from tcnvae.runtime.errors import EngineError

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "tcn_encoder"


@pytest.fixture()
def release_copy(tmp_path: Path):
    version = json.loads((SHIPPED / "aliases.json").read_text())["champion"]
    shutil.copytree(SHIPPED / version, tmp_path / "tcn_encoder" / version)
    registry = Registry(tmp_path)
    return registry, f"tcn_encoder@{version}", tmp_path / "tcn_encoder" / version


def _resum(folder: Path) -> None:
    write_sums(folder, compute_sums(folder))


def test_shipped_release_passes_both_checks(release_copy) -> None:
    registry, ref, _ = release_copy
    engine = Engine.from_release(registry.open(ref))
    assert set(engine.parity) == {"reference", "torch"}
    assert all(0 <= v <= PARITY_ATOL for v in engine.parity.values())


def test_reference_off_by_more_than_the_bound_is_refused(release_copy) -> None:
    registry, ref, folder = release_copy
    outputs, source = read_reference(folder / "export" / REFERENCE_FILE)
    outputs["motif_scores"] = outputs["motif_scores"] + 10 * PARITY_ATOL
    (folder / "export" / REFERENCE_FILE).write_bytes(encode_reference(outputs, source))
    _resum(folder)
    with pytest.raises(EngineError, match=r"reference_outputs\.npz.*by 0\.01"):
        Engine.from_release(registry.open(ref))


def test_reference_of_another_shape_is_refused(release_copy) -> None:
    registry, ref, folder = release_copy
    outputs, source = read_reference(folder / "export" / REFERENCE_FILE)
    outputs = {k: v[:, :-1] if k == "activity_probs" else v for k, v in outputs.items()}
    (folder / "export" / REFERENCE_FILE).write_bytes(encode_reference(outputs, source))
    _resum(folder)
    with pytest.raises(EngineError, match="activity_probs of shape"):
        Engine.from_release(registry.open(ref))


def test_release_without_reference_falls_back_to_torch(release_copy, caplog) -> None:
    registry, ref, folder = release_copy
    (folder / "export" / REFERENCE_FILE).unlink()
    _resum(folder)
    engine = Engine.from_release(registry.open(ref))
    assert set(engine.parity) == {"torch"}


def test_unreadable_reference_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / REFERENCE_FILE
    np.savez(bad, latent=np.zeros((2, 64), np.float32))
    with pytest.raises(ReferenceError, match=f"{REFERENCE_FILE}.*motif_scores"):
        read_reference(bad)


def test_without_reference_or_torch_the_engine_serves_and_says_parity_was_not_checked(release_copy) -> None:
    import subprocess
    import sys

    from tests.test_extras import BLOCK

    registry, ref, folder = release_copy
    (folder / "export" / REFERENCE_FILE).unlink()
    _resum(folder)
    code = BLOCK + f"""
import logging
logging.basicConfig(level=logging.WARNING)
from tcnvae.registry.store import Registry
from tcnvae.runtime.engine import Engine
engine = Engine.from_release(Registry({str(registry.root)!r}).open({ref!r}))
print("parity", engine.parity)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "parity {}" in proc.stdout
    assert "start-up parity NOT checked" in proc.stderr and "tcnvae[train]" in proc.stderr

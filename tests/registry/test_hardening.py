"""Registry hardening (issue 17): symlinked versions, pickled arrays, tar bombs, a CHANGELOG that
survives a kill, and staging folders that never pile up."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tcnvae.cli import main as tcnvae_main
from tcnvae.registry import pack as pack_module
from tcnvae.registry.checksums import compute_sums, write_sums
from tcnvae.registry.pack import pack, unpack
from tcnvae.registry.store import Registry, RegistryError
from tests.registry.helpers import REF, copy_registry


def test_a_version_folder_that_is_a_symlink_fails_verify_and_open(registry_root: Path, tmp_path: Path) -> None:
    reg, version_dir = copy_registry(registry_root, tmp_path / "models")
    outside = tmp_path / "outside" / "v1.0.0"
    shutil.move(version_dir, outside)
    version_dir.symlink_to(outside)
    _, report = reg.verify(REF)
    assert not report.ok and "tcn_encoder/v1.0.0 is a symlink" in report.problems()[0]
    with pytest.raises(RegistryError, match="symlink"):
        reg.open(REF)
    assert tcnvae_main(["registry", "verify", REF, "--models", str(reg.root)]) == 1


def test_a_model_folder_that_is_a_symlink_fails_verify(registry_root: Path, tmp_path: Path) -> None:
    shutil.copytree(registry_root / "tcn_encoder", tmp_path / "elsewhere" / "tcn_encoder")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tcn_encoder").symlink_to(tmp_path / "elsewhere" / "tcn_encoder")
    _, report = Registry(tmp_path / "models").verify(REF)
    assert not report.ok and "tcn_encoder is a symlink" in " ".join(report.problems())


@pytest.mark.parametrize("rel", ["samples/calibration.npy", "samples/heldout.npz"])
def test_a_pickled_array_with_fixed_sums_fails_verify_promote_and_pack(registry_root: Path, tmp_path: Path,
                                                                      rel: str) -> None:
    reg, version_dir = copy_registry(registry_root, tmp_path / "models")
    evil = np.array([{"not": "numbers"}], dtype=object)
    if rel.endswith(".npz"):
        np.savez(version_dir / rel, x=evil)
    else:
        np.save(version_dir / rel, evil, allow_pickle=True)
    write_sums(version_dir, compute_sums(version_dir))  # the attacker fixes SHA256SUMS too
    _, report = reg.verify(REF)
    assert not report.ok and any(rel in m and "Python objects" in m for m in report.malformed), report.problems()
    with pytest.raises(RegistryError, match="Python objects"):
        reg.promote(REF, "candidate")
    with pytest.raises(RegistryError, match="Python objects"):
        pack(reg, REF, tmp_path / "dist")


def _tar_with(path: Path, entries: list[tuple[str, int, bytes | None]]) -> Path:
    """A .tar.gz whose entries declare `size`; data (or zeros streamed) fills them."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, size, data in entries:
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(data) if data is not None else _Zeros(size))
    return path


class _Zeros(io.RawIOBase):
    """size zero bytes, streamed (a gzip bomb is built without holding it in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(buf), self.left)
        buf[:n] = bytes(n)
        self.left -= n
        return n


def test_unpack_refuses_a_gzip_bomb_before_writing(tmp_path: Path) -> None:
    bomb = _tar_with(tmp_path / "bomb.tar.gz", [("tcn_encoder/v9.0.0/labels.json", 2, b"{}"),
                                                ("tcn_encoder/v9.0.0/samples/zeros.npy", 64 << 20, None)])
    target = Registry(tmp_path / "models")
    with pytest.raises(RegistryError, match="compression bomb"):
        unpack(target, bomb)
    assert target.versions("tcn_encoder") == [] and not list((tmp_path / "models").rglob("*.npy"))


def test_unpack_refuses_an_entry_over_the_size_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_module, "MAX_ENTRY_BYTES", 1 << 20)  # a small budget, same rule
    big = _tar_with(tmp_path / "big.tar.gz", [("tcn_encoder/v9.0.0/full.safetensors", 2 << 20, os.urandom(2 << 20))])
    with pytest.raises(RegistryError, match="over the 1048576-byte limit per file"):
        unpack(Registry(tmp_path / "models"), big)
    monkeypatch.setattr(pack_module, "MAX_TOTAL_BYTES", 1 << 20)
    monkeypatch.setattr(pack_module, "MAX_ENTRY_BYTES", 1 << 30)
    with pytest.raises(RegistryError, match="over the 1048576-byte limit"):
        unpack(Registry(tmp_path / "models"), big)


def test_unpack_refuses_a_sparse_entry(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("tcn_encoder/v9.0.0/labels.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    data = bytearray(raw.getvalue())
    data[156] = ord("S")  # typeflag GNU sparse
    data[148:156] = b" " * 8  # recompute the header checksum
    data[148:155] = f"{sum(data[:512]):06o}\0".encode()
    (tmp_path / "sparse.tar.gz").write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(RegistryError, match="sparse|link, device"):
        unpack(Registry(tmp_path / "models"), tmp_path / "sparse.tar.gz")


KILL_AFTER_RENAME = """
import os, sys
from tcnvae.registry.store import Registry
reg = Registry(sys.argv[1])
reg.sync_changelog = lambda: os.kill(os.getpid(), 9)  # SIGKILL right after the atomic rename
staging = reg.staging_dir("tcn_encoder")
(staging / "labels.json").write_text('{"labels": ["a"]}')
reg.publish(staging, "tcn_encoder", "v2.0.0", "- killed right after the rename")
"""

KILL_WHILE_STAGING = """
import os, sys
from tcnvae.registry.store import Registry
staging = Registry(sys.argv[1]).staging_dir("tcn_encoder")
(staging / "encoder.safetensors").write_bytes(b"half")
os.kill(os.getpid(), 9)
"""


def test_a_release_killed_after_the_rename_gets_its_changelog_entry(registry_root: Path, tmp_path: Path) -> None:
    reg, _ = copy_registry(registry_root, tmp_path / "models")
    done = subprocess.run([sys.executable, "-c", KILL_AFTER_RENAME, str(reg.root)])
    assert done.returncode == -9 and "v2.0.0" in reg.versions("tcn_encoder")
    assert "tcn_encoder@v2.0.0" not in (reg.root / "CHANGELOG.md").read_text()
    assert tcnvae_main(["registry", "verify", "--fix", "--models", str(reg.root)]) == 0
    log = (reg.root / "CHANGELOG.md").read_text()
    assert "## tcn_encoder@v2.0.0" in log and "killed right after the rename" in log
    assert log.index("tcn_encoder@v2.0.0") < log.index("tcn_encoder@v1.0.0")  # newest first
    assert reg.sync_changelog() == []  # idempotent


def test_staging_left_by_a_killed_release_is_removed(registry_root: Path, tmp_path: Path) -> None:
    reg, _ = copy_registry(registry_root, tmp_path / "models")
    for _ in range(2):  # the second killed release already removes the first one's staging
        assert subprocess.run([sys.executable, "-c", KILL_WHILE_STAGING, str(reg.root)]).returncode == -9
        assert len(list((reg.root / "tcn_encoder").glob(".staging-*"))) == 1
    assert tcnvae_main(["registry", "verify", "--fix", "--models", str(reg.root)]) == 0
    assert not list((reg.root / "tcn_encoder").glob(".staging-*"))
    subprocess.run([sys.executable, "-c", KILL_WHILE_STAGING, str(reg.root)])
    mine = reg.staging_dir("tcn_encoder")  # the next release cleans up first, and keeps its own
    assert list((reg.root / "tcn_encoder").glob(".staging-*")) == [mine]
    shutil.rmtree(mine)

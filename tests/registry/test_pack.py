"""pack/unpack: a release travels as one tarball and arrives verified, or not at all."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from tcnvae.registry.pack import pack, unpack
from tcnvae.registry.release import describe
from tcnvae.registry.store import Registry, RegistryError
from tests.registry.helpers import REF, copy_registry


def test_release_pack_unpack_roundtrip(registry_root: Path, tmp_path: Path) -> None:
    reg = Registry(registry_root)
    assert [describe(reg, n, v)["version"] for n in reg.names() for v in reg.versions(n)] == ["v1.0.0"]
    assert reg.verify(REF)[1].ok
    tarball, sha = pack(reg, "tcn_encoder@champion", tmp_path / "dist")
    assert tarball.name == "tcn_encoder-v1.0.0.tar.gz" and sha.name == "tcn_encoder-v1.0.0.tar.gz.sha256"
    assert subprocess.run(["sha256sum", "-c", "--strict", sha.name], cwd=sha.parent).returncode == 0
    with tarfile.open(tarball) as tar:
        assert all(m.name.startswith("tcn_encoder/v1.0.0/") and m.isfile() for m in tar)
    elsewhere = Registry(tmp_path / "elsewhere")
    release = unpack(elsewhere, tarball)
    assert release.ref == REF and elsewhere.verify(REF)[1].ok
    assert (release.path / "SHA256SUMS").read_text() == (reg.open(REF).path / "SHA256SUMS").read_text()
    assert "unpacked from `tcn_encoder-v1.0.0.tar.gz`" in (elsewhere.root / "CHANGELOG.md").read_text()
    with pytest.raises(RegistryError, match="already exists"):
        unpack(elsewhere, tarball)


def test_pack_refuses_a_tampered_release(registry_root: Path, tmp_path: Path) -> None:
    reg, version_dir = copy_registry(registry_root, tmp_path / "models")
    (version_dir / "labels.json").write_text('{"labels": ["a", "b", "c"]}')
    with pytest.raises(RegistryError, match="changed: labels.json"):
        pack(reg, REF, tmp_path / "dist")
    assert not (tmp_path / "dist").exists()  # verified before anything was written


def test_unpack_checks_the_sidecar_sha256(registry_root: Path, tmp_path: Path) -> None:
    tarball, sha = pack(Registry(registry_root), REF, tmp_path / "dist")
    sha.write_text("0" * 64 + f"  {tarball.name}\n")
    target = Registry(tmp_path / "elsewhere")
    with pytest.raises(RegistryError, match="does not match"):
        unpack(target, tarball)
    assert target.versions("tcn_encoder") == []


def _evil_tar(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("tcn_encoder/v9.0.0/labels.json")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"{}"))
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 3 if kind == tarfile.REGTYPE else 0
    return info


EVIL = {
    "traversal": (_info("tcn_encoder/v9.0.0/../../../etc/evil"), "unsafe path"),
    "absolute": (_info("/tmp/evil"), "unsafe path"),
    "symlink": (_info("tcn_encoder/v9.0.0/link", tarfile.SYMTYPE, "/etc/passwd"), "link, device"),
    "hardlink": (_info("tcn_encoder/v9.0.0/hard", tarfile.LNKTYPE, "/etc/passwd"), "link, device"),
    "device": (_info("tcn_encoder/v9.0.0/dev", tarfile.CHRTYPE), "link, device"),
    "outside": (_info("other/v9.0.0/x"), "exactly one"),
}


@pytest.mark.parametrize("case", sorted(EVIL))
def test_unpack_refuses_unsafe_tarballs(tmp_path: Path, case: str) -> None:
    member, expected = EVIL[case]
    tarball = _evil_tar(tmp_path / "tcn_encoder-v9.0.0.tar.gz", member, b"bad")
    target = Registry(tmp_path / "models")
    with pytest.raises(RegistryError, match=expected):
        unpack(target, tarball)
    assert target.versions("tcn_encoder") == [] and target.versions("other") == []
    assert not (tmp_path / "etc").exists()


def test_unpack_refuses_a_tarball_whose_files_fail_verification(tmp_path: Path) -> None:
    tarball = _evil_tar(tmp_path / "t.tar.gz", _info("tcn_encoder/v9.0.0/SHA256SUMS"), b"abc")
    target = Registry(tmp_path / "models")
    with pytest.raises(RegistryError, match="failed verification"):
        unpack(target, tarball)
    assert target.versions("tcn_encoder") == []
    assert not list((tmp_path / "models" / "tcn_encoder").iterdir())


def test_unpack_refuses_garbage(tmp_path: Path) -> None:
    (tmp_path / "x.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(RegistryError, match="not a readable|nothing was installed"):
        unpack(Registry(tmp_path / "models"), tmp_path / "x.tar.gz")

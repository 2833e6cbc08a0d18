"""Verification fails closed: every tampering is refused with a message naming the file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch

from tcnvae.registry.checksums import compute_sums, write_sums
from tcnvae.registry.store import Registry, RegistryError
from tests.registry.helpers import REF, copy_registry

torch.set_num_threads(1)


def _flip_byte(v: Path) -> None:
    p = v / "encoder.safetensors"
    data = bytearray(p.read_bytes())
    data[-1] ^= 0xFF
    p.write_bytes(bytes(data))


def _truncate(v: Path) -> None:
    p = v / "full.safetensors"
    p.write_bytes(p.read_bytes()[:1000])


def _extra(v: Path) -> None:
    (v / "samples" / "notes.txt").write_text("hello")


def _missing(v: Path) -> None:
    (v / "labels.json").unlink()


def _symlink_out(v: Path) -> None:
    outside = v.parent.parent / "outside.json"
    outside.write_text((v / "motifs.json").read_text())
    (v / "motifs.json").unlink()
    os.symlink(outside, v / "motifs.json")  # same bytes, so only the link itself is wrong


def _fifo(v: Path) -> None:
    os.mkfifo(v / "samples" / "pipe")


CASES = {"tampered": (_flip_byte, "changed: encoder.safetensors"),
         "truncated": (_truncate, "changed: full.safetensors"),
         "extra": (_extra, "extra: samples/notes.txt"),
         "missing": (_missing, "missing: labels.json"),
         "symlink": (_symlink_out, "unsafe: motifs.json"),
         "fifo": (_fifo, "unsafe: samples/pipe")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_is_refused(registry_root: Path, tmp_path: Path, case: str) -> None:
    reg, version_dir = copy_registry(registry_root, tmp_path / "models")
    tamper, expected = CASES[case]
    tamper(version_dir)
    _, report = reg.verify(REF)
    assert not report.ok and expected in report.problems()
    with pytest.raises(RegistryError, match=expected):
        reg.open(REF)
    with pytest.raises(RegistryError, match="failed verification"):
        reg.promote(REF, "staging")


def test_pickle_named_safetensors_with_fresh_sums_is_refused(registry_root: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    reg, version_dir = copy_registry(registry_root, tmp_path / "models")
    torch.save(Registry(registry_root).open(REF).load_model().state_dict(), version_dir / "encoder.safetensors")
    write_sums(version_dir, compute_sums(version_dir))  # the attacker also fixes SHA256SUMS
    assert subprocess.run(["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS"], cwd=version_dir).returncode == 0

    def never(*_a, **_k):
        raise AssertionError("a weight file was read with pickle")

    monkeypatch.setattr(torch, "load", never)
    with pytest.raises(RegistryError, match=r"malformed: encoder\.safetensors \(a pickle"):
        reg.open(REF).load_model()


@pytest.mark.parametrize("length", [0x4B50, 0x4B50 + 0x10000, 0x180], ids=["PK", "PK-high", "0x80"])
def test_a_safetensors_header_length_that_looks_like_a_magic_number_is_accepted(tmp_path: Path, length: int) -> None:
    """The length bytes of a real file can read "PK" or 0x80; only a missing JSON header is a pickle."""
    from tcnvae.registry.store import safetensors_problem

    header = b'{"__metadata__":{"pad":""}}'
    header = header[:-3] + b"x" * (length - len(header)) + header[-3:]
    path = tmp_path / "w.safetensors"
    path.write_bytes(length.to_bytes(8, "little") + header)
    assert path.read_bytes()[:2] in (b"PK", b"\x80\x01")
    assert safetensors_problem(path) is None
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    assert "pickle" in safetensors_problem(path)


def test_sums_file_is_strict_sha256sum_format(registry_root: Path) -> None:
    folder = registry_root / "tcn_encoder" / "v1.0.0"
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    assert lines == sorted(lines, key=lambda s: s[66:])
    assert all(len(line.split("  ")[0]) == 64 and line[64:66] == "  " for line in lines)
    assert "SHA256SUMS" not in (folder / "SHA256SUMS").read_text()

"""SHA256SUMS files in the format `sha256sum -c --strict` accepts, and fail-closed verification."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUMS_FILE = "SHA256SUMS"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_sums(folder: Path) -> dict[str, str]:
    """relative path -> hex digest, as written by write_sums (or sha256sum in text mode)."""
    sums: dict[str, str] = {}
    for line in (folder / SUMS_FILE).read_text().splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        sums[name.lstrip("*")] = digest
    return sums


def write_sums(folder: Path, sums: dict[str, str]) -> None:
    """Atomically replace folder/SHA256SUMS."""
    for name in sums:
        if any(c in name for c in "\\\n\r"):  # sha256sum would escape these; we refuse them
            raise ValueError(f"{folder / name}: file names with backslashes or newlines cannot be checksummed")
    text = "".join(f"{sums[name]}  {name}\n" for name in sorted(sums))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{SUMS_FILE}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, folder / SUMS_FILE)


def compute_sums(folder: Path) -> dict[str, str]:
    """Digest of every regular file under folder except SHA256SUMS itself."""
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.relative_to(folder).as_posix() != SUMS_FILE
    }


@dataclass
class VerifyReport:
    folder: Path
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)  # symlinks, paths escaping the folder
    malformed: list[str] = field(default_factory=list)  # "file (why)": right checksum, wrong format

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed or self.unsafe or self.malformed)

    def problems(self) -> list[str]:
        return ([f"missing: {p}" for p in self.missing] + [f"extra: {p}" for p in self.extra]
                + [f"changed: {p}" for p in self.changed] + [f"unsafe: {p}" for p in self.unsafe]
                + [f"malformed: {p}" for p in self.malformed])


def verify_folder(folder: Path) -> VerifyReport:
    """Recompute every checksum; report missing, extra, changed files and symlinks. Fails closed."""
    report = VerifyReport(folder)
    if not (folder / SUMS_FILE).is_file():
        report.missing.append(SUMS_FILE)
        return report
    try:
        expected = read_sums(folder)
    except (OSError, UnicodeDecodeError) as e:
        report.malformed.append(f"{SUMS_FILE} (unreadable: {e})")
        return report
    root = folder.resolve()
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink() or not p.resolve().is_relative_to(root) or not (p.is_file() or p.is_dir()):
            report.unsafe.append(rel)  # links, devices, FIFOs and sockets never belong in a release
        elif p.is_file() and rel != SUMS_FILE and rel not in expected:
            report.extra.append(rel)
    for rel, digest in expected.items():
        p = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            report.unsafe.append(rel)
        elif p.is_symlink():
            continue  # already reported as unsafe above
        elif not p.is_file():
            report.missing.append(rel)
        elif sha256_file(p) != digest:
            report.changed.append(rel)
    return report

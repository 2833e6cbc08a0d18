"""SHA256SUMS files in the format `sha256sum -c --strict` accepts, and fail-closed verification."""

from __future__ import annotations

import hashlib
import json
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


def verify_release(folder: Path) -> VerifyReport:
    """verify_folder plus a format check: a file named .safetensors must be safetensors.

    The format check matters when SHA256SUMS was regenerated after a swap: a pickle renamed
    to encoder.safetensors then has a "valid" checksum, and must still never reach a loader.
    """
    report = verify_folder(folder)
    for p in sorted(folder.rglob("*.safetensors")):
        if p.is_file() and not p.is_symlink():
            why = safetensors_problem(p)
            if why:
                report.malformed.append(f"{p.relative_to(folder).as_posix()} ({why})")
    return report


def safetensors_problem(path: Path) -> str | None:
    """Why `path` is not a well-formed safetensors file, read from its header only; None if it is."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(9)
        # A safetensors file is an 8-byte header length, then the JSON header. Its length bytes
        # may well read "PK" or 0x80 (a 19,280-byte header does), so the pickle/zip magic is
        # only a diagnosis once the JSON is missing.
        if head[8:9] != b"{":
            if head[:2] == b"PK" or head[:1] == b"\x80":
                return "a pickle/zip file (torch.save), not safetensors; it is never unpickled"
            return "truncated: no safetensors header" if len(head) < 9 else "no safetensors JSON header"
        f.seek(8)
        n = int.from_bytes(head[:8], "little")
        if n < 2 or 8 + n > size:
            return f"header length {n} does not fit a file of {size} bytes"
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return f"unreadable safetensors header ({e})"
    if not isinstance(header, dict):
        return "safetensors header is not a JSON object"
    ends = [t.get("data_offsets", [0, 0])[1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)]
    if 8 + n + max(ends, default=0) != size:
        return f"tensor data ends at {8 + n + max(ends, default=0)} but the file has {size} bytes"
    return None

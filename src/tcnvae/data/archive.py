"""Uniform read access to a dataset as distributed: a zip, a tar(.gz), a directory or one file.

Official archives are sometimes nested under a top folder or wrapped in an outer zip;
`Archive.locate` finds the folder that holds a required file so parsers can use the
official relative paths.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from tcnvae.data.errors import DataError


class Archive:
    """Read-only view of members by relative posix path."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._names: list[str] = []
        if not self.path.exists():
            raise DataError("no such file or directory", self.path)
        try:
            self._open()
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise DataError(f"not a readable archive (truncated or corrupt?): {exc}", self.path) from exc

    def _open(self) -> None:
        if self.path.is_dir():
            self._names = sorted(
                p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
            )
        elif zipfile.is_zipfile(self.path) or self.path.suffix.lower() == ".zip":
            self._zip = zipfile.ZipFile(self.path)
            self._names = [n for n in self._zip.namelist() if not n.endswith("/")]
            inner = [n for n in self._names if n.lower().endswith(".zip")]
            if len(inner) == 1 and len(self._names) <= 3:  # an outer wrapper around the real zip
                self._zip = zipfile.ZipFile(io.BytesIO(self._zip.read(inner[0])))
                self._names = [n for n in self._zip.namelist() if not n.endswith("/")]
        elif tarfile.is_tarfile(self.path):
            self._tar = tarfile.open(self.path)
            self._names = [m.name for m in self._tar.getmembers() if m.isfile()]
        else:
            self._names = [self.path.name]
        self._names = [n for n in self._names if "__MACOSX" not in n]

    def close(self) -> None:
        for handle in (self._zip, self._tar):
            if handle is not None:
                handle.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._names)

    def locate(self, required: str) -> str:
        """The prefix ('' or 'top/') under which `required` exists; DataError if nowhere."""
        for name in self._names:
            if name == required:
                return ""
            if name.endswith("/" + required):
                return name[: -len(required)]
        raise DataError(f"required file '{required}' is missing", self.path)

    def read_bytes(self, name: str) -> bytes:
        label = f"{self.path}!{name}" if not self.path.is_dir() else str(self.path / name)
        try:
            if self._zip is not None:
                return self._zip.read(name)
            if self._tar is not None:
                handle = self._tar.extractfile(name)
                if handle is None:
                    raise DataError("not a regular file", label)
                return handle.read()
            if self.path.is_dir():
                return (self.path / name).read_bytes()
            return self.path.read_bytes()
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, KeyError) as exc:
            raise DataError(f"cannot read member (truncated or corrupt?): {exc}", label) from exc

    def read_text(self, name: str) -> str:
        return self.read_bytes(name).decode("utf-8", errors="replace")

    def label(self, name: str) -> str:
        """How to name a member in error messages."""
        return str(self.path / name) if self.path.is_dir() else f"{self.path}!{name}"

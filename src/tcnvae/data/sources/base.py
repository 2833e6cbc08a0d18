"""The interface every dataset source implements, so the fetcher, cache and CLI stay generic."""

from __future__ import annotations

import abc
from pathlib import Path

from tcnvae.data.recording import DropReport, Recording


class Source(abc.ABC):
    """One dataset in its official distribution format.

    `parse` returns canonical recordings: SI units, contract channel order, RATE_HZ,
    subjects named "<source name>:<native id>" so they stay unique across sources.
    """

    name: str = ""
    description: str = ""
    url: str | None = None  # official download URL
    sha256: str | None = None  # pinned hash of the official file, or None when not pinned
    license: str = ""
    label_names: tuple[str, ...] = ()
    label_meanings: dict[str, str] = {}  # abbreviated label -> plain words, for plot keys
    native_rate_hz: float | None = None
    parser_version: int = 1  # bump when parse output changes; part of the cache key

    @abc.abstractmethod
    def verify(self, path: Path) -> None:
        """Structure check (required files, columns, label rows); raises DataError."""

    @abc.abstractmethod
    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        """Canonical recordings plus counts of what was skipped, interpolated or dropped."""

    def parse(self, path: Path) -> list[Recording]:
        """Canonical recordings (SI units, RATE_HZ)."""
        return self.parse_with_report(Path(path))[0]

    def official_split(self) -> tuple[list[str], list[str]] | None:
        """(train subjects, test subjects) of the dataset's published protocol, if any."""
        return None

    def test_subjects(self, path: Path | None) -> list[str] | None:
        """The subjects held out for testing by default: the official split's, or (a CSV folder)
        what the fetched copy at `path` declares; None when the dataset has neither."""
        split = self.official_split()
        return list(split[1]) if split is not None else None

    def default_path(self) -> Path | None:
        """A local copy that needs no download (e.g. shipped in a package), if any."""
        return None

    def cache_tag(self) -> str:
        """Everything besides the file hash that changes `parse` output."""
        return f"v{self.parser_version}"

    def subject_id(self, native: object) -> str:
        return f"{self.name}:{native}"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "url": self.url,
            "sha256": self.sha256,
            "license": self.license,
            "native_rate_hz": self.native_rate_hz,
            "classes": list(self.label_names),
        }

"""The table of dataset sources: name -> Source, each reading its official distribution format."""

from __future__ import annotations

from tcnvae.data.errors import DataError
from tcnvae.data.sources.base import Source
from tcnvae.data.sources.csv_folder import CsvFolder
from tcnvae.data.sources.pamap2 import Pamap2
from tcnvae.data.sources.uci_hapt import UciHapt
from tcnvae.data.sources.watch import Watch
from tcnvae.data.sources.wisdm import Wisdm

SOURCES: dict[str, Source] = {s.name: s for s in (Watch(), UciHapt(), Pamap2(), Wisdm(), CsvFolder())}


def get_source(name: str) -> Source:
    """The source called `name`; DataError listing the known names otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(SOURCES)}", field="name") from None


__all__ = ["SOURCES", "Source", "get_source"]

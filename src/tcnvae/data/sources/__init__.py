"""The table of dataset sources: name -> Source, each reading its official distribution format."""

from __future__ import annotations

from tcnvae.data.errors import DataError
from tcnvae.data.sources.base import Source
from tcnvae.data.sources.csv_folder import CsvFolder
from tcnvae.data.sources.pamap2 import Pamap2
from tcnvae.data.sources.uci_hapt import UciHapt
from tcnvae.data.sources.watch import Watch
from tcnvae.data.sources.wisdm import Wisdm
from tcnvae.errors import one_of

SOURCES: dict[str, Source] = {s.name: s for s in (Watch(), UciHapt(), Pamap2(), Wisdm(), CsvFolder())}


def get_source(name: str) -> Source:
    """The source called `name`; DataError listing the known names otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {one_of(SOURCES)}", field="name") from None


def label_key(labels: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Plain-word meanings of the abbreviated labels among `labels` (e.g. watch's PEN -> pendulum).

    A label may carry its source as `source:label` (several datasets in one model).
    """
    key = {}
    for label in labels:
        source, _, short = label.rpartition(":")
        for s in ([SOURCES[source]] if source in SOURCES else SOURCES.values()):
            if short in s.label_meanings:
                key[label] = s.label_meanings[short]
                break
    return key


__all__ = ["SOURCES", "Source", "get_source", "label_key"]

"""Fast reading of whitespace/comma separated numeric tables with errors that name the line."""

from __future__ import annotations

import re
import warnings

import numpy as np

from tcnvae.data.errors import DataError

_SPLIT = re.compile(r"[\s,]+")


def read_numeric(text: str, label: str, ncols: int) -> np.ndarray:
    """Parse `text` (space or comma separated) into float64 [rows, ncols]; blank lines are ignored.

    Fast path with numpy; on any mismatch, a line-by-line scan finds the first bad line
    and raises DataError naming `label` and the 1-based line number.
    """
    flat = _fast(text)
    if flat is not None and flat.size % ncols == 0:
        arr = flat.reshape(-1, ncols)
        if arr.shape[0] == len(_NONBLANK.findall(text)):
            return arr
    _raise_first_bad(text, label, ncols)
    raise DataError("could not parse numeric table", label)  # pragma: no cover - the scan finds one


_NONBLANK = re.compile(r"^[ \t]*[^\s]", flags=re.MULTILINE)


def _fast(text: str) -> np.ndarray | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns (instead of raising) on a bad token
        try:
            return np.fromstring(text.replace(",", " ") if "," in text else text, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None


def _raise_first_bad(text: str, label: str, ncols: int) -> None:
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        cells = [c for c in _SPLIT.split(s) if c]
        if len(cells) != ncols:
            raise DataError(f"expected {ncols} columns, found {len(cells)}", label, i)
        for j, cell in enumerate(cells, start=1):
            try:
                float(cell)
            except ValueError:
                raise DataError(f"non-numeric cell {cell!r}", label, i, f"column {j}") from None


"""One CSV of the documented format as columns: a columnar fast path, and the exact slow one.

    table = read_table(arc.read_bytes(member), arc.label(member))
    table.floats("ax", blank_ok=True)      # float64 [N], NaN for a blank cell
    values, codes = table.categories("label")   # stripped strings, one code per row
    table.line(k)                          # the file's line number of data row k

The fast path parses with pyarrow's multithreaded CSV reader (about 100x Python's `csv`
module, and a float64 column per channel instead of a Python string per cell). It takes a
file only when it can reproduce the slow path exactly: a plain header line, no empty line
before the data ends, every channel and `t` cell a number (or a blank channel cell), no cell
that needs Python's unquoting rules. Anything else (a non-numeric cell, a short row, a quote
in a label, pyarrow not installed) goes to the slow path, whose `csv` reader and per-cell
`float()` produce today's errors naming the file, line and column. The slow path parses a
column only when it is asked for it, so errors surface in the same order as they always did.
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Protocol

import numpy as np

from tcnvae.contract import CHANNELS
from tcnvae.data.errors import DataError
from tcnvae.errors import one_of

log = logging.getLogger(__name__)
EXTRA_COLUMNS = {"t", "label", "subject"}
TEXT_COLUMNS = ("label", "subject")
NUMERIC_COLUMNS = frozenset(CHANNELS) | {"t"}
MAX_CELL_CHARS = csv.field_size_limit()  # Python's csv limit (131,072); a number needs a few dozen


class CsvTable(Protocol):
    header: list[str]

    def __len__(self) -> int: ...

    def floats(self, name: str, blank_ok: bool) -> np.ndarray: ...

    def categories(self, name: str) -> tuple[list[str], np.ndarray]: ...

    def line(self, k: int) -> int: ...


def read_table(data: bytes, label: str) -> CsvTable:
    """The CSV in `data` (one header row), fast when possible; DataError naming file/line/column."""
    try:
        table = _fast(data)
    except Exception as exc:  # noqa: BLE001 - any doubt about the fast path: the exact slow one decides
        log.debug("%s: columnar reader declined (%s); reading row by row", label, exc)
        table = None
    if table is not None:
        check_header(table.header, label)
        return table
    return RowTable(*read_rows(data.decode("utf-8", errors="replace"), label), label)


def check_header(header: list[str], label: str) -> None:
    for name in header:
        if name not in CHANNELS and name not in EXTRA_COLUMNS:
            raise DataError(f"unknown column {name!r}; allowed columns: {one_of(CHANNELS + tuple(sorted(EXTRA_COLUMNS)))}",
                            label, 1, name)
    if not any(h in CHANNELS for h in header):
        raise DataError("no channel column (need at least one of ax..mz)", label, 1)


def read_rows(text: str, label: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The slow path's parse: (stripped header, [(line number, cells)] of the non-blank rows)."""
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:  # a cell over MAX_CELL_CHARS, a NUL byte, ...
        raise DataError(f"unreadable CSV ({exc}); cells are limited to {MAX_CELL_CHARS} characters",
                        label, reader.line_num) from None
    if not rows:
        raise DataError("empty file (a header row is required)", label, 1)
    header = [h.strip() for h in rows[0]]
    check_header(header, label)
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    for i, row in body:
        if len(row) != len(header):
            raise DataError(f"expected {len(header)} columns, found {len(row)}", label, i)
    if not body:
        raise DataError("no data rows", label, 2)
    return header, body


class RowTable:
    """The slow path: Python's csv rows, each cell parsed with float() when its column is asked for."""

    def __init__(self, header: list[str], body: list[tuple[int, list[str]]], label: str) -> None:
        self.header, self.body, self.label = header, body, label

    def __len__(self) -> int:
        return len(self.body)

    def floats(self, name: str, blank_ok: bool) -> np.ndarray:
        j = self.header.index(name)
        out = np.empty(len(self.body))
        for k, (lineno, row) in enumerate(self.body):
            cell = row[j].strip()
            try:
                out[k] = float(cell) if cell or not blank_ok else np.nan
            except ValueError:
                raise DataError(f"non-numeric cell {cell!r}", self.label, lineno, name) from None
        return out

    def categories(self, name: str) -> tuple[list[str], np.ndarray]:
        j = self.header.index(name)
        index: dict[str, int] = {}
        codes = np.array([index.setdefault(row[j].strip(), len(index)) for _, row in self.body], dtype=np.int64)
        return list(index), codes

    def line(self, k: int) -> int:
        return self.body[k][0]


class ColumnTable:
    """The fast path's result: every column already parsed, blank rows dropped."""

    def __init__(self, header: list[str], numbers: dict[str, np.ndarray], texts: dict[str, tuple[list[str], np.ndarray]],
                 lines: np.ndarray) -> None:
        self.header, self.numbers, self.texts, self.lines = header, numbers, texts, lines

    def __len__(self) -> int:
        return len(self.lines)

    def floats(self, name: str, blank_ok: bool) -> np.ndarray:
        return self.numbers[name]  # `t` holds no blank cell here (that file went to the slow path)

    def categories(self, name: str) -> tuple[list[str], np.ndarray]:
        return self.texts[name]

    def line(self, k: int) -> int:
        return int(self.lines[k])


def _fast(data: bytes) -> ColumnTable | None:
    """pyarrow's reader where it matches the slow path exactly; None where it might not."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:  # an install without the [train] extra: the slow path is complete on its own
        return None
    cut = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    if not cut:
        return None
    first = data[:min(cut)].decode("utf-8", errors="replace")
    if '"' in first or not first.strip():  # a quoted or blank header: the csv module's rules decide
        return None
    header = [h.strip() for h in first.split(",")]
    end = len(data)
    while end and data[end - 1] in b"\r\n":
        end -= 1
    longest, empty_line = _scan(data, end)
    # The csv module refuses a cell that long (pyarrow would not); an empty line inside the data
    # would shift line numbers (pyarrow has no line count).
    if longest > MAX_CELL_CHARS or empty_line:
        return None
    names = [f"c{i}" for i in range(len(header))]
    types = {n: pa.float64() if h in NUMERIC_COLUMNS else pa.dictionary(pa.int32(), pa.string())
             for n, h in zip(names, header)}
    table = pcsv.read_csv(
        pa.py_buffer(data),
        read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pcsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True),
        convert_options=pcsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                            quoted_strings_can_be_null=False)).unify_dictionaries()
    numbers: dict[str, np.ndarray] = {}
    texts: dict[str, tuple[list[str], np.ndarray]] = {}
    blank = np.ones(table.num_rows, dtype=bool)
    for n, h in zip(names, header):
        col = table.column(n).combine_chunks()
        if h in NUMERIC_COLUMNS:
            values = col.to_numpy(zero_copy_only=False)  # nulls (blank cells) become NaN
            nulls = col.is_null().to_numpy(zero_copy_only=False)
            if h == "t" and nulls.any():
                return None  # a blank t: the slow path names its line
            blank &= nulls
            if h not in numbers:
                numbers[h] = values
        else:
            col = col if isinstance(col, pa.DictionaryArray) else col.dictionary_encode()
            raw = col.dictionary.to_pylist()
            if any('"' in v or len(v) > MAX_CELL_CHARS for v in raw):
                return None
            stripped = [v.strip() for v in raw]
            codes = col.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            blank &= np.array([not v for v in stripped], dtype=bool)[codes] if len(raw) else True
            if h not in texts:
                texts[h] = (stripped, codes)
    keep = ~blank
    if not keep.any():
        return None  # no data rows: the slow path says so
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    if not keep.all():
        lines = lines[keep]
        numbers = {h: v[keep] for h, v in numbers.items()}
        texts = {h: (v, c[keep]) for h, (v, c) in texts.items()}
    return ColumnTable(header, numbers, texts, lines)


def _scan(data: bytes, end: int, chunk: int = 1 << 22) -> tuple[int, bool]:
    """(longest line, whether data[:end] holds an empty line), in 4 MiB chunks without a copy.

    Lines end in "\n" or "\r\n"; a lone "\r" (also a line end to both readers) counts as an
    empty line here, so such a file goes to the slow path, which counts its lines right."""
    crs = data.count(b"\r", 0, end)
    if crs and crs != data.count(b"\r\n", 0, end):
        return 0, True
    longest, last, empty = 0, -1, False  # last: position of the previous "\n"
    for off in range(0, end, chunk):
        ends = np.flatnonzero(np.frombuffer(data, np.uint8, min(chunk, end - off), off) == 10) + off
        if not len(ends):
            continue
        gaps = np.diff(ends, prepend=last)
        longest = max(longest, int(gaps.max()))
        # "\n\n", or "\n\r\n" (an empty CRLF line); the file's first line is the header, never empty here
        empty = empty or bool((gaps[1 if last < 0 else 0:] <= 1 + (crs > 0)).any())
        last = int(ends[-1])
    return max(longest, end - last), empty

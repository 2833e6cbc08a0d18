"""The columnar CSV reader gives exactly what the row-by-row parser gives, on real HAPT
recordings, and every file it declines still gets the row-by-row parser's error."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tcnvae.data import csv_table
from tcnvae.data.csv_table import ColumnTable, RowTable, read_rows, read_table
from tcnvae.data.errors import DataError
from tcnvae.data.sources.csv_folder import CsvFolder
from tests.train.hapt_folder import write_hapt_folder

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def hapt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four real HAPT experiments; the last two with empty label cells (unlabelled), and a t
    column plus blank channel cells (missing samples) added to one file."""
    folder = write_hapt_folder(tmp_path_factory.mktemp("fast") / "rec", seconds=120.0, labelled_experiments=(0, 1))
    first = sorted(folder.glob("*.csv"))[0]
    lines = first.read_text().splitlines()
    rows = [f"{(i - 1) / 50:.2f}," + line for i, line in enumerate(lines) if i]
    for k in (100, 101, 2000):  # missing samples: a blank cell
        cells = rows[k].split(",")
        cells[2] = ""
        rows[k] = ",".join(cells)
    first.write_text("t," + lines[0] + "\r\n" + "\r\n".join(rows) + "\r\n")  # and Windows line ends
    return folder


def _slow(data: bytes, label: str = "f.csv") -> RowTable:
    return RowTable(*read_rows(data.decode("utf-8", errors="replace"), label), label)


def test_columns_equal_the_row_parser_on_real_hapt_files(hapt: Path) -> None:
    for path in sorted(hapt.glob("*.csv")):
        data = path.read_bytes()
        fast, slow = read_table(data, path.name), _slow(data)
        assert isinstance(fast, ColumnTable), path.name
        assert fast.header == slow.header and len(fast) == len(slow) > 5000
        for name in fast.header:
            if name == "label":
                (fv, fc), (sv, sc) = fast.categories(name), slow.categories(name)
                assert [fv[c] for c in fc] == [sv[c] for c in sc]
            else:
                np.testing.assert_array_equal(fast.floats(name, blank_ok=True), slow.floats(name, blank_ok=True))
        assert [fast.line(k) for k in range(len(fast))] == [slow.line(k) for k in range(len(slow))]


def test_a_fetched_folder_is_identical_with_either_parser(hapt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = CsvFolder().parse_with_report(hapt)
    monkeypatch.setattr(csv_table, "_fast", lambda data: None)  # the row-by-row parser only
    slow, _ = CsvFolder().parse_with_report(hapt)
    assert len(fast) == len(slow) > 0
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a.signals, b.signals)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert (a.subject, a.name, a.label_names, a.rate_hz) == (b.subject, b.name, b.label_names, b.rate_hz)
    assert any((r.labels >= 0).any() for r in fast) and any((r.labels < 0).any() for r in fast)


@pytest.mark.parametrize("change, where", [
    (lambda rows: rows.__setitem__(3000, rows[3000].replace(",", ",x", 1)), "non-numeric cell"),  # a bad cell
    (lambda rows: rows.__setitem__(3000, rows[3000] + ",1"), "expected 7 columns, found 8"),  # a long row
    (lambda rows: rows.insert(2500, ""), None),  # an empty line: skipped, later lines keep their numbers
    (lambda rows: rows.__setitem__(4000, ",,,,,,"), None),  # a row of blank cells: skipped
    (lambda rows: rows.__setitem__(0, '"ax",ay,az,gx,gy,gz,label'), None),  # a quoted header
    (lambda rows: rows.__setitem__(3000, rows[3000] + "_x"), None),  # a label the folder has not seen
])
def test_what_the_fast_path_declines_ends_as_the_row_parser_says(hapt: Path, tmp_path: Path, change, where) -> None:
    src = sorted(hapt.glob("*.csv"))[1]
    rows = src.read_text().splitlines()
    change(rows)
    data = ("\n".join(rows) + "\n").encode()
    label = "mine/" + src.name
    want, got = _outcome(lambda: _slow(data, label)), _outcome(lambda: read_table(data, label))
    assert got == want
    assert (where is None) == isinstance(want, tuple) and (where is None or where in want)


def _outcome(read) -> tuple | str:
    """Every column, line number and label of a table, or the error reading it gave."""
    try:
        table = read()
        values, codes = table.categories("label")
        return (table.header, [table.line(k) for k in range(len(table))], [values[c] for c in codes],
                [table.floats(h, blank_ok=True).tobytes() for h in table.header if h != "label"])
    except DataError as exc:
        return str(exc)


def test_a_bad_cell_deep_in_a_big_file_is_named_by_file_line_and_column(hapt: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(hapt, folder)
    path = sorted(folder.glob("*.csv"))[2]
    rows = path.read_text().splitlines()
    cells = rows[5000].split(",")
    cells[4] = "1.2.3"
    rows[5000] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        CsvFolder().parse_with_report(folder)
    assert f"{path.name}:5001 [gy]: non-numeric cell '1.2.3'" in str(err.value)

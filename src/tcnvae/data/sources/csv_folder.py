"""Your own recordings: a folder of CSV files plus a `meta.json` (source name `csv`).

Layout::

    my_data/
      meta.json
      alice_walk.csv
      bob_mixed.csv

Each CSV is comma separated with one header row. Columns (any order):

* any subset of the nine canonical channels `ax ay az gx gy gz mx my mz`; channels you do
  not have are simply left out and marked absent (they become 0.0 and are ignored);
* `t` (optional): time in seconds; used for the rate when `meta.json` gives none;
* `label` (optional): the class as a string; an empty cell means unlabelled;
* `subject` (optional): one value per file; otherwise `meta.json` `subjects`, else the file stem.

An empty channel cell is a missing sample (short gaps are interpolated, long ones split the
recording). Any other column name is an error, so that typos do not silently drop data.

`meta.json` (unknown keys are an error)::

    {
      "rate_hz": 50,                          # required unless every file has a `t` column
      "units": {"acc": "g", "gyro": "deg/s", "mag": "uT"},   # defaults: m/s^2, rad/s, uT
      "subjects": {"alice_walk.csv": "alice"},            # optional file -> subject
      "labels": ["walk", "run", "sit"]                    # optional class order
    }

Accepted units: acc `m/s^2` or `g`; gyro `rad/s` or `deg/s`; mag `uT` or `gauss`.
Classes are `labels` if given (a label not in it is an error), else the sorted set found.
Everything is converted to SI and resampled to the contract rate.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from tcnvae.contract import CHANNELS, N_CHANNELS, SENSOR_GROUPS, STANDARD_GRAVITY
from tcnvae.data.archive import Archive
from tcnvae.data.errors import DataError
from tcnvae.data.recording import DropReport, Recording, canonical_recordings
from tcnvae.data.sources.base import Source
from tcnvae.errors import one_of, units_in_words

META = "meta.json"
META_KEYS = {"rate_hz", "units", "subjects", "labels"}
UNIT_SCALE = {
    "acc": {"m/s^2": 1.0, "g": STANDARD_GRAVITY},
    "gyro": {"rad/s": 1.0, "deg/s": math.pi / 180.0},
    "mag": {"uT": 1.0, "gauss": 100.0},
}
EXTRA_COLUMNS = {"t", "label", "subject"}
RATE_TOLERANCE = 0.05


def read_meta(arc: Archive, root: str) -> dict:
    label = arc.label(root + META)
    try:
        meta = json.loads(arc.read_text(root + META))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", label, exc.lineno) from exc
    if not isinstance(meta, dict):
        raise DataError("must be a JSON object", label)
    for key in meta:
        if key not in META_KEYS:
            raise DataError(f"unknown key {key!r}; allowed keys: {one_of(sorted(META_KEYS))}", label, field=key)
    for group, unit in meta.get("units", {}).items():
        if group not in UNIT_SCALE or unit not in UNIT_SCALE[group]:
            raise DataError(f"unknown unit {group}={unit!r}; allowed units: {units_in_words(UNIT_SCALE)}",
                            label, field=f"units.{group}")
    return meta


def _read_csv(text: str, label: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DataError("empty file (a header row is required)", label, 1)
    header = [h.strip() for h in rows[0]]
    for name in header:
        if name not in CHANNELS and name not in EXTRA_COLUMNS:
            raise DataError(f"unknown column {name!r}; allowed columns: {one_of(CHANNELS + tuple(sorted(EXTRA_COLUMNS)))}",
                            label, 1, name)
    if not any(h in CHANNELS for h in header):
        raise DataError("no channel column (need at least one of ax..mz)", label, 1)
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    for i, row in body:
        if len(row) != len(header):
            raise DataError(f"expected {len(header)} columns, found {len(row)}", label, i)
    if not body:
        raise DataError("no data rows", label, 2)
    return header, body


def _column(body: list[tuple[int, list[str]]], j: int, label: str, name: str, blank_ok: bool) -> np.ndarray:
    out = np.empty(len(body))
    for k, (lineno, row) in enumerate(body):
        cell = row[j].strip()
        try:
            out[k] = float(cell) if cell or not blank_ok else np.nan
        except ValueError:
            raise DataError(f"non-numeric cell {cell!r}", label, lineno, name) from None
    return out


def _rate(meta: dict, header: list[str], body: list, label: str) -> float:
    rate = meta.get("rate_hz")
    if "t" in header:
        t = _column(body, header.index("t"), label, "t", blank_ok=False)
        dt = np.diff(t)
        if len(dt) == 0 or np.median(dt) <= 0:
            raise DataError("column t must increase", label, 2, "t")
        t_rate = 1.0 / float(np.median(dt))
        if rate is not None and abs(t_rate - rate) > RATE_TOLERANCE * rate:
            raise DataError(f"t implies {t_rate:.3g} Hz but meta.json says rate_hz={rate}", label, 2, "t")
        rate = rate or t_rate
    if rate is None or not rate > 0:
        raise DataError("no rate: give meta.json rate_hz or a t column", label, 1)
    return float(rate)


def _subject(meta: dict, header: list[str], body: list, label: str, fname: str) -> str:
    if "subject" in header:
        j = header.index("subject")
        values = {row[j].strip() for _, row in body}
        if len(values) != 1:
            raise DataError(f"one subject per file, found {sorted(values)}", label, field="subject")
        return values.pop()
    return str(meta.get("subjects", {}).get(fname, Path(fname).stem))


class CsvFolder(Source):
    name = "csv"
    description = "your own folder of CSV files + meta.json (see the CSV format)"
    url = None
    sha256 = None
    license = "yours"
    native_rate_hz = None

    def _files(self, arc: Archive) -> tuple[str, list[str], dict]:
        root = arc.locate(META)
        files = sorted(n for n in arc.names()
                       if n.startswith(root) and n.endswith(".csv") and "/" not in n[len(root):])
        if not files:
            raise DataError("no .csv files next to meta.json", arc.path)
        return root, files, read_meta(arc, root)

    def verify(self, path: Path) -> None:
        with Archive(path) as arc:
            root, files, meta = self._files(arc)
            for member in files:
                header, body = _read_csv(arc.read_text(member), arc.label(member))
                _rate(meta, header, body, arc.label(member))

    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        report = DropReport()
        with Archive(path) as arc:
            root, files, meta = self._files(arc)
            tables = [(m, *_read_csv(arc.read_text(m), arc.label(m))) for m in files]
            names = self._label_names(meta, tables, arc)
            out: list[Recording] = []
            for member, header, body in tables:
                out += self._recording(arc, member, header, body, meta, names, report)
        report.log(self.name)
        return out, report

    def _label_names(self, meta: dict, tables: list, arc: Archive) -> tuple[str, ...]:
        found = set()
        for member, header, body in tables:
            if "label" in header:
                j = header.index("label")
                for lineno, row in body:
                    value = row[j].strip()
                    if value and "labels" in meta and value not in meta["labels"]:
                        raise DataError(f"label {value!r} not in meta.json labels", arc.label(member),
                                        lineno, "label")
                    found.add(value)
        found.discard("")
        return tuple(meta["labels"]) if "labels" in meta else tuple(sorted(found))

    def _recording(self, arc: Archive, member: str, header: list[str], body: list, meta: dict,
                   names: tuple[str, ...], report: DropReport) -> list[Recording]:
        label = arc.label(member)
        scale = {g: UNIT_SCALE[g][meta.get("units", {}).get(g, next(iter(UNIT_SCALE[g])))]
                 for g in UNIT_SCALE}
        x = np.zeros((len(body), N_CHANNELS))
        present = np.zeros(N_CHANNELS, dtype=bool)
        for group, chans in SENSOR_GROUPS.items():
            for ch in chans:
                if ch in header:
                    c = CHANNELS.index(ch)
                    x[:, c] = _column(body, header.index(ch), label, ch, blank_ok=True) * scale[group]
                    present[c] = True
        labels = np.full(len(body), -1, dtype=np.int64)
        if "label" in header:
            index = {n: i for i, n in enumerate(names)}
            j = header.index("label")
            labels = np.array([index.get(row[j].strip(), -1) for _, row in body], dtype=np.int64)
        fname = member[len(arc.locate(META)):]
        return canonical_recordings(
            x, present, labels, label_names=names,
            subject=self.subject_id(_subject(meta, header, body, label, fname)), domain=self.name,
            rate_hz=_rate(meta, header, body, label), name=Path(fname).stem, report=report)

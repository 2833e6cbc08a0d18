"""Your own recordings: a folder of CSV files plus a `meta.json` (source name `csv`).

Layout::

    my_data/
      meta.json
      user01_walk.csv
      user02_stairs.csv

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
      "subjects": {"user01_walk.csv": "user01"},          # optional file -> subject
      "labels": ["walk", "run", "sit"],                   # optional class order
      "test_subjects": ["bob"]                            # optional: held out for testing
    }

Accepted units: acc `m/s^2` or `g`; gyro `rad/s` or `deg/s`; mag `uT` or `gauss`.
Classes are `labels` if given (a label not in it is an error), else the sorted set found.
Everything is converted to SI and resampled to the contract rate. The declared units are
checked against the data (tcnvae.data.plausibility): a clear unit mistake is an error, an
unusual reading a warning in the DropReport (and the fetch manifest).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

from tcnvae.contract import (CHANNELS, MAX_INPUT_RATE_HZ, MIN_INPUT_RATE_HZ, N_CHANNELS, RATE_HZ, SENSOR_GROUPS,
                             STANDARD_GRAVITY)
from tcnvae.data.archive import Archive
from tcnvae.data.csv_table import CsvTable, read_table
from tcnvae.data.errors import DataError
from tcnvae.data.plausibility import check_signals, raise_errors
from tcnvae.data.recording import DropReport, Recording, canonical_recordings
from tcnvae.data.sources.base import Source
from tcnvae.errors import one_of, units_in_words
from tcnvae.progress import Ticker

META = "meta.json"
META_KEYS = {"rate_hz", "units", "subjects", "labels", "test_subjects"}
UNIT_SCALE = {
    "acc": {"m/s^2": 1.0, "g": STANDARD_GRAVITY},
    "gyro": {"rad/s": 1.0, "deg/s": math.pi / 180.0},
    "mag": {"uT": 1.0, "gauss": 100.0},
}
log = logging.getLogger(__name__)
RATE_TOLERANCE = 0.05
MANY_INFERRED_SUBJECTS = 4  # files named subjects by their stem before that gets a warning


def read_meta(arc: Archive, root: str) -> dict:
    label = arc.label(root + META)
    try:
        meta = json.loads(arc.read_text(root + META))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", label, exc.lineno) from exc
    except RecursionError:
        raise DataError("invalid JSON: nested too deeply (meta.json is a flat object)", label) from None
    if not isinstance(meta, dict):
        raise DataError("must be a JSON object", label)
    for key in meta:
        if key not in META_KEYS:
            raise DataError(f"unknown key {key!r}; allowed keys: {one_of(sorted(META_KEYS))}", label, field=key)
    units = meta.get("units", {})
    if not isinstance(units, dict):
        raise DataError('must be an object such as {"acc": "g"}', label, field="units")
    for group, unit in units.items():
        if not isinstance(unit, str) or group not in UNIT_SCALE or unit not in UNIT_SCALE[group]:
            raise DataError(f"unknown unit {group}={unit!r}; allowed units: {units_in_words(UNIT_SCALE)}",
                            label, field=f"units.{group}")
    held = meta.get("test_subjects", [])
    if not isinstance(held, list) or not all(isinstance(s, (str, int)) and str(s).strip() for s in held):
        raise DataError("must be a list of subject names, e.g. [\"bob\"]", label, field="test_subjects")
    return meta


def _rate(meta: dict, table: CsvTable, label: str) -> float:
    rate = meta.get("rate_hz")
    if "t" in table.header:
        t = table.floats("t", blank_ok=False)
        dt = np.diff(t)
        if len(dt) == 0 or not np.isfinite(t).all():
            raise DataError("column t must be finite seconds over at least two rows", label, 2, "t")
        stuck = np.flatnonzero(~(dt > 0))
        if len(stuck):
            raise DataError(f"column t must increase on every row (t={t[stuck[0] + 1]!r} follows "
                            f"t={t[stuck[0]]!r})", label, table.line(int(stuck[0]) + 1), "t")
        t_rate = 1.0 / float(np.median(dt))
        if not MIN_INPUT_RATE_HZ <= t_rate <= MAX_INPUT_RATE_HZ:
            raise DataError(f"t implies {t_rate:.3g} Hz (median step {float(np.median(dt)):.3g} s); supported rates "
                            f"are {MIN_INPUT_RATE_HZ:g} to {MAX_INPUT_RATE_HZ:g} Hz: t must be in seconds "
                            f"(milliseconds or another unit?): convert t to seconds", label, 2, "t")
        if rate is not None and abs(t_rate - rate) > RATE_TOLERANCE * rate:
            raise DataError(f"t implies {t_rate:.3g} Hz but the declared rate is {rate} Hz: fix the declared "
                            f"rate (rate_hz) or the t column (seconds)", label, 2, "t")
        rate = rate or t_rate
    if rate is None:
        raise DataError("no rate: give meta.json rate_hz or a t column", label, 1)
    ok = isinstance(rate, (int, float)) and not isinstance(rate, bool) and math.isfinite(rate)
    if not ok or not MIN_INPUT_RATE_HZ <= rate <= MAX_INPUT_RATE_HZ:
        shown = f"{rate:.3g} Hz" if ok else repr(rate)
        raise DataError(f"rate_hz is {shown}; supported rates are {MIN_INPUT_RATE_HZ:g} to "
                        f"{MAX_INPUT_RATE_HZ:g} Hz", label, field="rate_hz")
    return float(rate)


def _subject(meta: dict, table: CsvTable, label: str, fname: str) -> str:
    if "subject" in table.header:
        names, codes = table.categories("subject")
        values = {names[c] for c in np.unique(codes)}
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

    def __init__(self, max_samples: int | None = None, unit_hint: str = "meta") -> None:
        # Resampled length bound, checked before any resampling (the gateway ties it to upload size).
        self.max_samples = max_samples
        # how a unit fix is spelled in messages: meta.json, ?units= (gateway) or --units (analyze)
        self.unit_hint = unit_hint

    def _files(self, arc: Archive) -> tuple[str, list[str], dict]:
        root = arc.locate(META)
        files = sorted(n for n in arc.names()
                       if n.startswith(root) and n.endswith(".csv") and "/" not in n[len(root):])
        if not files:
            raise DataError("no .csv files next to meta.json", arc.path)
        return root, files, read_meta(arc, root)

    def test_subjects(self, path: Path | None) -> list[str] | None:
        """meta.json `test_subjects` as subject ids ("csv:bob"); None when it names none."""
        if path is None or not Path(path).exists():
            return None
        with Archive(path) as arc:
            held = read_meta(arc, arc.locate(META)).get("test_subjects") or []
        return [self.subject_id(str(s).strip()) for s in held] or None

    def verify(self, path: Path) -> None:
        with Archive(path) as arc:
            root, files, meta = self._files(arc)
            for member in files:
                _rate(meta, read_table(arc.read_bytes(member), arc.label(member)), arc.label(member))

    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        report = DropReport()
        with Archive(path) as arc:
            root, files, meta = self._files(arc)
            ticker = Ticker(log, f"reading {arc.label(root + META)} folder", len(files), "files")
            tables = []
            for i, m in enumerate(files):
                ticker.tick(i)
                tables.append((m, read_table(arc.read_bytes(m), arc.label(m))))
            names = self._label_names(meta, tables, arc)
            out: list[Recording] = []
            for member, table in tables:
                out += self._recording(arc, member, table, meta, names, report)
            inferred = [m[len(root):] for m, table in tables
                        if "subject" not in table.header and m[len(root):] not in meta.get("subjects", {})]
            if len(inferred) >= MANY_INFERRED_SUBJECTS:
                report.warnings.append(
                    f"{META} [subjects]: {len(inferred)} files have no `subject` column and no meta.json "
                    f"`subjects` entry, so each file is its own subject ({', '.join(inferred[:3])}, ...); if a "
                    f"person recorded several files, a subject split becomes a per-recording split: name the "
                    f"subjects with a `subject` column or meta.json \"subjects\": {{\"{inferred[0]}\": \"alice\"}}")
            subjects = {r.subject for r in out}
            unknown = [s for s in meta.get("test_subjects", []) if self.subject_id(str(s).strip()) not in subjects]
            if unknown:
                raise DataError(f"{unknown} are not subjects of this folder (subjects: "
                                f"{sorted(s.split(':', 1)[1] for s in subjects)})", arc.label(root + META),
                                field="test_subjects")
        report.log(self.name)
        for w in report.warnings:
            log.warning("%s", w)
        return out, report

    def _label_names(self, meta: dict, tables: list, arc: Archive) -> tuple[str, ...]:
        found = set()
        for member, table in tables:
            if "label" in table.header:
                values, codes = table.categories("label")
                if "labels" in meta:
                    unknown = [i for i, v in enumerate(values) if v and v not in meta["labels"]]
                    if unknown:
                        k = int(np.flatnonzero(np.isin(codes, unknown))[0])  # the first such row
                        raise DataError(f"label {values[codes[k]]!r} not in meta.json labels", arc.label(member),
                                        table.line(k), "label")
                found.update(values[c] for c in np.unique(codes))
        found.discard("")
        return tuple(meta["labels"]) if "labels" in meta else tuple(sorted(found))

    def _recording(self, arc: Archive, member: str, table: CsvTable, meta: dict,
                   names: tuple[str, ...], report: DropReport) -> list[Recording]:
        label = arc.label(member)
        scale = {g: UNIT_SCALE[g][meta.get("units", {}).get(g, next(iter(UNIT_SCALE[g])))]
                 for g in UNIT_SCALE}
        n = len(table)
        x = np.zeros((n, N_CHANNELS))
        present = np.zeros(N_CHANNELS, dtype=bool)
        for group, chans in SENSOR_GROUPS.items():
            for ch in chans:
                if ch in table.header:
                    c = CHANNELS.index(ch)
                    x[:, c] = table.floats(ch, blank_ok=True) * scale[group]
                    present[c] = True
        labels = np.full(n, -1, dtype=np.int64)
        if "label" in table.header:
            index = {name: i for i, name in enumerate(names)}
            values, codes = table.categories("label")
            labels = np.array([index.get(v, -1) for v in values], dtype=np.int64)[codes]
        fname = member[len(arc.locate(META)):]
        rate = _rate(meta, table, label)  # structural problems are reported before plausibility
        resampled = math.ceil(n * RATE_HZ / rate)
        if self.max_samples is not None and resampled > self.max_samples:
            raise DataError(f"{n} rows at {rate:.3g} Hz would become {resampled} samples at "
                            f"{RATE_HZ:g} Hz; the limit is {self.max_samples}", label)
        warnings = [w.replace(label, fname, 1) for w in
                    raise_errors(check_signals(x, present, meta.get("units", {})), label, self.unit_hint)]
        report.warnings += warnings
        pieces = canonical_recordings(
            x, present, labels, label_names=names,
            subject=self.subject_id(_subject(meta, table, label, fname)), domain=self.name,
            rate_hz=rate, name=Path(fname).stem, report=report)
        for rec in pieces:
            rec.warnings = tuple(warnings)
        return pieces


def read_native(text: str | bytes, label: str, meta: dict) -> tuple[list[str], np.ndarray, float]:
    """One CSV in the documented format, as the file has it: (its channel columns in order,
    their values [T, C] in the file's own units, NaN for a blank cell, its rate in Hz).
    What a client replays to a live stream; DataError names the line and column."""
    table = read_table(text.encode("utf-8") if isinstance(text, str) else text, label)
    channels = [h for h in table.header if h in CHANNELS]
    x = np.stack([table.floats(c, blank_ok=True) for c in channels], axis=1)
    return channels, x, _rate(meta, table, label)

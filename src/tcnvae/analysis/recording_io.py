"""Read one user recording (CSV text or a JSON payload) into a canonical `Recording`.

The CSV parsing, unit conversion, gap handling and resampling are the data layer's (`csv`
source, `tcnvae.data.sources.csv_folder`): a recording is staged as a one-file CSV folder with a
`meta.json` built from the request (rate, units) and parsed by that source, so an upload and a
training folder follow exactly the same rules. A JSON payload
`{"rate_hz", "channels", "samples", "units"?}` is turned into the same CSV first.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.contract import CHANNELS, MAX_INPUT_RATE_HZ, MIN_INPUT_RATE_HZ, RATE_HZ, WINDOW
from tcnvae.data.errors import DataError
from tcnvae.data.recording import Recording
from tcnvae.data.sources.csv_folder import UNIT_SCALE, CsvFolder, read_native
from tcnvae.errors import TcnvaeError, one_of, units_in_words

CSV_NAME = "recording.csv"
MAX_INT_SAMPLE = 10**15  # far beyond any physical limit, far below float overflow
JSON_KEYS = {"rate_hz", "channels", "samples", "units"}


@dataclass(frozen=True)
class RecordingMeta:
    """What the CSV does not say itself: its rate (unless it has a `t` column) and units."""

    rate_hz: float | None = None
    units: dict[str, str] = field(default_factory=dict)
    unit_hint: str = "flag"  # how unit fixes are spelled: flag (--units), query (?units=), json, meta

    def __post_init__(self) -> None:
        if self.rate_hz is not None and not (math.isfinite(self.rate_hz)
                                             and MIN_INPUT_RATE_HZ <= self.rate_hz <= MAX_INPUT_RATE_HZ):
            raise AnalysisInputError(f"rate_hz must be between {MIN_INPUT_RATE_HZ:g} and {MAX_INPUT_RATE_HZ:g} Hz, "
                                     f"got {self.rate_hz:g}")
        for group, unit in self.units.items():
            if not isinstance(unit, str) or not isinstance(group, str) or group not in UNIT_SCALE \
                    or unit not in UNIT_SCALE[group]:
                raise AnalysisInputError(f"units: unknown unit {group}={unit!r}; allowed units: {units_in_words(UNIT_SCALE)}")

    def to_meta_json(self) -> dict:
        meta: dict = {"units": dict(self.units)}
        if self.rate_hz is not None:
            meta["rate_hz"] = self.rate_hz
        return meta


def parse_units(text: str | None) -> dict[str, str]:
    """`acc:g,gyro:deg/s` -> {"acc": "g", "gyro": "deg/s"} (the query-string form)."""
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        group, sep, unit = item.partition(":")
        if not sep:
            raise AnalysisInputError(f"units: expected group:unit pairs like acc:g,gyro:deg/s, got {item!r}")
        out[group.strip()] = unit.strip()
    return out


def load_json_text(text: str) -> object:
    """JSON text -> object; malformed or absurdly nested JSON is an AnalysisInputError."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AnalysisInputError(f"invalid JSON: {exc}") from None
    except RecursionError:  # the payload is 3 levels deep; thousands of brackets are an attack
        raise AnalysisInputError("invalid JSON: nested too deeply (a recording is "
                                 "{\"samples\": [[...], ...]}, 3 levels)") from None


def json_to_csv(payload: object) -> tuple[str, RecordingMeta]:
    """A JSON recording payload -> (CSV text, meta). Errors name the field or sample index."""
    if not isinstance(payload, dict):
        raise AnalysisInputError("recording JSON must be an object with rate_hz, channels, samples")
    unknown = sorted(set(payload) - JSON_KEYS)
    if unknown:
        raise AnalysisInputError(f"unknown keys {one_of(unknown, 'and')}; allowed keys: {one_of(sorted(JSON_KEYS))}")
    for key in ("rate_hz", "channels", "samples"):
        if key not in payload:
            raise AnalysisInputError(f"missing field {key!r}")
    channels, samples = payload["channels"], payload["samples"]
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels) or not channels:
        raise AnalysisInputError("channels must be a non-empty list of names such as ['ax', 'ay', 'az']")
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise AnalysisInputError(f"unknown channel names {one_of(bad, 'and')}; allowed channels: {one_of(CHANNELS)}")
    if not isinstance(samples, list) or not samples:
        raise AnalysisInputError("samples must be a non-empty list of rows")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(channels)
    for i, row in enumerate(samples):
        if not isinstance(row, list) or len(row) != len(channels):
            raise AnalysisInputError(f"samples[{i}] must be a list of {len(channels)} numbers")
        writer.writerow(_cells(row, i))
    rate = payload["rate_hz"]
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        raise AnalysisInputError("rate_hz must be a number")
    if isinstance(rate, int) and abs(rate) > MAX_INPUT_RATE_HZ:
        raise AnalysisInputError(f"rate_hz must be between {MIN_INPUT_RATE_HZ:g} and {MAX_INPUT_RATE_HZ:g} Hz, "
                                 f"got an integer of {len(str(abs(rate)))} digits")
    units = payload.get("units") or {}
    if not isinstance(units, dict):
        raise AnalysisInputError("units must be an object such as {\"acc\": \"g\"}")
    return buf.getvalue(), RecordingMeta(float(rate), dict(units), unit_hint="json")


def _cells(row: list, i: int) -> list[str]:
    out = []
    for j, v in enumerate(row):
        if v is None:
            out.append("")  # a missing sample: interpolated if the gap is short
        elif isinstance(v, float):
            out.append("" if math.isnan(v) else repr(v))
        elif isinstance(v, int) and not isinstance(v, bool):
            if abs(v) > MAX_INT_SAMPLE:  # float() of a 401-digit integer overflows
                raise AnalysisInputError(f"samples[{i}][{j}] is an integer of {len(str(abs(v)))} digits; "
                                         f"no sensor reads beyond {MAX_INT_SAMPLE:.0e}")
            out.append(repr(float(v)))
        else:
            raise AnalysisInputError(f"samples[{i}][{j}] is not a number: {v!r}")
    return out


def load_csv_file(path: Path, meta: RecordingMeta) -> Recording:
    """Parse a CSV file on disk (the documented format) into one canonical recording."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot read: {exc}") from exc
    return parse_csv_text(text, meta, name=Path(path).stem, source=str(path))


def load_recording_file(path: Path, meta: RecordingMeta | None = None) -> Recording:
    """A `.json` payload file or a CSV file -> canonical recording (what `tcnvae analyze` reads)."""
    path = Path(path)
    if not path.is_file():
        raise AnalysisInputError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        try:
            payload = load_json_text(path.read_text())
        except UnicodeDecodeError as exc:
            raise AnalysisInputError(f"{path}: invalid JSON: {exc}") from exc
        except AnalysisInputError as exc:
            raise AnalysisInputError(f"{path}: {exc}") from None
        text, json_meta = json_to_csv(payload)
        return parse_csv_text(text, json_meta, name=path.stem, source=f"{path} (samples as CSV rows)")
    return load_csv_file(path, meta or RecordingMeta())


def parse_csv_text(text: str, meta: RecordingMeta, name: str = "recording",
                   max_samples: int | None = None, source: str | None = None) -> Recording:
    """CSV text in the documented format -> one canonical recording at RATE_HZ.

    Raises AnalysisInputError (unknown columns, bad cells, no rate, long gaps, too short, or more
    than `max_samples` after resampling, which is checked before resampling), naming `source`
    (the user's file; default `name`) and its line and column.
    """
    shown = source or name
    staging = Path(tempfile.mkdtemp(prefix="tcnvae-recording-"))
    try:
        (staging / CSV_NAME).write_text(text, encoding="utf-8")
        (staging / "meta.json").write_text(json.dumps(meta.to_meta_json()))
        try:
            pieces, _report = CsvFolder(max_samples, unit_hint=meta.unit_hint).parse_with_report(staging)
        except (DataError, TcnvaeError) as exc:
            raise AnalysisInputError(_user_file(str(exc), staging, shown)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _single(pieces, name, shown)


def _user_file(message: str, staging: Path, shown: str) -> str:
    """The data layer's message about the staged copy, told about the user's own file instead."""
    message = message.replace(str(staging / CSV_NAME), shown).replace(str(staging) + "/", "")
    return shown + message[len(CSV_NAME):] if message.startswith(CSV_NAME) else message


def _single(pieces: list[Recording], name: str, shown: str) -> Recording:
    if not pieces:
        raise AnalysisInputError(f"{shown}: no complete samples (every row has a missing channel)")
    if len(pieces) != 1:
        raise AnalysisInputError(
            f"{shown}: missing samples split the recording into {len(pieces)} pieces "
            f"(gaps longer than 0.1 s are not interpolated); fill or trim the gap")
    rec = pieces[0]
    if len(rec) < WINDOW:
        raise AnalysisInputError(
            f"{shown}: the recording is {len(rec)} samples at {RATE_HZ:g} Hz ({rec.duration_s:.2f} s); "
            f"at least one window of {WINDOW} samples ({WINDOW / RATE_HZ:g} s) is needed")
    rec.name = name
    return rec


@dataclass(frozen=True)
class NativeRows:
    """A recording as its file has it (own rate, channels and units): what a stream replays."""

    rate_hz: float
    channels: tuple[str, ...]
    units: dict[str, str]
    rows: np.ndarray  # float64 [T, len(channels)], NaN where a sample is missing


def read_native_rows(path: Path, meta: RecordingMeta | None = None) -> NativeRows:
    """A CSV or JSON recording file, unconverted and not resampled; AnalysisInputError if unusable."""
    path, meta = Path(path), meta or RecordingMeta()
    if not path.is_file():
        raise AnalysisInputError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot read: {exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AnalysisInputError(f"{path}: invalid JSON: {exc}") from exc
        text, meta = json_to_csv(payload)
    try:
        channels, rows, rate = read_native(text, path.name, meta.to_meta_json())
    except (DataError, TcnvaeError) as exc:
        raise AnalysisInputError(str(exc)) from exc
    return NativeRows(rate, tuple(channels), dict(meta.units), rows)

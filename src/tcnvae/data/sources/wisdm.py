"""WISDM Activity Prediction v1.1 (Fordham), raw accelerometer file.

Official layout: `WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt` inside `WISDM_ar_latest.tar.gz`
(the bare .txt is accepted too). One record `user,activity,timestamp,x,y,z;` per line, 20 Hz,
phone in the front trouser pocket, acceleration already in m/s^2 (gravity ~ 9.8), acc only.
The file has well-known quirks that are tolerated and counted: records without the trailing
`;`, trailing commas, several records on one line, empty lines, records with a missing value
(skipped). A file is refused (DataError naming the first bad line) when it has no valid record
or more than `MAX_BAD_SHARE` of its records are bad. Consecutive records of one user and
activity form a recording, broken where the timestamp jumps by more than `MAX_JUMP_S`.
No official split exists; `official_split` returns a fixed, documented hold-out (users 31-36).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tcnvae.contract import N_CHANNELS
from tcnvae.data.archive import Archive
from tcnvae.data.errors import DataError
from tcnvae.data.recording import DropReport, Recording, canonical_recordings, group_index, present_mask
from tcnvae.data.sources.base import Source

RAW_FILE = "WISDM_ar_v1.1_raw.txt"
ACTIVITIES = ("Walking", "Jogging", "Upstairs", "Downstairs", "Sitting", "Standing")
MAX_BAD_SHARE = 0.05
MAX_JUMP_S = 1.0
TEST_USERS = tuple(range(31, 37))
ALL_USERS = tuple(range(1, 37))


def _records(text: str):
    """Yield (line number, record string) for every ';'-separated record."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        for rec in line.split(";"):
            rec = rec.strip().strip(",").strip()
            if rec:
                yield lineno, rec


def parse_lines(text: str, label: str, report: DropReport) -> tuple[np.ndarray, np.ndarray]:
    """-> meta int64 [N, 3] (user, activity index, timestamp) and xyz float64 [N, 3]."""
    index = {a: i for i, a in enumerate(ACTIVITIES)}
    meta, xyz, bad, first_bad = [], [], 0, None
    for lineno, rec in _records(text):
        cells = rec.split(",")
        try:
            if len(cells) != 6 or any(not c.strip() for c in cells):
                raise ValueError(f"expected 6 fields user,activity,timestamp,x,y,z, got {rec!r}")
            if cells[1].strip() not in index:
                raise ValueError(f"unknown activity {cells[1].strip()!r}")
            row = (int(cells[0]), index[cells[1].strip()], int(cells[2]))
            values = (float(cells[3]), float(cells[4]), float(cells[5]))
            meta.append(row)
            xyz.append(values)
        except ValueError as exc:
            bad += 1
            first_bad = first_bad or (lineno, str(exc))
    total = bad + len(meta)
    report.add("wisdm_records_skipped", bad)
    if not meta or bad > MAX_BAD_SHARE * total:
        line, why = first_bad or (1, "no records")
        raise DataError(f"{bad} of {total} records unreadable, first: {why}", label, line)
    return np.asarray(meta, dtype=np.int64), np.asarray(xyz, dtype=np.float64)


class Wisdm(Source):
    name = "wisdm"
    description = "WISDM v1.1: pocket phone accelerometer, 36 users, 6 activities, 20 Hz"
    url = "https://www.cis.fordham.edu/wisdm/includes/datasets/latest/WISDM_ar_latest.tar.gz"
    sha256 = None
    license = "research use, cite Kwapisz et al. 2010"
    label_names = ACTIVITIES
    native_rate_hz = 20.0

    def verify(self, path: Path) -> None:
        with Archive(path) as arc:
            member = arc.locate(RAW_FILE) + RAW_FILE
            parse_lines(arc.read_text(member), arc.label(member), DropReport())

    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        report = DropReport()
        with Archive(path) as arc:
            member = arc.locate(RAW_FILE) + RAW_FILE
            meta, xyz = parse_lines(arc.read_text(member), arc.label(member), report)
        dt = np.diff(meta[:, 2]) * 1e-9  # timestamps are nanoseconds
        breaks = (meta[1:, 0] != meta[:-1, 0]) | (meta[1:, 1] != meta[:-1, 1])
        jumps = ((dt > MAX_JUMP_S) | (dt < 0)) & (meta[1:, 2] > 0) & (meta[:-1, 2] > 0) & ~breaks
        report.add("wisdm_time_breaks", int(jumps.sum()))
        bounds = np.concatenate([[0], np.flatnonzero(breaks | jumps) + 1, [len(meta)]])
        out: list[Recording] = []
        for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            x = np.zeros((b - a, N_CHANNELS))
            x[:, group_index("acc")] = xyz[a:b]
            user, act = int(meta[a, 0]), int(meta[a, 1])
            out += canonical_recordings(
                x, present_mask("acc"), np.full(b - a, act, dtype=np.int64), label_names=ACTIVITIES,
                subject=self.subject_id(user), domain=self.name, rate_hz=self.native_rate_hz,
                name=f"user{user}_{ACTIVITIES[act]}_{k}", report=report)
        report.log(self.name)
        return out, report

    def official_split(self) -> tuple[list[str], list[str]]:
        test = [self.subject_id(u) for u in TEST_USERS]
        return [self.subject_id(u) for u in ALL_USERS if u not in TEST_USERS], test

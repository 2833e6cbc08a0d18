"""PAMAP2 Physical Activity Monitoring (UCI), protocol part.

Official layout (optionally wrapped in the UCI outer zip): `PAMAP2_Dataset/Protocol/subjectN.dat`,
54 space-separated columns per row at 100 Hz: timestamp (s), activityID, heart rate, then three
IMUs (hand, chest, ankle) x 17 columns: temperature, acc +-16 g (3, already m/s^2),
acc +-6 g (3), gyro (3, rad/s), mag (3, uT), orientation (4, invalid).
Dropped wireless packets appear as NaN; activity 0 is "transient" and becomes label -1.
We use ONE IMU, `hand` by default (the wrist is closest to the wearables this project targets);
pass `Pamap2(imu="chest"|"ankle")` for another. The +-16 g accelerometer is used because the
+-6 g one saturates during running and rope jumping. License CC BY 4.0 (Reiss & Stricker 2012).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tcnvae.contract import N_CHANNELS
from tcnvae.data.archive import Archive
from tcnvae.data.errors import DataError
from tcnvae.data.recording import DropReport, Recording, canonical_recordings, group_index, present_mask
from tcnvae.data.sources.base import Source
from tcnvae.data.tables import read_numeric

N_COLUMNS = 54
IMU_FIRST_COLUMN = {"hand": 3, "chest": 20, "ankle": 37}
# offsets inside one IMU block of 17 columns
_ACC16, _GYRO, _MAG = slice(1, 4), slice(7, 10), slice(10, 13)
ACTIVITIES = {
    1: "lying", 2: "sitting", 3: "standing", 4: "walking", 5: "running", 6: "cycling",
    7: "Nordic walking", 9: "watching TV", 10: "computer work", 11: "car driving",
    12: "ascending stairs", 13: "descending stairs", 16: "vacuum cleaning", 17: "ironing",
    18: "folding laundry", 19: "house cleaning", 20: "playing soccer", 24: "rope jumping",
}
_FILE = re.compile(r"subject(\d+)\.dat$")
TEST_SUBJECTS = (105, 106)  # no official split; a fixed, documented hold-out (two complete protocols)
ALL_SUBJECTS = tuple(range(101, 110))


class Pamap2(Source):
    name = "pamap2"
    description = "PAMAP2 protocol: hand IMU acc+gyro+mag, 9 subjects, 18 activities, 100 Hz"
    url = "https://archive.ics.uci.edu/static/public/231/pamap2+physical+activity+monitoring.zip"
    sha256 = None
    license = "CC BY 4.0"
    label_names = tuple(ACTIVITIES.values())
    native_rate_hz = 100.0

    def __init__(self, imu: str = "hand") -> None:
        if imu not in IMU_FIRST_COLUMN:
            raise ValueError(f"imu must be one of {sorted(IMU_FIRST_COLUMN)}, got {imu!r}")
        self.imu = imu

    def cache_tag(self) -> str:
        return f"v{self.parser_version}-{self.imu}"

    def _files(self, arc: Archive) -> list[str]:
        files = [n for n in arc.names() if "/Protocol/" in f"/{n}" and _FILE.search(n)]
        if not files:
            raise DataError("required files 'PAMAP2_Dataset/Protocol/subjectN.dat' are missing", arc.path)
        return sorted(files)

    def verify(self, path: Path) -> None:
        with Archive(path) as arc:
            for member in self._files(arc):
                self._read(arc, member, head=200)  # parse reads the rest and checks every line

    def _read(self, arc: Archive, member: str, head: int | None = None) -> np.ndarray:
        text = arc.read_text(member)
        if head is not None:
            text = "\n".join(text.split("\n", head)[:head])
        table = read_numeric(text, arc.label(member), N_COLUMNS)
        ids = table[:, 1]
        known = np.isin(ids, [0, *ACTIVITIES])
        if not known.all():
            line = int(np.flatnonzero(~known)[0]) + 1
            raise DataError(f"unknown activityID {ids[~known][0]:g}", arc.label(member), line, "activityID")
        return table

    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        report = DropReport()
        code_to_index = np.full(max(ACTIVITIES) + 1, -1, dtype=np.int64)
        code_to_index[list(ACTIVITIES)] = np.arange(len(ACTIVITIES))
        first = IMU_FIRST_COLUMN[self.imu]
        block = slice(first, first + 17)
        out: list[Recording] = []
        with Archive(path) as arc:
            for member in self._files(arc):
                table = self._read(arc, member)
                imu = table[:, block]
                x = np.zeros((len(table), N_CHANNELS))
                x[:, group_index("acc")] = imu[:, _ACC16]
                x[:, group_index("gyro")] = imu[:, _GYRO]
                x[:, group_index("mag")] = imu[:, _MAG]
                labels = code_to_index[table[:, 1].astype(np.int64)]
                report.add("transient_samples", int((labels < 0).sum()))
                subject = _FILE.search(member).group(1)
                out += canonical_recordings(
                    x, present_mask("acc", "gyro", "mag"), labels, label_names=self.label_names,
                    subject=self.subject_id(subject), domain=self.name, rate_hz=self.native_rate_hz,
                    name=f"subject{subject}", report=report)
        report.log(self.name)
        return out, report

    def official_split(self) -> tuple[list[str], list[str]]:
        test = [self.subject_id(s) for s in TEST_SUBJECTS]
        return [self.subject_id(s) for s in ALL_SUBJECTS if s not in TEST_SUBJECTS], test

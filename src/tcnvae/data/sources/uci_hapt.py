"""UCI HAPT (Smartphone-Based Recognition of Human Activities and Postural Transitions).

Official layout (optionally under a top folder): `RawData/acc_expNN_userUU.txt` and
`RawData/gyro_expNN_userUU.txt` (50 Hz, acc in g, gyro in rad/s, space separated),
`RawData/labels.txt` (exp, user, activity, start, end; 1-based inclusive sample indices),
`activity_labels.txt`, `Train/subject_id_train.txt`, `Test/subject_id_test.txt`.
The full UCI download also carries feature files (`Train/X_train.txt`, ...); they are ignored.
Both that and the raw-only repack are accepted: structure is checked, not one fixed hash.
30 subjects, 12 classes; samples outside the labelled segments get label -1.
Waist-worn Samsung Galaxy S II. License CC BY 4.0 (Reyes-Ortiz et al., Neurocomputing 2016).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from tcnvae.contract import CHANNELS, STANDARD_GRAVITY
from tcnvae.data.archive import Archive
from tcnvae.data.errors import DataError
from tcnvae.data.recording import (DropReport, Recording, canonical_recordings, group_index,
                                   present_mask)
from tcnvae.data.sources.base import Source
from tcnvae.data.tables import read_numeric
from tcnvae.progress import Ticker

log = logging.getLogger(__name__)

_RAW = re.compile(r"acc_exp(\d+)_user(\d+)\.txt$")
TEST_SUBJECTS = (2, 4, 9, 10, 12, 13, 18, 20, 24)  # the official UCI-HAR split (Test/subject_id_test.txt)
N_SUBJECTS = 30


class UciHapt(Source):
    name = "uci-hapt"
    description = "UCI HAPT: waist smartphone acc+gyro, 30 subjects, 6 activities + 6 transitions, 50 Hz"
    url = ("https://archive.ics.uci.edu/static/public/341/"
           "smartphone+based+recognition+of+human+activities+and+postural+transitions.zip")
    sha256 = None  # the official archive is not pinned; structure is verified instead
    license = "CC BY 4.0"
    label_names = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING",
                   "LAYING", "STAND_TO_SIT", "SIT_TO_STAND", "SIT_TO_LIE", "LIE_TO_SIT",
                   "STAND_TO_LIE", "LIE_TO_STAND")
    native_rate_hz = 50.0

    def _structure(self, arc: Archive) -> tuple[str, np.ndarray, list[tuple[int, int]]]:
        root = arc.locate("RawData/labels.txt")
        for req in ("activity_labels.txt", "Train/subject_id_train.txt", "Test/subject_id_test.txt"):
            if root + req not in arc.names():
                raise DataError(f"required file '{req}' is missing", arc.path)
        self._check_activity_labels(arc, root + "activity_labels.txt")
        labels = read_numeric(arc.read_text(root + "RawData/labels.txt"),
                              arc.label(root + "RawData/labels.txt"), 5).astype(np.int64)
        if len(labels) == 0:
            raise DataError("no label rows", arc.label(root + "RawData/labels.txt"))
        bad = np.flatnonzero((labels[:, 2] < 1) | (labels[:, 2] > len(self.label_names))
                             | (labels[:, 3] < 1) | (labels[:, 4] < labels[:, 3]))
        if len(bad):
            raise DataError("label row out of range (activity 1-12, start >= 1, end >= start)",
                            arc.label(root + "RawData/labels.txt"), int(bad[0]) + 1)
        exps = sorted({(int(e), int(u)) for e, u in labels[:, :2]})
        for e, u in exps:
            for kind in ("acc", "gyro"):
                req = f"RawData/{kind}_exp{e:02d}_user{u:02d}.txt"
                if root + req not in arc.names():
                    raise DataError(f"required file '{req}' (named in RawData/labels.txt) is missing", arc.path)
        return root, labels, exps

    def _check_activity_labels(self, arc: Archive, member: str) -> None:
        rows = [ln.split() for ln in arc.read_text(member).splitlines() if ln.strip()]
        names = tuple(r[1] for r in rows if len(r) >= 2)
        if names[: len(self.label_names)] != self.label_names:
            raise DataError(f"expected classes {self.label_names}, found {names}", arc.label(member))

    def verify(self, path: Path) -> None:
        with Archive(path) as arc:
            self._structure(arc)

    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        report = DropReport()
        present = present_mask("acc", "gyro")
        out: list[Recording] = []
        with Archive(path) as arc:
            root, labels, exps = self._structure(arc)
            ticker = Ticker(log, f"parsing {self.name}", len(exps), "experiments")
            for i, (e, u) in enumerate(exps):
                ticker.tick(i)
                x = self._read_exp(arc, root, e, u)
                lab = np.full(len(x), -1, dtype=np.int64)
                for _, _, act, start, end in labels[(labels[:, 0] == e) & (labels[:, 1] == u)]:
                    lab[start - 1:end] = act - 1
                report.add("unlabelled_native_samples", int((lab < 0).sum()))
                out += canonical_recordings(
                    x, present, lab, label_names=self.label_names, subject=self.subject_id(u),
                    domain=self.name, rate_hz=self.native_rate_hz, name=f"exp{e:02d}_user{u:02d}",
                    report=report)
        report.log(self.name)
        return out, report

    def _read_exp(self, arc: Archive, root: str, e: int, u: int) -> np.ndarray:
        parts = []
        for kind in ("acc", "gyro"):
            member = root + f"RawData/{kind}_exp{e:02d}_user{u:02d}.txt"
            parts.append(read_numeric(arc.read_text(member), arc.label(member), 3))
        acc, gyro = parts
        if len(acc) != len(gyro):
            log.warning("exp%02d user%02d: acc has %d rows, gyro %d; truncating", e, u, len(acc), len(gyro))
        n = min(len(acc), len(gyro))
        x = np.zeros((n, len(CHANNELS)), dtype=np.float64)
        x[:, group_index("acc")] = acc[:n] * STANDARD_GRAVITY
        x[:, group_index("gyro")] = gyro[:n]
        return x

    def official_split(self) -> tuple[list[str], list[str]]:
        test = [self.subject_id(s) for s in TEST_SUBJECTS]
        train = [self.subject_id(s) for s in range(1, N_SUBJECTS + 1) if s not in TEST_SUBJECTS]
        return train, test

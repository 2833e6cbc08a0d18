"""Apple-Watch shoulder-exercise recordings shipped in the PyPI package `seglearn` (BSD-3).

File: `seglearn/data/watch_dataset.npy`, a pickled dict with `X` (list of [T, 6] arrays:
ax, ay, az in g and wx, wy, wz in rad/s), `y` (exercise index), `y_labels` (7 names:
PEN, ABD, FEL, IR, ER, TRAP, ROW), `subject` (1..10), `side`. 50 Hz. The file is found
through the installed package WITHOUT importing seglearn (it may not import on new numpy),
so `fetch watch` needs no download and no --from: it is the embedded default dataset.
Held-out subjects (not an official split; fixed and documented): 8, 9, 10.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from tcnvae.contract import N_CHANNELS, STANDARD_GRAVITY
from tcnvae.data.errors import DataError
from tcnvae.data.recording import DropReport, Recording, canonical_recordings, group_index, present_mask
from tcnvae.data.sources.base import Source

FILE_NAME = "watch_dataset.npy"
LABELS = ("PEN", "ABD", "FEL", "IR", "ER", "TRAP", "ROW")
# The exercises as the dataset's authors name them (SPAR dataset, dmbee/SPAR-dataset).
MEANINGS = {"PEN": "pendulum", "ABD": "abduction", "FEL": "forward elevation",
            "IR": "internal rotation (resistance band)", "ER": "external rotation (resistance band)",
            "TRAP": "lower trapezius row (resistance band)", "ROW": "bent-over row (3 lb dumbbell)"}
TEST_SUBJECTS = (8, 9, 10)
ALL_SUBJECTS = tuple(range(1, 11))


class Watch(Source):
    name = "watch"
    description = "seglearn Apple-Watch: wrist acc+gyro, 10 subjects, 7 shoulder exercises, 50 Hz"
    url = "https://raw.githubusercontent.com/dmbee/seglearn/master/seglearn/data/watch_dataset.npy"
    sha256 = "eb122f23cdf06ef6bd6c6c5312958ec5cf9d038e2e6d457b8081662c75a42537"
    license = "BSD-3-Clause"
    label_names = LABELS
    label_meanings = MEANINGS
    native_rate_hz = 50.0

    def default_path(self) -> Path | None:
        spec = importlib.util.find_spec("seglearn")
        for loc in (spec.submodule_search_locations or []) if spec else []:
            path = Path(loc) / "data" / FILE_NAME
            if path.is_file():
                return path
        return None

    def _load(self, path: Path) -> dict:
        path = Path(path)
        if path.is_dir():
            path = path / FILE_NAME
        try:
            data = np.load(path, allow_pickle=True).item()  # trusted: the pinned seglearn file
        except (OSError, ValueError, EOFError) as exc:
            raise DataError(f"not a readable watch_dataset.npy: {exc}", path) from exc
        for key in ("X", "y", "subject", "y_labels"):
            if key not in data:
                raise DataError("missing key", path, field=key)
        if tuple(data["y_labels"]) != LABELS:
            raise DataError(f"expected labels {LABELS}, found {data['y_labels']}", path, field="y_labels")
        for i, x in enumerate(data["X"]):
            if np.ndim(x) != 2 or np.shape(x)[1] != 6:
                raise DataError(f"expected [T, 6], got {np.shape(x)}", path, field=f"X[{i}]")
        if not len(data["X"]) == len(data["y"]) == len(data["subject"]):
            raise DataError("X, y and subject differ in length", path, field="X")
        return data

    def verify(self, path: Path) -> None:
        self._load(path)

    def parse_with_report(self, path: Path) -> tuple[list[Recording], DropReport]:
        report = DropReport()
        data = self._load(path)
        out: list[Recording] = []
        for i, (arr, y, subj) in enumerate(zip(data["X"], data["y"], data["subject"])):
            arr = np.asarray(arr, dtype=np.float64)
            x = np.zeros((len(arr), N_CHANNELS))
            x[:, group_index("acc")] = arr[:, 0:3] * STANDARD_GRAVITY
            x[:, group_index("gyro")] = arr[:, 3:6]
            out += canonical_recordings(
                x, present_mask("acc", "gyro"), np.full(len(arr), int(y), dtype=np.int64),
                label_names=LABELS, subject=self.subject_id(int(subj)), domain=self.name,
                rate_hz=self.native_rate_hz, name=f"rec{i:03d}_s{int(subj)}_{LABELS[int(y)]}",
                report=report)
        report.log(self.name)
        return out, report

    def official_split(self) -> tuple[list[str], list[str]]:
        test = [self.subject_id(s) for s in TEST_SUBJECTS]
        return [self.subject_id(s) for s in ALL_SUBJECTS if s not in TEST_SUBJECTS], test

"""Real recordings as a user's CSV folder: UCI-HAPT raw experiments, labels kept or dropped.

Each experiment becomes one file (acc in g, gyro in rad/s, 50 Hz, as HAPT records them) of its
own subject, with a `label` column from RawData/labels.txt where `labelled` says so: empty
cells elsewhere (HAPT's unlabelled gaps too), or no label column at all for `labels=False`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

HAPT_ZIP = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "uci-hapt.zip"
RATE_HZ = 50.0
NAMES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
# (experiment file stem, user): four subjects, two experiments' worth of data each is plenty.
EXPERIMENTS = (("exp01_user01", 1), ("exp03_user02", 2), ("exp05_user03", 3), ("exp07_user04", 4))


def write_hapt_folder(out: Path, seconds: float = 160.0, labels: bool = True,
                      labelled_experiments: tuple[int, ...] | None = None) -> Path:
    """A CSV folder of the first `seconds` of each experiment; `labelled_experiments` (indices into
    EXPERIMENTS, default all) keep their HAPT-6 labels, the others get empty label cells."""
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(HAPT_ZIP.resolve()) as zf:
        table = np.loadtxt(zf.open("RawData/labels.txt"), dtype=np.int64)
        for k, (stem, user) in enumerate(EXPERIMENTS):
            acc = np.loadtxt(zf.open(f"RawData/acc_{stem}.txt"))
            gyro = np.loadtxt(zf.open(f"RawData/gyro_{stem}.txt"))
            n = min(len(acc), int(seconds * RATE_HZ))
            exp = int(stem[3:5])
            lab = np.full(n, "", dtype=object)
            if labelled_experiments is None or k in labelled_experiments:
                for e, _u, act, a, b in table:
                    if e == exp and act <= len(NAMES):
                        lab[a - 1:min(b, n)] = NAMES[act - 1]
            header = "ax,ay,az,gx,gy,gz" + (",label" if labels else "")
            rows = [",".join(f"{v:.6f}" for v in np.r_[acc[i], gyro[i]]) + (f",{lab[i]}" if labels else "")
                    for i in range(n)]
            (out / f"{stem}.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    (out / "meta.json").write_text(json.dumps({"rate_hz": RATE_HZ, "units": {"acc": "g"}}))
    return out

"""Write the shipped example recordings: short real excerpts of UCI HAPT (CC BY 4.0).

    .venv/bin/python scripts/make_examples.py [--zip ../shared/data/uci-hapt.zip]

Writes src/tcnvae/data/examples/csv_example/: four CSV files (two subjects; postures, walking,
stairs) in the documented CSV-folder format, acc in g and gyro in rad/s at 50 Hz exactly as the
phone recorded them, with a `t` column and HAPT's labels mapped to the canonical names
(postural transitions and unlabelled stretches are left empty = unlabelled), plus meta.json.
Deterministic: the same zip gives the same files.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "tcnvae" / "data" / "examples" / "csv_example"
RATE_HZ = 50
NAMES = {1: "walking", 2: "stairs_up", 3: "stairs_down", 4: "sitting", 5: "standing", 6: "lying"}
# (file, experiment, user, first sample, end sample): contiguous stretches of one recording
EXCERPTS = [
    ("user01_postures.csv", 1, 1, 1000, 4000),   # standing, sitting, standing, lying (60 s)
    ("user01_walk.csv", 1, 1, 7496, 9250),       # walking, a turn (unlabelled), walking (35 s)
    ("user02_postures.csv", 3, 2, 1300, 4600),   # standing, sitting, standing, lying (66 s)
    ("user02_stairs.csv", 3, 2, 11704, 13306),   # down, a turn (unlabelled), up (32 s)
]


def excerpt(zf: zipfile.ZipFile, labels: np.ndarray, exp: int, user: int, a: int, b: int) -> str:
    acc = np.loadtxt(zf.open(f"RawData/acc_exp{exp:02d}_user{user:02d}.txt"))[a:b]
    gyro = np.loadtxt(zf.open(f"RawData/gyro_exp{exp:02d}_user{user:02d}.txt"))[a:b]
    lab = [""] * (b - a)
    for e, u, act, start, end in labels:  # labels.txt: 1-based inclusive sample ranges
        if e == exp and u == user and act in NAMES:
            for i in range(max(start - 1, a), min(end, b)):
                lab[i - a] = NAMES[act]
    rows = ["t,ax,ay,az,gx,gy,gz,label"]
    rows += [f"{i / RATE_HZ:.2f}," + ",".join(f"{v:.4f}" for v in (*acc[i], *gyro[i])) + f",{lab[i]}"
             for i in range(b - a)]
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", type=Path, default=REPO / ".." / "shared" / "data" / "uci-hapt.zip")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.csv"):
        old.unlink()
    with zipfile.ZipFile(args.zip) as zf:
        labels = np.loadtxt(zf.open("RawData/labels.txt"), dtype=int)
        for name, exp, user, a, b in EXCERPTS:
            (OUT / name).write_text(excerpt(zf, labels, exp, user, a, b))
    meta = {"units": {"acc": "g", "gyro": "rad/s"},
            "subjects": {name: f"user{user:02d}" for name, _, user, _, _ in EXCERPTS},
            "labels": ["walking", "stairs_up", "stairs_down", "sitting", "standing", "lying"],
            "test_subjects": ["user02"]}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(EXCERPTS)} recordings and meta.json to {OUT}")


if __name__ == "__main__":
    main()

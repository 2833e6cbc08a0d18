"""Real recordings as a user's CSV folder: UCI HAPT raw data written in the documented format.

One file per subject and activity (the layout that makes one-file-one-subject inference wrong),
acc in g and gyro in rad/s at 50 Hz as the phone recorded them, with a `subject` column and
`meta.json` declaring the units. Read from the read-only shared zip; written to a temp dir.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

HAPT_ZIP = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "uci-hapt.zip").resolve()
RATE_HZ = 50.0
ACTIVITIES = {1: "walk", 4: "sit", 5: "stand", 6: "lie"}


def hapt_segments(users: tuple[int, ...], max_s: float = 20.0) -> list[tuple[int, str, np.ndarray]]:
    """(user, activity, [T, 6] acc g + gyro rad/s) for the first labelled segment of each
    activity in ACTIVITIES, per user (their first experiment), cut to `max_s` seconds."""
    with zipfile.ZipFile(HAPT_ZIP) as zf:
        labels = np.loadtxt(zf.open("RawData/labels.txt"), dtype=int)
        out = []
        for user in users:
            rows = labels[labels[:, 1] == user]
            exp = int(rows[0, 0])
            rows = rows[rows[:, 0] == exp]
            acc = np.loadtxt(zf.open(f"RawData/acc_exp{exp:02d}_user{user:02d}.txt"))
            gyro = np.loadtxt(zf.open(f"RawData/gyro_exp{exp:02d}_user{user:02d}.txt"))
            for act, name in ACTIVITIES.items():
                seg = rows[rows[:, 2] == act]
                if len(seg):
                    a, b = int(seg[0, 3]), min(int(seg[0, 4]), int(seg[0, 3] + max_s * RATE_HZ))
                    out.append((user, name, np.concatenate([acc[a:b], gyro[a:b]], axis=1)))
    return out


def earth_field(acc_g: np.ndarray, field_ut: float = 48.0, dip_deg: float = 60.0) -> np.ndarray:
    """[T, 3] magnetometer readings (uT) of a device whose gravity reading is `acc_g`: the Earth's
    field at `dip_deg` inclination turns with the device (HAPT has no magnetometer)."""
    down = acc_g / np.linalg.norm(acc_g, axis=1, keepdims=True)
    north = np.cross(down, [1.0, 0.0, 0.0])
    north /= np.linalg.norm(north, axis=1, keepdims=True)
    dip = np.radians(dip_deg)
    return field_ut * (np.cos(dip) * north + np.sin(dip) * down)


def write_folder(dest: Path, users: tuple[int, ...] = (1, 2, 3, 4), max_s: float = 20.0,
                 acc_scale: float = 1.0, gyro_scale: float = 1.0, meta: dict | None = None,
                 subject_column: bool = True, mag_scale: float | None = None) -> Path:
    """A CSV folder of real HAPT segments. `acc_scale`/`gyro_scale` multiply the written values
    (to write them in another unit than `meta` declares); `meta` overrides meta.json keys;
    `mag_scale` adds mx,my,mz (the Earth's field in uT times it)."""
    dest.mkdir(parents=True, exist_ok=True)
    for user, name, x in hapt_segments(users, max_s):
        cols = [x[:, :3] * acc_scale, x[:, 3:] * gyro_scale]
        if mag_scale is not None:
            cols.append(earth_field(x[:, :3]) * mag_scale)
        x = np.concatenate(cols, axis=1)
        header = ["ax", "ay", "az", "gx", "gy", "gz"] + (["mx", "my", "mz"] if mag_scale is not None else [])
        lines = [",".join((["subject"] if subject_column else []) + header + ["label"])]
        lines += [(f"u{user}," if subject_column else "") + ",".join(f"{v:.5g}" for v in row) + f",{name}"
                  for row in x]
        (dest / f"u{user}_{name}.csv").write_text("\n".join(lines) + "\n")
    doc = {"rate_hz": RATE_HZ, "units": {"acc": "g", "gyro": "rad/s"}, **(meta or {})}
    (dest / "meta.json").write_text(json.dumps(doc, indent=2))
    return dest

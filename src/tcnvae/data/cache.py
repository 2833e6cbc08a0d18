"""Parsed recordings cached as one .npz per source file, keyed by that file's sha256.

Written to a temporary name and moved into place with os.replace, so a crash leaves either
the old entry or none, never half of one. An unreadable entry is treated as a miss.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
import zipfile
from pathlib import Path

import numpy as np

from tcnvae.contract import CHANNELS
from tcnvae.data.recording import DropReport, Recording

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def cache_path(dataset_dir: Path, sha256: str, tag: str) -> Path:
    return Path(dataset_dir) / "cache" / f"recordings-{sha256[:16]}-{tag}-f{FORMAT_VERSION}.npz"


def atomic_write_bytes(path: Path, write) -> None:
    """Call write(file) on a temporary sibling of `path`, fsync, then os.replace into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_cache(path: Path, recordings: list[Recording], report: DropReport) -> None:
    """Store recordings (only the channels present in any of them) and the drop report."""
    present = np.array([r.present for r in recordings], dtype=bool).reshape(-1, len(CHANNELS))
    cols = np.flatnonzero(present.any(axis=0)) if len(recordings) else np.zeros(0, dtype=np.int64)
    offsets = np.cumsum([0] + [len(r) for r in recordings]).astype(np.int64)
    label_sets = sorted({r.label_names for r in recordings})
    meta = {
        "names": [r.name for r in recordings], "subjects": [r.subject for r in recordings],
        "domains": [r.domain for r in recordings], "rates": [r.rate_hz for r in recordings],
        "label_sets": [list(s) for s in label_sets],
        "label_set_of": [label_sets.index(r.label_names) for r in recordings],
        "report": report.as_dict(), "channels": list(CHANNELS),
    }
    signals = (np.concatenate([r.signals[:, cols] for r in recordings])
               if recordings else np.zeros((0, len(cols)), np.float32))
    labels = np.concatenate([r.labels for r in recordings]) if recordings else np.zeros(0, np.int64)
    atomic_write_bytes(path, lambda fh: np.savez(
        fh, signals=signals.astype(np.float32), labels=labels.astype(np.int32), cols=cols,
        offsets=offsets, present=present, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8)))


def load_cache(path: Path) -> tuple[list[Recording], DropReport] | None:
    """The cached recordings, or None when the entry is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            signals, labels, cols = z["signals"], z["labels"].astype(np.int64), z["cols"]
            offsets, present = z["offsets"], z["present"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable cache entry %s: %s", path, exc)
        return None
    if meta.get("channels") != list(CHANNELS):
        return None
    recordings = []
    for i, name in enumerate(meta["names"]):
        a, b = offsets[i], offsets[i + 1]
        full = np.zeros((b - a, len(CHANNELS)), dtype=np.float32)
        full[:, cols] = signals[a:b]
        recordings.append(Recording(
            signals=full, present=present[i].copy(), labels=labels[a:b],
            label_names=tuple(meta["label_sets"][meta["label_set_of"][i]]),
            subject=meta["subjects"][i], domain=meta["domains"][i], rate_hz=float(meta["rates"][i]),
            name=name))
    report = DropReport()
    report.counts.update(meta["report"])
    return recordings, report

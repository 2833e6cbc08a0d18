"""Library side of `tcnvae data list|fetch|inspect`, and the cached recording loader.

The CLI is a thin shell over `list_sources`, `fetch` and `inspect`; training calls
`load_recordings`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tcnvae.contract import CHANNELS, RATE_HZ, STRIDE, WINDOW
from tcnvae.data.cache import cache_path, load_cache, save_cache
from tcnvae.data.errors import DataError
from tcnvae.data.fetch import data_root, fetch, read_manifest
from tcnvae.data.recording import DropReport, Recording
from tcnvae.data.sources import SOURCES, get_source
from tcnvae.data.splits import leave_subjects_out
from tcnvae.data.windows import make_windows, natural_key

log = logging.getLogger(__name__)


def load_with_report(
    name: str, data_dir: str | Path | None = None, use_cache: bool = True
) -> tuple[list[Recording], DropReport, dict]:
    """(recordings, drop report, manifest). Fetches embedded datasets (watch) on first use."""
    source = get_source(name)
    manifest = read_manifest(name, data_dir)
    if manifest is None:
        if source.default_path() is None:
            raise DataError(f"dataset {name!r} is not fetched; run `tcnvae data fetch {name}`",
                            data_root(data_dir) / name)
        fetch(name, data_dir=data_dir)
        manifest = read_manifest(name, data_dir)
    folder = data_root(data_dir) / name
    entry = cache_path(folder, manifest["sha256"], source.cache_tag())
    cached = load_cache(entry) if use_cache else None
    if cached is not None:
        return cached[0], cached[1], manifest
    log.info("parsing %s (cache miss: %s)", name, entry.name)
    recordings, report = source.parse_with_report(folder / manifest["file"])
    save_cache(entry, recordings, report)
    return recordings, report, manifest


def load_recordings(name: str, data_dir: str | Path | None = None, use_cache: bool = True) -> list[Recording]:
    """Canonical recordings of a fetched dataset (SI units, RATE_HZ), from the cache when possible."""
    return load_with_report(name, data_dir, use_cache)[0]


def default_test_subjects(name: str, data_dir: str | Path | None = None) -> list[str] | None:
    """A dataset's default held-out subjects: its official split, or a CSV folder's meta.json
    `test_subjects`; None when it has neither."""
    manifest = read_manifest(name, data_dir)
    path = data_root(data_dir) / name / manifest["file"] if manifest else None
    return get_source(name).test_subjects(path)


def list_sources(data_dir: str | Path | None = None) -> list[dict]:
    """One dict per known source, with whether (and what) is fetched in the data dir."""
    rows = []
    for name, source in SOURCES.items():
        manifest = read_manifest(name, data_dir)
        embedded = source.default_path() is not None
        rows.append({**source.describe(), "fetched": manifest is not None, "embedded": embedded,
                     "sha256_seen": manifest["sha256"] if manifest else None})
    return rows


def inspect(name: str, data_dir: str | Path | None = None) -> dict:
    """Subjects, classes, windows per class (WINDOW/STRIDE at RATE_HZ, official split when there
    is one), channels present, hash seen and drop counts of a fetched dataset."""
    source = get_source(name)
    recordings, report, manifest = load_with_report(name, data_dir)
    ws = make_windows(recordings, WINDOW, STRIDE)
    subjects = sorted({r.subject for r in recordings}, key=natural_key)
    present = ws.present if len(recordings) else []
    info = {
        "name": name, "description": source.description, "rate_hz": RATE_HZ,
        "native_rate_hz": source.native_rate_hz, "window": WINDOW, "stride": STRIDE,
        "n_recordings": len(recordings), "hours": round(sum(len(r) for r in recordings) / RATE_HZ / 3600, 3),
        "subjects": subjects, "n_subjects": len(subjects), "classes": list(ws.label_names),
        "channels_present": [c for c, p in zip(CHANNELS, present) if p],
        "windows_total": len(ws), "windows_per_class": ws.class_counts(),
        "sha256_seen": manifest["sha256"], "sha256_pinned": source.sha256, "origin": manifest.get("origin"),
        "drops": report.as_dict(),
        "warnings": manifest.get("warnings", []),  # plausibility (data/plausibility.py), found at fetch
    }
    held = default_test_subjects(name, data_dir)
    if held is not None:
        train, test = leave_subjects_out(ws, held)
        info["split"] = {"train_subjects": train.subjects(), "test_subjects": held,
                         "train_windows_per_class": train.class_counts(),
                         "test_windows_per_class": test.class_counts()}
    else:
        info["split"] = {"none": "no official split and no meta.json test_subjects: hold subjects out with "
                                 "`tcnvae train --test-subjects A,B` or cross-validate with `tcnvae cv`"}
    return info

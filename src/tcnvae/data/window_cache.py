"""Cut windows cached on disk, memory-mapped on the next run: a second `train` starts in seconds.

    ws = load_windows("uci-hapt", stride=25)   # parses + windows once, then reads the cache

One folder per (source file hash, window, stride, windowing options, code version) under the
dataset's cache/ folder: `x.npy` (float32 [N, WINDOW, 9], opened with mmap_mode="r") and
`meta.npz` (labels, subjects, domains, channels present, label names). The code version is a
hash of the source's parser module, the recording cache format and the windowing module, so
a change to how recordings are parsed or windows are cut or labelled is a cache miss, never a
stale hit. Entries are written into a temporary folder and renamed into place (atomic); an
unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np

from tcnvae.contract import STRIDE, WINDOW
from tcnvae.data import cache as recording_cache
from tcnvae.data import windows as windowing
from tcnvae.data.dataset import load_with_report
from tcnvae.data.fetch import data_root, read_manifest
from tcnvae.data.sources import get_source
from tcnvae.data.windows import WindowSet, make_windows

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


def code_version(name: str) -> str:
    """Hash of the code that turns the source file into windows (parser, recording cache, windowing)."""
    h = hashlib.sha256(f"windows-f{FORMAT_VERSION}-recordings-f{recording_cache.FORMAT_VERSION}".encode())
    source = get_source(name)
    h.update(source.cache_tag().encode())
    for module in (sys.modules[type(source).__module__], windowing):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:12]


def entry_dir(name: str, data_dir, sha256: str, size: int, stride: int, options: dict) -> Path:
    opts = "-".join(f"{k}{v}" for k, v in sorted(options.items()))
    return (data_root(data_dir) / name / "cache" /
            f"windows-{sha256[:16]}-w{size}-s{stride}{'-' + opts if opts else ''}-{code_version(name)}")


def load_windows(name: str, data_dir=None, size: int = WINDOW, stride: int = STRIDE, use_cache: bool = True,
                 **options) -> WindowSet:
    """make_windows(load_recordings(name), size, stride, **options), from the cache when possible."""
    recordings = None
    manifest = read_manifest(name, data_dir)
    if manifest is None:  # not fetched yet: load_with_report fetches an embedded set (or says how)
        recordings = load_with_report(name, data_dir, use_cache)[0]
        manifest = read_manifest(name, data_dir)
    if not use_cache or manifest is None:
        return make_windows(recordings or load_with_report(name, data_dir, use_cache)[0], size, stride, **options)
    entry = entry_dir(name, data_dir, manifest["sha256"], size, stride, options)
    cached = read_entry(entry) if recordings is None else None
    if cached is not None:
        log.info("windows of %s from cache (%d windows, memory-mapped): %s", name, len(cached), entry.name)
        return cached
    if entry.exists():  # unreadable (see read_entry): replace it rather than miss on every run
        shutil.rmtree(entry, ignore_errors=True)
    if recordings is None:
        recordings = load_with_report(name, data_dir, use_cache)[0]
    log.info("windowing %s: %d recordings, window %d, stride %d", name, len(recordings), size, stride)
    ws = make_windows(recordings, size, stride, **options)
    write_entry(entry, ws)
    return ws


def write_entry(entry: Path, ws: WindowSet) -> None:
    tmp = entry.with_name(f".{entry.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        np.save(tmp / "x.npy", np.ascontiguousarray(ws.x, dtype=np.float32))
        np.savez(tmp / "meta.npz", y=ws.y, subject=ws.subject.astype(str), domain=ws.domain.astype(str),
                 present=ws.present, label_names=np.frombuffer(json.dumps(list(ws.label_names)).encode(), np.uint8))
        try:
            os.replace(tmp, entry)
        except OSError:  # another process published the same entry first: theirs is as good
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_entry(entry: Path) -> WindowSet | None:
    """The cached windows (x memory-mapped, read-only), or None when missing or unreadable."""
    if not (entry / "meta.npz").is_file():
        return None
    try:
        x = np.load(entry / "x.npy", mmap_mode="r")
        with np.load(entry / "meta.npz", allow_pickle=False) as z:
            ws = WindowSet(x=x, y=z["y"].astype(np.int64), subject=z["subject"], domain=z["domain"],
                           present=z["present"].astype(bool),
                           label_names=tuple(json.loads(z["label_names"].tobytes().decode())))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable window cache %s: %s", entry, exc)
        return None
    if len(ws.x) != len(ws.y):
        log.warning("ignoring inconsistent window cache %s (%d windows, %d labels)", entry, len(ws.x), len(ws.y))
        return None
    return ws

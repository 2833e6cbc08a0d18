"""Get a dataset into the data dir: download (or copy with --from), verify, parse, cache, publish.

Everything is staged in a temporary folder inside the data dir and moved into place with
os.replace only after the checksum (when pinned), the structure check and a full parse all
succeed; a failure leaves nothing behind. Layout::

    <data_dir>/<name>/manifest.json      what was fetched, from where, its sha256, drop counts
    <data_dir>/<name>/<file or folder>   the archive as distributed
    <data_dir>/<name>/cache/*.npz        parsed canonical recordings, keyed by the sha256
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from tcnvae.data.cache import atomic_write_bytes, cache_path, save_cache
from tcnvae.data.errors import DataError
from tcnvae.data.sources import get_source

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CHUNK = 1 << 20
Progress = Callable[[int, "int | None"], None]  # (bytes done, bytes total or None)


@dataclass(frozen=True)
class FetchResult:
    name: str
    path: str  # the dataset folder <data_dir>/<name>
    archive: str  # the stored file or folder
    sha256: str  # the hash seen
    sha256_pinned: str | None
    origin: str  # URL or local path it came from
    n_recordings: int
    drops: dict[str, int]


def data_root(data_dir: str | Path | None = None) -> Path:
    """`data_dir`, else $TCNVAE_DATA, else ~/.cache/tcnvae."""
    return Path(data_dir or os.environ.get("TCNVAE_DATA") or Path.home() / ".cache" / "tcnvae").expanduser()


def sha256_path(path: Path) -> str:
    """sha256 of a file, or of a folder as the sorted (relative path, file sha256) list."""
    path = Path(path)
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(f"{p.relative_to(path).as_posix()}\0{sha256_path(p)}\n".encode())
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: Path, progress: Progress | None = None, timeout: float = 60.0) -> None:
    """Stream `url` to `dest`; DataError on HTTP errors or a short body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
            total = resp.headers.get("Content-Length")
            total = int(total) if total else None
            done = 0
            for block in iter(lambda: resp.read(CHUNK), b""):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DataError(f"download failed: {exc}", url) from exc
    if total is not None and done != total:
        raise DataError(f"download truncated: {done} of {total} bytes", url)


def _obtain(source, from_path: Path | None, stage: Path, progress: Progress | None) -> tuple[Path, str]:
    origin = from_path or source.default_path()
    if origin is not None:
        origin = Path(origin).expanduser()
        if not origin.exists():
            raise DataError("no such file or directory", origin)
        dest = stage / origin.name
        (shutil.copytree if origin.is_dir() else shutil.copyfile)(origin, dest)
        return dest, str(origin)
    if not source.url:
        raise DataError(f"dataset {source.name!r} has no download URL; use --from PATH", field="from")
    fname = Path(urllib.parse.unquote(urllib.parse.urlparse(source.url).path)).name or "download"
    dest = stage / fname
    log.info("downloading %s", source.url)
    download(source.url, dest, progress)
    return dest, source.url


def fetch(
    name: str,
    from_path: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """Download (or copy `from_path`), verify, parse and atomically store dataset `name`."""
    source = get_source(name)
    root = data_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root))
    try:
        stored, origin = _obtain(source, Path(from_path) if from_path else None, stage, progress)
        seen = sha256_path(stored)
        if source.sha256 and seen != source.sha256:
            raise DataError(f"sha256 {seen} does not match the pinned {source.sha256}", origin)
        try:
            source.verify(stored)
            recordings, report = source.parse_with_report(stored)
        except DataError as exc:  # name the user's file, not our staging copy
            raise exc.relocated(stored, origin) from exc
        if not recordings:
            raise DataError("no recordings found", origin)
        save_cache(cache_path(stage, seen, source.cache_tag()), recordings, report)
        result = FetchResult(
            name=name, path=str(root / name), archive=str(root / name / stored.name), sha256=seen,
            sha256_pinned=source.sha256, origin=origin, n_recordings=len(recordings),
            drops=report.as_dict())
        manifest = {**asdict(result), "file": stored.name, "cache_tag": source.cache_tag(),
                    "warnings": list(report.warnings),
                    "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        atomic_write_bytes(stage / MANIFEST, lambda fh: fh.write(json.dumps(manifest, indent=2).encode()))
        _publish(stage, root / name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    log.info("fetched %s: %d recordings, sha256 %s", name, result.n_recordings, seen)
    return result


def _publish(stage: Path, final: Path) -> None:
    """Swap the staged folder in; the old one (if any) is moved aside first, then removed."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    os.replace(stage, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(name: str, data_dir: str | Path | None = None) -> dict | None:
    """The manifest of a fetched dataset, or None when it was never fetched."""
    path = data_root(data_dir) / name / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"corrupt manifest: {exc.msg}", path, exc.lineno) from exc

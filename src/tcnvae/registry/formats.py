"""File-format checks a release passes before any loader sees it, read from headers only.

A checksum proves a file is the one that was published, not that it is safe to load: a
pickle renamed `.safetensors`, or an `.npy` holding Python objects (which `np.load` would
unpickle with allow_pickle=True), can be published with matching sums. Also: which staging
folders are left over from a killed release.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np

STALE_UNNAMED_S = 3600.0  # staging folders from before they carried a pid: stale after an hour


def safetensors_problem(path: Path) -> str | None:
    """Why `path` is not a well-formed safetensors file, read from its header only; None if it is."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(9)
        # A safetensors file is an 8-byte header length, then the JSON header. Its length bytes
        # may well read "PK" or 0x80 (a 19,280-byte header does), so the pickle/zip magic is
        # only a diagnosis once the JSON is missing.
        if head[8:9] != b"{":
            if head[:2] == b"PK" or head[:1] == b"\x80":
                return "a pickle/zip file (torch.save), not safetensors; it is never unpickled"
            return "truncated: no safetensors header" if len(head) < 9 else "no safetensors JSON header"
        f.seek(8)
        n = int.from_bytes(head[:8], "little")
        if n < 2 or 8 + n > size:
            return f"header length {n} does not fit a file of {size} bytes"
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return f"unreadable safetensors header ({e})"
    if not isinstance(header, dict):
        return "safetensors header is not a JSON object"
    ends = [t.get("data_offsets", [0, 0])[1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)]
    if 8 + n + max(ends, default=0) != size:
        return f"tensor data ends at {8 + n + max(ends, default=0)} but the file has {size} bytes"
    return None


def npy_problem(path: Path) -> str | None:
    """Why an .npy/.npz would not load with allow_pickle=False (object arrays, bad headers); None if fine."""
    try:
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    with zf.open(member) as fh:
                        why = _array_header_problem(fh)
                    if why:
                        return f"{member}: {why}"
            return None
        with open(path, "rb") as fh:
            return _array_header_problem(fh)
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        return f"not a readable numpy file ({e})"


def _array_header_problem(fh) -> str | None:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        _shape, _order, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        _shape, _order, dtype = np.lib.format.read_array_header_2_0(fh)
    if dtype.hasobject:
        return f"holds Python objects (dtype {dtype}); it would need allow_pickle=True and is never loaded"
    return None


def staging_is_stale(folder: Path) -> bool:
    """`.staging-<pid>-*` whose process is gone (or, unnamed, older than an hour)."""
    pid_text = folder.name.removeprefix(".staging-").partition("-")[0]
    if not pid_text.isdigit():
        return time.time() - folder.stat().st_mtime > STALE_UNNAMED_S
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False

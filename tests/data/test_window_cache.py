"""The window cache: the same windows as cutting them afresh, memory-mapped, keyed, self-healing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tcnvae.data.dataset import load_recordings
from tcnvae.data.window_cache import code_version, load_windows
from tcnvae.data.windows import make_windows


def _same(a, b) -> None:
    assert np.array_equal(np.asarray(a.x), b.x) and np.array_equal(a.y, b.y)
    assert a.subject.tolist() == b.subject.tolist() and a.domain.tolist() == b.domain.tolist()
    assert np.array_equal(a.present, b.present) and a.label_names == b.label_names


def _entries(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "watch" / "cache").glob("windows-*") if p.is_dir())


def test_second_load_is_memory_mapped_and_identical(data_dir: Path) -> None:
    first = load_windows("watch", stride=50)
    fresh = make_windows(load_recordings("watch"), 100, 50)
    _same(first, fresh)
    (entry,) = _entries(data_dir)
    assert "-w100-s50-" in entry.name and entry.name.endswith(code_version("watch"))
    again = load_windows("watch", stride=50)
    assert isinstance(again.x, np.memmap) and not again.x.flags.writeable
    _same(again, fresh)


def test_stride_and_options_are_part_of_the_key(data_dir: Path) -> None:
    a = load_windows("watch", stride=50)
    b = load_windows("watch", stride=25)
    c = load_windows("watch", stride=50, purity=0.8)
    assert len(b) > len(a) and len(_entries(data_dir)) == 3
    _same(c, make_windows(load_recordings("watch"), 100, 50, purity=0.8))


def test_a_damaged_entry_is_a_miss_and_is_rewritten(data_dir: Path) -> None:
    fresh = load_windows("watch", stride=50)
    (entry,) = _entries(data_dir)
    (entry / "x.npy").write_bytes(b"\x93NUMPY broken")
    _same(load_windows("watch", stride=50), make_windows(load_recordings("watch"), 100, 50))
    (entry / "x.npy").unlink()
    _same(load_windows("watch", stride=50), fresh)

"""Download over real HTTP, corrupt archives, pinned hashes, atomic publish and the cache."""

import functools
import importlib
import http.server
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import tcnvae.data.cache as cache_mod
from tcnvae.data import DataError, fetch, load_recordings
from tcnvae.data.cache import load_cache, save_cache
from tcnvae.data.fetch import sha256_path
from tcnvae.data.sources import SOURCES


@pytest.fixture
def http_root(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www; yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urllib.request.urlopen(base + "/", timeout=5).close()  # ready (no sleep): one real request
    yield root, base
    server.shutdown()
    server.server_close()


def test_download_with_progress(http_root, make_zip, hapt_files, data_dir, monkeypatch):
    root, base = http_root
    archive = make_zip("hapt.zip", hapt_files())
    (root / "hapt.zip").write_bytes(archive.read_bytes())
    monkeypatch.setattr(SOURCES["uci-hapt"], "url", f"{base}/hapt.zip")
    seen = []
    res = fetch("uci-hapt", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (archive.stat().st_size, archive.stat().st_size)
    assert res.sha256 == sha256_path(archive) and Path(res.archive).is_file()
    assert len(load_recordings("uci-hapt")) == 2


def test_download_missing_url_and_pinned_hash(http_root, make_zip, hapt_files, data_dir, monkeypatch):
    root, base = http_root
    monkeypatch.setattr(SOURCES["uci-hapt"], "url", f"{base}/nope.zip")
    with pytest.raises(DataError, match="nope.zip.*404"):
        fetch("uci-hapt")
    (root / "hapt.zip").write_bytes(make_zip("hapt.zip", hapt_files()).read_bytes())
    monkeypatch.setattr(SOURCES["uci-hapt"], "url", f"{base}/hapt.zip")
    monkeypatch.setattr(SOURCES["uci-hapt"], "sha256", "0" * 64)
    with pytest.raises(DataError, match="does not match the pinned"):
        fetch("uci-hapt")
    assert not data_dir.exists() or not any(data_dir.iterdir())


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_zip_stores_nothing(make_zip, hapt_files, data_dir, damage):
    path = make_zip("hapt.zip", hapt_files())
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"hapt\.zip.*(truncated|corrupt)"):
        fetch("uci-hapt", from_path=path)
    assert not any(data_dir.iterdir())


def test_failed_refetch_keeps_the_old_copy(make_zip, hapt_files, data_dir, monkeypatch):
    good = make_zip("hapt.zip", hapt_files())
    first = fetch("uci-hapt", from_path=good)

    def boom(*args, **kwargs):
        raise RuntimeError("crash while writing the cache")

    monkeypatch.setattr(importlib.import_module("tcnvae.data.fetch"), "save_cache", boom)
    with pytest.raises(RuntimeError):
        fetch("uci-hapt", from_path=good)
    assert sorted(p.name for p in data_dir.iterdir()) == ["uci-hapt"]  # no staging left over
    assert len(load_recordings("uci-hapt")) == first.n_recordings


def test_cache_round_trip_and_use(make_zip, hapt_files, data_dir, monkeypatch):
    fetch("uci-hapt", from_path=make_zip("hapt.zip", hapt_files()))
    fresh = SOURCES["uci-hapt"].parse(data_dir / "uci-hapt" / "hapt.zip")
    monkeypatch.setattr(SOURCES["uci-hapt"], "parse_with_report", lambda p: pytest.fail("cache not used"))
    cached = load_recordings("uci-hapt")
    assert len(cached) == len(fresh)
    for a, b in zip(fresh, cached):
        np.testing.assert_array_equal(a.signals, b.signals)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.present, b.present)
        assert (a.subject, a.domain, a.name, a.label_names, a.rate_hz) == \
               (b.subject, b.domain, b.name, b.label_names, b.rate_hz)


def test_cache_write_is_atomic(tmp_path, make_zip, hapt_files, monkeypatch):
    recs, report = SOURCES["uci-hapt"].parse_with_report(make_zip("hapt.zip", hapt_files()))
    target = tmp_path / "c" / "entry.npz"

    def crash(fh, **arrays):
        fh.write(b"half an entry")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_mod.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_cache(target, recs, report)
    assert list(target.parent.iterdir()) == []
    monkeypatch.undo()
    save_cache(target, recs, report)
    assert len(load_cache(target)[0]) == len(recs)
    target.write_bytes(b"garbage")  # an unreadable entry is a miss, not a crash
    assert load_cache(target) is None

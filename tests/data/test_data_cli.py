"""`tcnvae data list | fetch | inspect` as a user runs them (real processes, real HAPT archive)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SHARED_ZIP = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "uci-hapt.zip"


def _tcnvae(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TCNVAE_DATA": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "tcnvae.cli", "data", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_fetch_then_inspect_uci_hapt(tmp_path: Path) -> None:
    fetched = _tcnvae(tmp_path, "fetch", "uci-hapt", "--from", str(SHARED_ZIP))
    assert fetched.returncode == 0, fetched.stderr
    assert "sha256 seen" in fetched.stdout
    inspected = _tcnvae(tmp_path, "inspect", "uci-hapt", "--json")
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert info["n_subjects"] == 30 and len(info["subjects"]) == 30
    assert len(info["classes"]) == 12
    listed = json.loads(_tcnvae(tmp_path, "list", "--json").stdout)
    assert {r["name"]: r["fetched"] for r in listed}["uci-hapt"] is True


def test_bad_archive_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(SHARED_ZIP.read_bytes()[:4096])  # truncated
    proc = _tcnvae(tmp_path, "fetch", "uci-hapt", "--from", str(bad))
    assert proc.returncode == 1
    assert "broken.zip" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "data" / "uci-hapt").exists()
    unknown = _tcnvae(tmp_path, "inspect", "no-such-dataset")
    assert unknown.returncode == 1 and "no-such-dataset" in unknown.stderr


def _csv_folder(tmp_path: Path, csv: str, meta: str) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(meta)
    (folder / "a.csv").write_text(csv)
    return folder


def test_a_huge_csv_cell_or_a_deep_meta_json_is_one_line_and_exit_1(tmp_path: Path) -> None:
    rows = "".join(f"{i * 0.02:.2f},0,0,9.8\n" for i in range(200))
    cases = {"cell": ("t,ax,ay,az\n" + "1" * 1_000_000 + ",1,2,3\n" + rows, '{"rate_hz": 50}', "131072"),
             "deep": ("t,ax,ay,az\n" + rows, '{"units": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
             "t in ms": ("t,ax,ay,az\n" + "".join(f"{i * 20},0,0,9.8\n" for i in range(200)), "{}", "t must be in seconds")}
    for name, (csv, meta, needle) in cases.items():
        proc = _tcnvae(tmp_path / name, "fetch", "csv", "--from", str(_csv_folder(tmp_path / name, csv, meta)))
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr, (name, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

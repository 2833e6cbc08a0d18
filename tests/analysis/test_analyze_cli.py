"""`tcnvae analyze` in-process: a JSON recording with the torch backend, and a refused recording."""

from __future__ import annotations

import json
from pathlib import Path

from tcnvae.cli import main
from tests.analysis.hapt_recording import hapt_signals, write_json


def test_analyze_json_recording(registry_root: Path, tmp_path: Path, capsys) -> None:
    rec = write_json(tmp_path / "walk.json", hapt_signals(seconds=20))
    out = tmp_path / "out"
    assert main(["analyze", str(rec), "--model", "tcn_encoder@champion", "--models", str(registry_root),
                 "--out", str(out), "--backend", "torch", "--stride", "100"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["source"] == "model" and res["model"] == "tcn_encoder@v1.0.0"
    assert res["n_windows"] == 20 and res["config"]["stride"] == 100
    assert {p.name for p in out.iterdir()} == {"results.json", "ethogram.png", "report.html"}
    assert "20 windows" in capsys.readouterr().out


def test_analyze_refuses_a_bad_recording_in_one_line(registry_root: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ax,ay,wobble\n1,2,3\n")
    assert main(["analyze", str(bad), "--model", "tcn_encoder@champion", "--models", str(registry_root),
                 "--backend", "torch", "--rate-hz", "50", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "wobble" in err[0]

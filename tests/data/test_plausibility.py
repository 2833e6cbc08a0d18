"""Unit mistakes caught from the data itself, on real HAPT recordings written in the wrong unit.

Each mistake is refused on every way in (CSV import, `tcnvae analyze`, a gateway upload) with a
message naming the file, the channel group, what was seen and the fix in that path's syntax;
the unusual-but-possible cases are warnings that `inspect`, `analyze` and session results show.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tcnvae.data import DataError, fetch
from tcnvae.data.dataset import inspect
from tests import hapt_csv

G = 9.80665
DEG = 180 / math.pi

pytestmark = pytest.mark.skipif(not hapt_csv.HAPT_ZIP.exists(), reason="UCI HAPT zip not available")


@pytest.mark.parametrize("acc, gyro, mag, units, group, seen, fix", [
    (1, 1, None, {"acc": "m/s^2"}, "acc", "g declared as m/s^2", '"units": {"acc": "g"}'),
    (G, 1, None, {"acc": "g"}, "acc", "m/s^2 declared as g", '"units": {"acc": "m/s^2"}'),
    (1, DEG, None, {"acc": "g", "gyro": "rad/s"}, "gyro", "deg/s declared as rad/s", '"units": {"gyro": "deg/s"}'),
    (1, 1, 0.01, {"acc": "g", "mag": "uT"}, "mag", "gauss declared as uT", '"units": {"mag": "gauss"}'),
    (1, 1, 1.0, {"acc": "g", "mag": "gauss"}, "mag", "uT declared as gauss", '"units": {"mag": "uT"}'),
], ids=["acc-g-as-si", "acc-si-as-g", "gyro-deg-as-rad", "mag-gauss-as-ut", "mag-ut-as-gauss"])
def test_csv_import_refuses_a_wrong_unit_with_the_fix(tmp_path: Path, acc, gyro, mag, units, group, seen,
                                                      fix) -> None:
    folder = hapt_csv.write_folder(tmp_path / "d", users=(1,), max_s=10.0, acc_scale=acc, gyro_scale=gyro,
                                   mag_scale=mag, meta={"units": units})
    with pytest.raises(DataError) as err:
        fetch("csv", from_path=folder, data_dir=tmp_path / "data")
    msg = str(err.value)
    assert f".csv [{group}]" in msg and str(folder) in msg, msg  # names the user's file, not a staging copy
    assert seen in msg and f"fix: declare meta.json {fix}" in msg, msg
    assert not (tmp_path / "data" / "csv").exists()  # nothing stored


def test_correct_units_pass_without_warnings(tmp_path: Path) -> None:
    folder = hapt_csv.write_folder(tmp_path / "d", users=(1, 2), max_s=10.0, mag_scale=1.0,
                                   meta={"units": {"acc": "g", "gyro": "rad/s", "mag": "uT"}})
    fetch("csv", from_path=folder, data_dir=tmp_path / "data")
    assert inspect("csv", tmp_path / "data")["warnings"] == []


def test_warnings_reach_inspect(tmp_path: Path) -> None:
    """Gravity removed (linear acceleration) and one-file-one-subject inferred for many files."""
    folder = hapt_csv.write_folder(tmp_path / "d", users=(1,), max_s=10.0, subject_column=False)
    for f in folder.glob("*.csv"):  # subtract each file's mean: what a phone's "linear acceleration" gives
        lines = f.read_text().splitlines()
        x = np.array([[float(v) for v in r.split(",")[:6]] for r in lines[1:]])
        x[:, :3] -= x[:, :3].mean(axis=0)
        f.write_text("\n".join([lines[0]] + [",".join(f"{v:.5g}" for v in row) + ",x" for row in x]) + "\n")
    fetch("csv", from_path=folder, data_dir=tmp_path / "data")
    warnings = inspect("csv", tmp_path / "data")["warnings"]
    assert any("[acc]" in w and "gravity seems removed" in w for w in warnings), warnings
    assert any("[subjects]" in w and "each file is its own subject" in w for w in warnings), warnings


def test_t_in_milliseconds_is_refused(tmp_path: Path) -> None:
    (d := tmp_path / "d").mkdir()
    (d / "meta.json").write_text(json.dumps({"units": {"acc": "g"}}))
    _, _, x = hapt_csv.hapt_segments((1,), 4.0)[0]
    rows = [f"{i * 20},{a:.5f},{b:.5f},{c:.5f}" for i, (a, b, c) in enumerate(x[:, :3])]  # t in ms at 50 Hz
    (d / "rec.csv").write_text("t,ax,ay,az\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"rec\.csv:2 \[t\]: t implies 0\.05 Hz.*t must be in seconds"):
        fetch("csv", from_path=d, data_dir=tmp_path / "data")


def _recording_csv(path: Path, acc_scale: float = 1.0) -> Path:
    _, _, x = hapt_csv.hapt_segments((1,), 10.0)[0]
    rows = [f"{i / 50:.2f}," + ",".join(f"{v:.5f}" for v in r) for i, r in
            enumerate(np.concatenate([x[:, :3] * acc_scale, x[:, 3:]], axis=1))]
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    return path


def test_analyze_names_the_units_flag(tmp_path: Path, capsys) -> None:
    from tcnvae.cli import main

    rec = _recording_csv(tmp_path / "walk.csv")  # acc in g, no --units
    assert main(["analyze", str(rec), "--model", "tcn_encoder@champion", "--models", str(tmp_path / "none"),
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "[acc]" in err and "g declared as m/s^2" in err and "fix: declare --units acc:g" in err, err
    assert len(err.strip().splitlines()) == 1


def test_gateway_upload_names_the_query_parameter_and_shows_warnings(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tcnvae.serve.gateway.app import create_app
    from tests.serve.gateway.test_app import API, settings, wait_done

    text = _recording_csv(tmp_path / "walk.csv").read_text()
    with TestClient(create_app(settings(tmp_path))) as client:
        r = client.post(f"{API}/sessions", content=text, headers={"Content-Type": "text/csv"})
        assert r.status_code == 422 and "fix: declare ?units=acc:g" in r.json()["error"], r.text
        ok = client.post(f"{API}/sessions?units=acc:g", content=text, headers={"Content-Type": "text/csv"})
        assert ok.status_code == 202, ok.text
        assert wait_done(client, ok.json()["id"]).json()["recording"]["warnings"] == []
        lines = text.splitlines()
        x = np.array([[float(v) for v in r.split(",")] for r in lines[1:]])
        x[:, 1:4] -= x[:, 1:4].mean(axis=0)  # gravity removed: possible, so a warning, not a refusal
        linear = "\n".join([lines[0]] + [",".join(f"{v:.5f}" for v in row) for row in x])
        r = client.post(f"{API}/sessions?units=acc:g", content=linear, headers={"Content-Type": "text/csv"})
        assert r.status_code == 202, r.text
        warnings = wait_done(client, r.json()["id"]).json()["recording"]["warnings"]
        assert len(warnings) == 1 and "gravity seems removed" in warnings[0]

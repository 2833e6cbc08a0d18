"""PAMAP2, WISDM, watch (seglearn) and the CSV folder, each in its official/own format."""

from pathlib import Path

import numpy as np
import pytest

import tcnvae.data as data_pkg
from tcnvae.contract import CHANNELS, RATE_HZ, STANDARD_GRAVITY
from tcnvae.data import DataError, fetch, inspect, load_recordings, make_windows
from tcnvae.data.dataset import load_with_report
from tcnvae.data.sources.wisdm import parse_lines
from tcnvae.data.recording import DropReport

CSV_EXAMPLE = Path(data_pkg.__file__).parent / "examples" / "csv_example"


def test_pamap2_gaps_transients_and_hand_imu(pamap2_zip, data_dir):
    fetch("pamap2", from_path=pamap2_zip)
    recs, report, _ = load_with_report("pamap2")
    drops = report.as_dict()
    assert drops["nan_gaps_interpolated"] == 2 and drops["nan_gaps_split"] == 2
    assert drops["transient_samples"] == 2 * 600
    assert len(recs) == 4 and all(r.present.all() and np.isfinite(r.signals).all() for r in recs)
    assert {r.subject for r in recs} == {"pamap2:101", "pamap2:105"}
    names = recs[0].label_names
    assert names[0] == "lying" and names[3] == "walking" and len(names) == 18
    ws = make_windows(recs)
    assert set(ws.class_counts()) == set(names) and ws.class_counts()["lying"] > 0


def test_pamap2_wrong_column_count(make_zip, data_dir):
    bad = make_zip("p.zip", {"PAMAP2_Dataset/Protocol/subject101.dat": "0 1 " + "1 " * 52 + "\n0 1 2\n"})
    with pytest.raises(DataError, match=r"^\S*p\.zip!PAMAP2_Dataset/Protocol/subject101\.dat:2: expected 54 columns"):
        fetch("pamap2", from_path=bad)
    assert not (data_dir / "pamap2").exists()


def test_wisdm_quirks_tolerated_and_counted(wisdm_tar, data_dir):
    fetch("wisdm", from_path=wisdm_tar)
    recs, report, _ = load_with_report("wisdm")
    assert report.as_dict()["wisdm_records_skipped"] == 20
    walk = [r for r in recs if r.subject == "wisdm:7"]
    assert len(walk) == 1 and len(walk[0]) == 400 * int(RATE_HZ / 20)
    assert walk[0].present.tolist() == [True] * 3 + [False] * 6
    assert abs(walk[0].signals[:, 1].mean() - 9.8) < 0.2


def test_wisdm_broken_file_names_line():
    text = "33,Jogging,1,1.0,2.0,3.0;\n33,Jogging,2,abc,2.0,3.0;\n33,Jogging,3,1.0,2.0,3.0;\n"
    with pytest.raises(DataError, match=r"raw\.txt:2.*1 of 3"):
        parse_lines(text, "raw.txt", DropReport())
    with pytest.raises(DataError, match="raw.txt:1"):
        parse_lines("\n\n", "raw.txt", DropReport())


def test_watch_is_embedded_default(data_dir):
    recs = load_recordings("watch")  # fetched on first use, no --from needed
    assert (data_dir / "watch" / "manifest.json").exists()
    assert len({r.subject for r in recs}) == 10 and len(recs) == 140
    assert recs[0].label_names == ("PEN", "ABD", "FEL", "IR", "ER", "TRAP", "ROW")
    g = np.linalg.norm(np.concatenate([r.signals[:, :3] for r in recs]), axis=1).mean()
    assert 0.7 * STANDARD_GRAVITY < g < 1.5 * STANDARD_GRAVITY
    info = inspect("watch")
    assert info["n_subjects"] == 10 and set(info["split"]["test_subjects"]) == {"watch:8", "watch:9", "watch:10"}


def test_csv_example_folder(data_dir):
    """The shipped examples: real HAPT excerpts, acc in g and gyro in rad/s at 50 Hz, a `t` column."""
    fetch("csv", from_path=CSV_EXAMPLE)
    recs = load_recordings("csv")
    assert {r.subject for r in recs} == {"csv:user01", "csv:user02"} and all(r.rate_hz == RATE_HZ for r in recs)
    assert recs[0].label_names == ("walking", "stairs_up", "stairs_down", "sitting", "standing", "lying")
    assert all([CHANNELS[i] for i in np.flatnonzero(r.present)] == list(CHANNELS[:6]) for r in recs)
    walk = next(r for r in recs if r.name == "user01_walk")
    assert abs(len(walk) - 1754 * 2) <= 2  # 50 Hz -> 100 Hz
    g = np.median(np.linalg.norm(walk.signals[:, :3], axis=1))
    assert 0.8 * STANDARD_GRAVITY < g < 1.2 * STANDARD_GRAVITY  # g -> m/s^2
    assert (walk.labels == -1).any() and (walk.labels == 0).sum() > 2000  # the unlabelled turn stays -1
    info = inspect("csv")
    assert info["split"]["test_subjects"] == ["csv:user02"] and info["warnings"] == []


def test_csv_subject_column_mag_and_blank_cells(tmp_path, data_dir):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "meta.json").write_text('{"rate_hz": 25, "units": {"acc": "g"}}')
    rows = ["subject,ax,ay,az,mx,my,mz,label"] + ["bob,0.000,0.050,0.990,22.4,-8.7,43.2,sit"] * 100
    rows[40] = "bob,0.000,0.050,0.990,22.4,-8.7,43.2,"
    rows[50] = "bob,,0.050,0.990,22.4,-8.7,43.2,sit"
    (folder / "bob_mixed.csv").write_text("\n".join(rows) + "\n")
    fetch("csv", from_path=folder)
    (bob,) = load_recordings("csv")
    assert bob.subject == "csv:bob" and bob.label_names == ("sit",)
    assert [CHANNELS[i] for i in np.flatnonzero(bob.present)] == ["ax", "ay", "az", "mx", "my", "mz"]
    assert abs(bob.signals[:, 2].mean() - 0.99 * STANDARD_GRAVITY) < 0.01  # g -> m/s^2
    assert abs(bob.signals[:, 6].mean() - 22.4) < 0.01 and np.isfinite(bob.signals).all()
    assert 1 <= (bob.labels == -1).sum() <= 8  # 1 unlabelled row at 25 Hz -> about 4 at 100 Hz


@pytest.mark.parametrize("edit,needle", [
    (("user01_walk.csv", 3, "0.02,x,-0.0611,-0.1083,-1.1335,-0.3916,0.1188,walking"),
     r"user01_walk\.csv:3 \[ax\].*non-numeric"),
    (("user01_walk.csv", 4, "0.04,0.1,0.050"), r"user01_walk\.csv:4.*columns"),
    (("user02_stairs.csv", 1, "t,ax,ay,az,gx,gy,gz,lable"), r"user02_stairs\.csv:1 \[lable\]"),
    (("user01_walk.csv", 2, "0.00,1.0028,-0.2042,-0.1083,-0.6759,0.6704,-0.0834,jump"),
     r"user01_walk\.csv:2 \[label\]"),
])
def test_csv_errors_name_file_and_line(tmp_path, data_dir, edit, needle):
    folder = tmp_path / "mine"
    folder.mkdir()
    for p in CSV_EXAMPLE.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    fname, lineno, text = edit
    lines = (folder / fname).read_text().splitlines()
    lines[lineno - 1] = text
    (folder / fname).write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=needle):
        fetch("csv", from_path=folder)
    assert not (data_dir / "csv").exists()

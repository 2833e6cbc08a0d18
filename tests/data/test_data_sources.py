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
    fetch("csv", from_path=CSV_EXAMPLE)
    recs = {r.subject: r for r in load_recordings("csv")}
    alice, bob = recs["csv:alice"], recs["csv:bob"]
    assert alice.label_names == ("walk", "sit") and alice.rate_hz == RATE_HZ
    assert [CHANNELS[i] for i in np.flatnonzero(bob.present)] == ["ax", "ay", "az", "mx", "my", "mz"]
    assert abs(bob.signals[:, 2].mean() - 0.99 * STANDARD_GRAVITY) < 0.01  # g -> m/s^2
    assert abs(bob.signals[:, 6].mean() - 22.4) < 0.01 and np.isfinite(bob.signals).all()
    assert (bob.labels == -1).sum() == 5 * 4  # 5 unlabelled rows at 25 Hz -> 100 Hz
    assert abs(len(alice) - 150 * 4) <= 1


@pytest.mark.parametrize("edit,needle", [
    (("bob_mixed.csv", 3, "bob,x,0.050,0.990,22.4,-8.7,43.2,sit"), r"bob_mixed\.csv:3 \[ax\].*non-numeric"),
    (("bob_mixed.csv", 4, "bob,0.1,0.050"), r"bob_mixed\.csv:4.*columns"),
    (("bob_mixed.csv", 1, "subject,ax,ay,az,mx,my,mz,lable"), r"bob_mixed\.csv:1 \[lable\]"),
    (("alice_walk.csv", 2, "0.00,0.009,-0.014,1.000,0.00,-0.68,0.37,jump"), r"alice_walk\.csv:2 \[label\]"),
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

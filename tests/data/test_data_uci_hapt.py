"""UCI HAPT: the real archive and small official-format variants."""

import numpy as np
import pytest

from tcnvae.contract import RATE_HZ, STANDARD_GRAVITY
from tcnvae.data import DataError, fetch, load_recordings, make_windows, official_split
from tcnvae.data.sources import SOURCES


def test_real_archive(hapt_dir):
    recs = load_recordings("uci-hapt", data_dir=hapt_dir)
    assert len({r.subject for r in recs}) == 30
    assert len(recs[0].label_names) == 12 and recs[0].label_names[-1] == "LIE_TO_STAND"
    assert all(r.rate_hz == RATE_HZ and r.present.sum() == 6 for r in recs)
    train, test = official_split("uci-hapt")
    assert len(train) == 21 and len(test) == 9 and not set(train) & set(test)
    assert sorted(int(s.split(":")[1]) for s in test) == [2, 4, 9, 10, 12, 13, 18, 20, 24]
    ws = make_windows(recs)
    assert len(ws.class_counts()) == 12 and ws.x.shape[1:] == (100, 9)
    still = ws.x[ws.y == ws.label_names.index("LAYING")]
    g = np.linalg.norm(still[:, :, :3], axis=2).mean()
    assert abs(g - STANDARD_GRAVITY) < 0.5  # acc converted from g to m/s^2


@pytest.mark.parametrize("top,full", [("", False), ("HAPT Data Set/", True)])
def test_layouts_accepted(make_zip, data_dir, hapt_files, top, full):
    path = make_zip("hapt.zip", hapt_files(top, full))
    res = fetch("uci-hapt", from_path=path)
    recs = load_recordings("uci-hapt")
    assert res.n_recordings == 2 and {r.subject for r in recs} == {"uci-hapt:1", "uci-hapt:2"}
    lab = recs[0].labels
    assert (lab[:600] == 0).all() and (lab[600:1160] == 3).all() and (lab[1160:] == -1).all()


@pytest.mark.parametrize("mutate,needle", [
    (lambda f: f.pop("RawData/gyro_exp02_user02.txt"), "gyro_exp02_user02.txt"),
    (lambda f: f.update({"RawData/acc_exp01_user01.txt": "1 2 3\n4 5\n"}), "acc_exp01_user01.txt:2"),
    (lambda f: f.update({"RawData/labels.txt": "1 1 1 1 300\n1 1 x 2 3\n"}), "labels.txt:2"),
    (lambda f: f.update({"RawData/labels.txt": "1 1 13 1 300\n"}), "labels.txt:1"),
])
def test_broken_archives_name_file_and_line(make_zip, data_dir, hapt_files, mutate, needle):
    files = hapt_files()
    mutate(files)
    with pytest.raises(DataError, match=needle.replace(".", r"\.")):
        fetch("uci-hapt", from_path=make_zip("bad.zip", files))
    assert not (data_dir / "uci-hapt").exists()
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".")]


def test_source_table_complete():
    assert set(SOURCES) == {"uci-hapt", "pamap2", "wisdm", "watch", "csv"}
    for s in SOURCES.values():
        assert s.name and s.description and (s.url or s.name == "csv")

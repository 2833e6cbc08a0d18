"""Windows, subject-wise splits and the normalizer."""

import json
from pathlib import Path

import numpy as np
import pytest

from tcnvae.contract import CHANNELS, N_CHANNELS, RATE_HZ, STRIDE, WINDOW
from tcnvae.data import (DataError, Normalizer, Recording, domain_index, kfold_by_subject,
                         leave_subjects_out, load_recordings, make_windows, official_split,
                         validation_subjects)

SEED_CONFIG = Path("/work/shared/legacy/model_config.json")


def _rec(labels, subject="d:1", domain="d", names=("a", "b")) -> Recording:
    labels = np.asarray(labels, dtype=np.int64)
    sig = np.tile(np.arange(len(labels), dtype=np.float32)[:, None], (1, N_CHANNELS))
    return Recording(sig, np.ones(N_CHANNELS, bool), labels, names, subject, domain, RATE_HZ, "r")


def test_windows_cut_inside_label_runs():
    labels = [0] * 250 + [-1] * 30 + [1] * 199 + [0] * 100
    ws = make_windows([_rec(labels)])
    # run of 250 -> 4 windows, run of 199 -> 2, run of 100 -> 1; none crosses a boundary
    assert ws.y.tolist() == [0, 0, 0, 0, 1, 1, 0]
    assert ws.x[:, 0, 0].tolist() == [0, 50, 100, 150, 280, 330, 479]
    assert ws.x.shape == (7, WINDOW, N_CHANNELS) and ws.x.dtype == np.float32
    assert (np.diff(ws.x[:, :, 0], axis=1) == 1).all()
    grid = make_windows([_rec(labels)], grid="recording")  # starts on 0, 50, 100, ... only
    assert grid.x[:, 0, 0].tolist() == [0, 50, 100, 150, 300, 350]


def test_shifted_windows_keep_order_and_labels_and_stay_inside_the_recording():
    labels = [0] * 250 + [-1] * 30 + [1] * 199 + [0] * 100  # 579 samples, as above
    base = make_windows([_rec(labels)])
    later, earlier = make_windows([_rec(labels)], shift=25), make_windows([_rec(labels)], shift=-25)
    assert later.y.tolist() == earlier.y.tolist() == base.y.tolist()
    # each start moves by the shift, clipped to [0, 579 - 100]: the first cannot move earlier, the last later
    assert later.x[:, 0, 0].tolist() == [25, 75, 125, 175, 305, 355, 479]
    assert earlier.x[:, 0, 0].tolist() == [0, 25, 75, 125, 255, 305, 454]
    assert (np.diff(later.x[:, :, 0], axis=1) == 1).all()


def test_purity_below_one_keeps_majority():
    labels = [0] * 180 + [1] * 120
    ws = make_windows([_rec(labels)], purity=0.6)
    assert ws.y.tolist() == [0, 0, 0, 1, 1]  # the window 150..250 is 30/70 -> label 1 at 0.7


def test_label_union_and_domains():
    a = _rec([0] * 100, "x:1", "x", ("walk", "run"))
    b = _rec([0] * 100 + [1] * 100, "y:1", "y", ("run", "sit"))
    ws = make_windows([a, b])
    assert ws.label_names == ("walk", "run", "sit") and ws.y.tolist() == [0, 1, 2]
    ids, names = domain_index(ws.domain)
    assert names == ("x", "y") and ids.tolist() == [0, 1, 1]


def test_no_subject_in_two_splits(hapt_dir):
    ws = make_windows(load_recordings("uci-hapt", data_dir=hapt_dir))
    train, test = leave_subjects_out(ws, official_split("uci-hapt")[1])
    assert not set(train.subjects()) & set(test.subjects()) and len(train) + len(test) == len(ws)
    fit, val = validation_subjects(train.subjects(), 3, seed=0)
    assert len(val) == 3 and not set(fit) & set(val) and set(fit) | set(val) == set(train.subjects())
    assert len(validation_subjects(train.subjects(), 0.2, seed=1)[1]) == 4
    folds = kfold_by_subject(ws, 5, seed=0)
    assert sorted(s for _, te in folds for s in te) == sorted(ws.subjects())
    for tr, te in folds:
        assert not set(tr) & set(te)
    with pytest.raises(DataError, match="n_or_frac"):
        validation_subjects(train.subjects(), 0, seed=0)


def test_normalizer_fit_on_train_only(hapt_dir, tmp_path):
    ws = make_windows(load_recordings("uci-hapt", data_dir=hapt_dir))
    train, test = leave_subjects_out(ws, official_split("uci-hapt")[1])
    norm = Normalizer.fit(train.x, train.present)
    z = norm.apply(train.x)
    zz = z[..., :6].reshape(-1, 6).astype(np.float64)
    np.testing.assert_allclose(zz.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(zz.std(0), 1, atol=1e-3)
    assert (z[..., 6:] == 0).all() and (norm.std[6:] == 1).all() and (norm.mean[6:] == 0).all()
    assert not np.allclose(norm.mean, Normalizer.fit(test.x, test.present).mean)
    path = norm.save(tmp_path)
    d = json.loads(path.read_text())
    assert path.name == "normalization.json" and d["method"] == "z_score_per_channel"
    assert d["channel_order"] == list(CHANNELS) and set(d) >= {"units", "mean", "std", "present"}
    back = Normalizer.load(path)
    np.testing.assert_array_equal(back.apply(test.x), norm.apply(test.x))


def test_normalizer_reads_seed_block_and_refuses_bad():
    cfg = json.loads(SEED_CONFIG.read_text())
    norm = Normalizer.from_dict(cfg["normalization"])
    assert norm.present.all() and norm.mean[2] == pytest.approx(9.78)
    assert Normalizer.load(SEED_CONFIG).std[6] == pytest.approx(28.5)
    bad = dict(cfg["normalization"], channel_order=list(reversed(CHANNELS)))
    with pytest.raises(DataError, match="channel_order"):
        Normalizer.from_dict(bad)
    x = np.ones((2, WINDOW, N_CHANNELS), np.float32)
    const = Normalizer.fit(x, np.ones(N_CHANNELS, bool))  # std 0 guarded
    assert np.isfinite(const.apply(x)).all()

"""Held-out subjects from the CLI: `--test-subjects`, config `test_subjects`, meta.json, evaluate.

A CSV folder of real HAPT recordings (4 subjects, one file per subject and activity) goes
through `data fetch csv --from DIR`, `train --test-subjects`, `evaluate` with no other flags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcnvae.data import DataError
from tcnvae.data.splits import assign_subjects
from tcnvae.train.config import build_config
from tcnvae.train.prepare import prepare
from tests import hapt_csv

QUICK = ["--preset", "tiny", "--epochs", "1", "--batch-size", "32", "--val-subjects", "1", "--threads", "2"]


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TCNVAE_DATA": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "tcnvae.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    if not hapt_csv.HAPT_ZIP.exists():
        pytest.skip(f"{hapt_csv.HAPT_ZIP} not available")
    return hapt_csv.write_folder(tmp_path / "my_data", users=(1, 2, 3, 4), max_s=12.0)


def test_assign_subjects_accepts_bare_and_qualified_names() -> None:
    available = {"csv": ["csv:alice", "csv:bob"], "watch": ["watch:1", "watch:2"]}
    assert assign_subjects(["alice", "watch:2", "1", "alice"], available) == {
        "csv": ["csv:alice"], "watch": ["watch:2", "watch:1"]}
    with pytest.raises(DataError, match=r"\[test_subjects\].*'carol' is not a subject.*csv:alice"):
        assign_subjects(["carol"], available)
    with pytest.raises(DataError, match="several datasets.*write it as a:x"):
        assign_subjects(["x"], {"a": ["a:x"], "b": ["b:x"]})


def test_test_subjects_override_the_official_split() -> None:
    data = prepare(build_config(data="watch", test_subjects="1,watch:2", val_subjects=1))
    assert data.subjects["test"] == ["watch:1", "watch:2"]
    assert set(data.test.subjects()) == {"watch:1", "watch:2"}
    assert not {"watch:1", "watch:2"} & set(data.train.subjects() + data.val.subjects())


def test_config_file_test_subjects(tmp_path: Path) -> None:
    (tmp_path / "cfg.json").write_text(json.dumps({"data": ["watch"], "test_subjects": [3]}))
    assert build_config(tmp_path / "cfg.json").test_subjects == ("3",)


def test_one_training_subject_trains_without_early_stopping_unless_a_count_asks_for_more(
        csv_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tcnvae.data.fetch import fetch
    from tcnvae.train.config import ConfigError

    fetch("csv", from_path=csv_dir, data_dir=tmp_path / "data")
    cfg = build_config(data="csv", test_subjects="u2,u3,u4")  # the default val_subjects share: 0.15
    with caplog.at_level("WARNING", logger="tcnvae.train.prepare"):
        data = prepare(cfg, tmp_path / "data")
    assert data.subjects["train"] == ["csv:u1"] and not len(data.val) and len(data.train)
    assert "one training subject (csv:u1)" in caplog.text and "--val-subjects 0" in caplog.text
    with pytest.raises(ConfigError, match=r"--val-subjects 1: there are only 1 training subjects \(csv:u1\)"):
        prepare(build_config(data="csv", test_subjects="u2,u3,u4", val_subjects=1), tmp_path / "data")


def test_csv_folder_train_and_evaluate_on_the_given_subjects(csv_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _cli("data", "fetch", "csv", "--from", str(csv_dir), data_dir=data_dir).returncode == 0
    run = tmp_path / "run"
    proc = _cli("train", "--data", "csv", "--out", str(run), "--test-subjects", "u3,u4", *QUICK, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    labels = json.loads((run / "labels.json").read_text())
    assert labels["subjects"]["test"] == ["csv:u3", "csv:u4"]
    assert json.loads((run / "train_config.json").read_text())["test_subjects"] == ["u3", "u4"]
    out = tmp_path / "eval"
    proc = _cli("evaluate", str(run), "--data", "csv", "--out", str(out), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    test = json.loads((out / "eval_metrics.json").read_text())["test"]
    assert test["subjects"] == ["csv:u3", "csv:u4"]
    assert test["n_windows"] == json.loads((run / "eval_metrics.json").read_text())["test"]["n_windows"]
    assert test["linear_probe_accuracy"] is not None
    # a subject the model trained on is refused as a test subject
    proc = _cli("evaluate", str(run), "--data", "csv", "--out", str(out), "--test-subjects", "u1",
                data_dir=data_dir)
    assert proc.returncode == 1 and "trained on" in proc.stderr and "Traceback" not in proc.stderr


def test_meta_json_test_subjects_are_the_default_split(tmp_path: Path) -> None:
    if not hapt_csv.HAPT_ZIP.exists():
        pytest.skip(f"{hapt_csv.HAPT_ZIP} not available")
    folder = hapt_csv.write_folder(tmp_path / "d", users=(1, 2, 3), max_s=6.0, meta={"test_subjects": ["u2"]})
    data_dir = tmp_path / "data"
    assert _cli("data", "fetch", "csv", "--from", str(folder), data_dir=data_dir).returncode == 0
    proc = _cli("data", "inspect", "csv", "--json", data_dir=data_dir)
    assert json.loads(proc.stdout)["split"]["test_subjects"] == ["csv:u2"]
    data = prepare(build_config(data="csv", val_subjects=1), data_dir)
    assert data.subjects["test"] == ["csv:u2"] and data.test.subjects() == ["csv:u2"]
    bad = hapt_csv.write_folder(tmp_path / "bad", users=(1,), max_s=3.0, meta={"test_subjects": ["zoe"]})
    proc = _cli("data", "fetch", "csv", "--from", str(bad), data_dir=tmp_path / "data2")
    assert proc.returncode == 1 and "meta.json [test_subjects]" in proc.stderr and "zoe" in proc.stderr


def test_no_split_is_said_up_front_and_evaluate_names_the_flag(csv_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _cli("data", "fetch", "csv", "--from", str(csv_dir), data_dir=data_dir).returncode == 0
    run = tmp_path / "run"
    proc = _cli("train", "--data", "csv", "--out", str(run), *QUICK, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first_epoch = proc.stderr.find("epoch")
    warning = proc.stderr.find("no official split and no test subjects")
    assert 0 <= warning < (first_epoch if first_epoch >= 0 else len(proc.stderr)) and "--test-subjects" in proc.stderr
    proc = _cli("evaluate", str(run), "--data", "csv", "--out", str(tmp_path / "e"), data_dir=data_dir)
    assert proc.returncode == 1 and "--test-subjects" in proc.stderr and "Traceback" not in proc.stderr

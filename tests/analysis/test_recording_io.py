"""Reading user recordings (CSV via the data layer's `csv` source, JSON payloads) for analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.recording_io import RecordingMeta, json_to_csv, load_recording_file, parse_csv_text, parse_units
from tcnvae.contract import STANDARD_GRAVITY
from tests.analysis.hapt_recording import hapt_signals, write_csv, write_json


def test_hapt_csv_and_json_give_the_same_canonical_recording(tmp_path: Path) -> None:
    sig = hapt_signals(seconds=10)
    a = load_recording_file(write_csv(tmp_path / "r.csv", sig), RecordingMeta(units={"acc": "g"}))
    b = load_recording_file(write_json(tmp_path / "r.json", sig))
    assert a.signals.shape == b.signals.shape == (1000, 9)  # 50 Hz -> 100 Hz
    np.testing.assert_allclose(a.signals, b.signals, atol=1e-4)
    assert a.present.tolist() == [True] * 6 + [False] * 3
    # acc declared in g arrives in m/s^2 (gravity is about 1 g on the magnitude)
    assert np.linalg.norm(a.signals[:, :3], axis=1).mean() == pytest.approx(STANDARD_GRAVITY, rel=0.15)


@pytest.mark.parametrize("payload, needle", [
    ({"rate_hz": 50, "channels": ["ax", "qq"], "samples": [[1, 2]]}, "qq"),
    ({"rate_hz": 50, "channels": ["ax"], "samples": [[1], [1, 2]]}, "samples[1]"),
    ({"rate_hz": 50, "channels": ["ax"], "samples": [[1], ["x"]]}, "samples[1][0]"),
    ({"channels": ["ax"], "samples": [[1]]}, "rate_hz"),
    ({"rate_hz": 50, "channels": ["ax"], "samples": [[1]], "extra": 1}, "extra"),
])
def test_json_errors_name_the_field_or_index(payload: dict, needle: str) -> None:
    with pytest.raises(AnalysisInputError) as err:
        json_to_csv(payload)
    assert needle in str(err.value)


def test_csv_errors_name_the_problem() -> None:
    with pytest.raises(AnalysisInputError, match="speed"):
        parse_csv_text("ax,speed\n1,2\n", RecordingMeta(50.0))
    with pytest.raises(AnalysisInputError, match="60 samples"):
        parse_csv_text("ax\n" + "1\n" * 30, RecordingMeta(50.0))
    with pytest.raises(AnalysisInputError, match=r":3 \[ax\]"):
        parse_csv_text("ax\n1\nabc\n", RecordingMeta(50.0))
    with pytest.raises(AnalysisInputError, match="units"):
        parse_units("acc=g")
    with pytest.raises(AnalysisInputError, match="rate_hz"):
        RecordingMeta(-1.0)
    json.dumps(RecordingMeta(50.0, {"acc": "g"}).to_meta_json())


def test_a_csv_error_names_the_users_own_file_and_the_allowed_columns_in_words(tmp_path) -> None:
    typo = tmp_path / "typo.csv"
    typo.write_text("t,ax,ay,az,lable\n0,0,0,1,walk\n")
    with pytest.raises(AnalysisInputError) as err:
        load_recording_file(typo, RecordingMeta())
    message = str(err.value)
    assert message.startswith(f"{typo}:1 [lable]: unknown column 'lable'"), message
    assert "recording.csv" not in message and "(" not in message and "[" not in message.split("]", 1)[1]  # no tuple
    assert "allowed columns: ax, ay, az, gx, gy, gz, mx, my, mz, label, subject or t" in message
    with pytest.raises(AnalysisInputError, match="allowed units: acc: m/s\\^2 or g; gyro: rad/s or deg/s"):
        RecordingMeta(50.0, {"acc": "G"})

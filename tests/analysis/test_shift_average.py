"""Averaging over shifted windows in session analysis (`tcnvae analyze --average-shifts`), on a real
HAPT recording with the shipped champion in ONNX Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.offline import read_recording
from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows
from tcnvae.analysis.shift_average import plan_shifts
from tcnvae.cli import main
from tcnvae.contract import WINDOW
from tcnvae.registry.store import Registry
from tcnvae.runtime.engine import Engine
from tests.analysis.hapt_recording import hapt_signals, write_json

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_plan_runs_each_distinct_window_once(tmp_path: Path) -> None:
    rec = read_recording(write_json(tmp_path / "walk.json", hapt_signals(seconds=40)))
    base = checked_windows(rec, AnalysisConfig(stride=50))
    plan = plan_shifts(rec.signals, base, (25, 50))
    last = len(rec) - WINDOW
    # stride 50 with shifts ±25, ±50: the distinct windows are the stride-25 grid, not 5 per window
    np.testing.assert_array_equal(plan.windows.starts, np.unique(np.clip(np.arange(0, last + 26, 25), 0, last)))
    assert len(plan.windows) < 2 * len(base) + 2
    starts = plan.windows.starts[plan.members]
    want = np.clip(base.starts[:, None] + np.array([0, -50, -25, 25, 50]), 0, last)
    np.testing.assert_array_equal(starts, want)  # column 0 is the window itself; edges clipped
    for row in (0, len(plan.windows) // 2, len(plan.windows) - 1):
        s = plan.windows.starts[row]
        np.testing.assert_array_equal(plan.windows.x[row], rec.signals[s:s + WINDOW])


def test_analyze_averages_the_probabilities_of_the_shifted_windows(tmp_path: Path, capsys) -> None:
    path = write_json(tmp_path / "walk.json", hapt_signals(seconds=40))
    base = ["analyze", str(path), "--model", "tcn_encoder@champion", "--models", str(MODELS), "--backend", "onnx"]
    assert main([*base, "--average-shifts", "25,50", "--out", str(tmp_path / "avg")]) == 0
    assert main([*base, "--out", str(tmp_path / "plain")]) == 0
    avg, plain = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("avg", "plain"))
    assert avg["config"]["average_shifts"] == [25, 50] and plain["config"]["average_shifts"] == []
    assert plain["config"]["temporal"] == "hmm"  # the offline default: whole-recording Viterbi
    assert avg["n_windows"] == plain["n_windows"] == len(avg["timeline"])
    probs = {k: np.array([list(w["activity_probs"].values()) for w in r["timeline"]])
             for k, r in (("avg", avg), ("plain", plain))}
    # independently: the release run on every shifted copy (clipped to the recording), then the mean
    rec = read_recording(path)
    starts = checked_windows(rec, AnalysisConfig()).starts
    engine = Engine.from_release(Registry(MODELS).open("tcn_encoder@champion"), backend="onnx", threads=1)
    try:
        copies = [engine.run(np.stack([rec.signals[s:s + WINDOW]
                                       for s in np.clip(starts + d, 0, len(rec) - WINDOW)]))["activity_probs"]
                  for d in (0, -50, -25, 25, 50)]
    finally:
        engine.close()
    np.testing.assert_allclose(probs["plain"], copies[0], atol=1e-4)  # results.json keeps 4 decimals
    np.testing.assert_allclose(probs["avg"], np.mean(copies, axis=0), atol=1e-4)
    assert np.abs(probs["avg"] - probs["plain"]).max() > 1e-3
    assert [w["t_start"] for w in avg["timeline"]] == [w["t_start"] for w in plain["timeline"]]


@pytest.mark.parametrize("value", ["100", "0", "a,b"])
def test_analyze_refuses_a_bad_shift_in_one_line(tmp_path: Path, capsys, value: str) -> None:
    path = write_json(tmp_path / "walk.json", hapt_signals(seconds=10))
    out = tmp_path / "out"
    assert main(["analyze", str(path), "--model", "tcn_encoder@champion", "--models", str(MODELS),
                 "--average-shifts", value, "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--average-shifts" in err[0] and not out.exists()


def test_config_refuses_a_shift_of_a_window() -> None:
    with pytest.raises(AnalysisInputError, match="average_shifts"):
        AnalysisConfig(average_shifts=(WINDOW,))

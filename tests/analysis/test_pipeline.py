"""The analysis core with the deterministic stub and a fake model: windows, timeline, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tcnvae.analysis import AnalysisConfig, analyze_recording, stub_outputs, write_analysis
from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.outputs import MalformedOutputs, check_outputs
from tcnvae.analysis.recording_io import RecordingMeta, load_recording_file
from tcnvae.analysis.windows import cut_windows
from tests.analysis.hapt_recording import hapt_signals, write_csv

LABELS = ("still", "moving")


def fake_model(x: np.ndarray) -> dict:
    """'moving' when the window's acceleration varies: a transparent stand-in for a classifier."""
    out = stub_outputs(x)
    moving = np.clip(x[:, :, :3].std(axis=1).mean(axis=1) * 2.0, 0, 1)
    out["activity_probs"] = np.stack([1 - moving, moving], axis=1)
    return out


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory):
    path = write_csv(tmp_path_factory.mktemp("rec") / "hapt.csv", hapt_signals(seconds=40))
    return load_recording_file(path, RecordingMeta(units={"acc": "g"}))


def test_windows_cover_the_recording_at_the_stride() -> None:
    w = cut_windows(np.zeros((1000, 9), np.float32), 50)
    assert w.x.shape == (19, 100, 9) and w.t_start[1] == 0.5 and w.t_end[-1] == 10.0
    with pytest.raises(AnalysisInputError):
        cut_windows(np.zeros((99, 9), np.float32), 50)


def test_stub_is_deterministic_and_well_formed(recording) -> None:
    x = cut_windows(recording.signals, 50).x
    a, b = stub_outputs(x), stub_outputs(x.copy())
    np.testing.assert_array_equal(a["latent"], b["latent"])
    check_outputs(a, len(x))


def test_analysis_with_activities(recording, tmp_path: Path) -> None:
    cfg = AnalysisConfig(stride=25)
    res = analyze_recording(recording, fake_model, cfg, labels=LABELS, model="fake")
    assert res["n_windows"] == (4000 - 100) // 25 + 1 == len(res["timeline"])
    assert set(res["time_per_activity"]) <= {"still", "moving", "uncertain"}
    assert sum(res["time_per_activity"].values()) == pytest.approx(40.0, abs=0.01)
    assert sum(res["time_per_motif"].values()) == pytest.approx(40.0, abs=0.01)
    assert [m["score"] for m in res["motifs"]] == sorted((m["score"] for m in res["motifs"]), reverse=True)
    paths = write_analysis(res, tmp_path)
    assert paths["ethogram"].read_bytes()[:4] == b"\x89PNG"
    html = paths["report"].read_text()
    assert "Time per activity" in html and ("moving" in html or "still" in html)


def test_stub_analysis_has_no_activity(recording) -> None:
    res = analyze_recording(recording, stub_outputs, AnalysisConfig(), source="stub")
    assert res["source"] == "stub" and res["ethogram"]["activity"] is None
    assert res["timeline"][0]["activity"] is None and res["ethogram"]["motifs"]


def test_malformed_model_answers_are_refused() -> None:
    with pytest.raises(MalformedOutputs):
        check_outputs({"latent": np.zeros((2, 64)), "motif_scores": np.zeros((2, 12))}, 2)
    with pytest.raises(AnalysisInputError):
        AnalysisConfig(smooth_windows=4)

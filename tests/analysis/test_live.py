"""Live analysis runs through the same incremental cores as offline analysis: same windows,
same timeline, same ethogram segments, whatever the chunking; bad stream input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from tcnvae.analysis.ethogram import EthogramTracker, build_ethogram, enforce_min_dwell
from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.live import LiveAnalysis, StreamSpec
from tcnvae.analysis.outputs import concat_outputs
from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows, summarize
from tcnvae.analysis.recording_io import RecordingMeta, parse_csv_text
from tcnvae.analysis.stub import stub_outputs
from tcnvae.analysis.windows import WindowCutter, cut_windows
from tests.analysis.hapt_recording import RATE_HZ, UNITS, hapt_signals, write_csv

CHANNELS6 = ("ax", "ay", "az", "gx", "gy", "gz")


def uneven_chunks(n: int, seed: int = 0) -> list[slice]:
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while i < n:
        k = int(rng.choice([1, 3, 7, 25, 64, 130]))
        out.append(slice(i, i + k))
        i += k
    return out


def test_window_cutter_in_chunks_equals_cut_windows() -> None:
    x = np.random.default_rng(0).normal(size=(1234, 9)).astype(np.float32)
    whole = cut_windows(x, 30)
    cutter = WindowCutter(30)
    parts = [cutter.push(x[s]) for s in uneven_chunks(len(x))]
    assert np.array_equal(np.concatenate([p.x for p in parts]), whole.x)
    assert np.array_equal(np.concatenate([p.starts for p in parts]), whole.starts)


@pytest.mark.parametrize("width,dwell", [(1, 0.0), (3, 1.0), (5, 2.0), (7, 3.5)])
def test_ethogram_tracker_in_chunks_equals_build_ethogram(width: int, dwell: float) -> None:
    rng = np.random.default_rng(width)
    names = [str(v) for v in rng.choice(list("aab c"), 300)]
    conf = rng.uniform(0.3, 1.0, 300)
    t0 = np.arange(300) * 0.5
    whole = build_ethogram(names, conf, t0, t0 + 1.0, threshold=0.5, smooth_width=width, min_dwell_s=dwell)
    tracker = EthogramTracker(threshold=0.5, smooth_width=width, min_dwell_s=dwell)
    live = []
    for s in uneven_chunks(300, seed=width):
        live += tracker.push(names[s], conf[s], t0[s])
    live += tracker.finish(float(t0[-1] + 1.0))
    assert live == whole
    assert whole[0]["t_start"] == 0.0 and whole[-1]["t_end"] == 150.5
    assert all(a["t_end"] == b["t_start"] for a, b in zip(whole, whole[1:]))


def test_a_short_bout_is_absorbed_by_the_ongoing_segment() -> None:
    def seg(label, a, b):
        return {"label": label, "t_start": a, "t_end": b, "duration_s": b - a, "n_windows": int(2 * (b - a))}
    out = enforce_min_dwell([seg("a", 0.0, 10.0), seg("b", 10.0, 11.0), seg("c", 11.0, 21.0)], 2.0)
    assert [(s["label"], s["t_start"], s["t_end"]) for s in out] == [("a", 0.0, 11.0), ("c", 11.0, 21.0)]
    out = enforce_min_dwell([seg("b", 0.0, 1.0), seg("a", 1.0, 5.0)], 2.0)  # nothing before: the first lasting label
    assert [(s["label"], s["t_start"], s["t_end"], s["n_windows"]) for s in out] == [("a", 0.0, 5.0, 10)]


def test_live_analysis_of_a_hapt_recording_equals_the_offline_pipeline(tmp_path) -> None:
    raw = hapt_signals(seconds=40)
    csv = write_csv(tmp_path / "rec.csv", raw)
    config = AnalysisConfig()
    recording = parse_csv_text(csv.read_text(), RecordingMeta(None, UNITS))
    offline_windows = checked_windows(recording, config)
    offline = summarize(recording, offline_windows,
                        concat_outputs([stub_outputs(offline_windows.x)], (), "stub"), config)

    rows = np.array([[float(v) for v in line.split(",")[1:]] for line in csv.read_text().splitlines()[1:]])
    live = LiveAnalysis(StreamSpec(RATE_HZ, CHANNELS6, UNITS), config)
    windows, timeline, segs = [], [], []
    for k, s in enumerate(uneven_chunks(len(rows), seed=3)):
        w = live.push(rows[s], t=s.start / RATE_HZ if k % 2 else None)
        windows.append(w)
        if len(w):
            entries, closed = live.accept(w, concat_outputs([stub_outputs(w.x)], (), "stub"))
            timeline += entries
            segs += closed
    w = live.finish()
    windows.append(w)
    if len(w):
        entries, closed = live.accept(w, concat_outputs([stub_outputs(w.x)], (), "stub"))
        timeline += entries
        segs += closed
    segs += live.close()

    assert np.array_equal(np.concatenate([w.x for w in windows]), offline_windows.x)  # bitwise
    assert timeline == offline["timeline"]
    assert [s for s in segs if s["kind"] == "motifs"] == [{"kind": "motifs", **s} for s in offline["ethogram"]["motifs"]]
    activity = [s for s in segs if s["kind"] == "activity"]
    assert [s["label"] for s in activity] == ["uncertain"] and activity[0]["t_end"] == 40.0


def stream(**kw) -> LiveAnalysis:
    return LiveAnalysis(StreamSpec(50.0, ("ax", "ay", "az"), {"acc": "g"}), AnalysisConfig(**kw))


def test_bad_stream_input_is_refused_with_the_sample_and_channel() -> None:
    with pytest.raises(AnalysisInputError, match="each row must have 3 values"):
        stream().push(np.zeros((4, 2)))
    with pytest.raises(AnalysisInputError, match="sample 2 .* channel ay: not a finite number"):
        stream().push(np.array([[0, 0, 1], [0, 0, 1], [0, np.nan, 1]]))
    with pytest.raises(AnalysisInputError, match="channel az: 196.1.* exceeds the physical limit"):
        stream().push(np.array([[0, 0, 20.0]]))  # 20 g
    live = stream()
    live.push(np.zeros((50, 3)), t=100.0)
    live.push(np.zeros((50, 3)), t=101.0)
    with pytest.raises(AnalysisInputError, match="time going backwards: chunk t=101.5 s.*reach t=102 s"):
        live.push(np.zeros((5, 3)), t=101.5)
    with pytest.raises(AnalysisInputError, match="samples missing"):
        live.push(np.zeros((5, 3)), t=103.0)
    with pytest.raises(AnalysisInputError, match="unknown"):
        StreamSpec(50.0, ("ax", "wobble"))
    with pytest.raises(AnalysisInputError, match="unknown unit"):
        StreamSpec(50.0, ("ax",), {"acc": "furlong"})

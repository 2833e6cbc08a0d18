"""The sticky HMM over window outputs and the segment-level metrics that judge it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.hmm import decode, posteriors, switch_probability, viterbi
from tcnvae.analysis.segment_metrics import Segment, match, summarize_matches, true_segments
from tcnvae.cli import main
from tests.analysis.hapt_recording import hapt_signals, write_json

SHIPPED = Path(__file__).resolve().parents[2] / "models"  # read only: analysis writes elsewhere


def _probs(seq: str, strength: float) -> np.ndarray:
    """Per-window probabilities over ('a', 'b') that favour each letter of seq by `strength`."""
    p = np.array([[strength, 1 - strength] if c == "a" else [1 - strength, strength] for c in seq])
    return p


def test_viterbi_removes_weak_flicker_but_keeps_a_strong_bout() -> None:
    weak = _probs("a" * 20 + "b" + "a" * 20, 0.6)
    assert viterbi(weak, 0.05).tolist() == [0] * 41
    strong = _probs("a" * 20 + "b" * 6 + "a" * 20, 0.95)
    assert viterbi(strong, 0.05).tolist() == [0] * 20 + [1] * 6 + [0] * 20


def test_posteriors_are_distributions_and_confident_inside_bouts() -> None:
    post = posteriors(_probs("a" * 10 + "b" * 10, 0.8), 0.05)
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-9)
    assert post[2, 0] > 0.9 and post[17, 1] > 0.9


def test_decode_names_the_path_and_checks_its_input() -> None:
    names, conf = decode(_probs("aab", 0.99), ("a", "b"), stride_s=0.5, mean_dwell_s=10.0)
    assert names == ["a", "a", "b"] and conf.shape == (3,)
    with pytest.raises(AnalysisInputError):
        decode(np.zeros((0, 2)), ("a", "b"), stride_s=0.5, mean_dwell_s=10.0)
    assert switch_probability(0.5, 10.0, 6) == pytest.approx(0.05)


def test_segment_matching_needs_label_and_overlap() -> None:
    labels = np.array([-1] * 10 + [0] * 100 + [1] * 50)
    truth = true_segments(labels, ("walk", "sit"), 10.0)
    assert truth == [Segment("walk", 1.0, 11.0), Segment("sit", 11.0, 16.0)]
    pred = [Segment("walk", 1.5, 11.2), Segment("walk", 11.2, 16.0)]  # the second has the wrong label
    m = match(pred, truth)
    assert m["n_matched"] == 1 and m["onset_errors_s"] == [0.5]
    s = summarize_matches([m])
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5


def test_analyze_with_the_hmm_on_a_real_recording(tmp_path: Path) -> None:
    rec = write_json(tmp_path / "hapt.json", hapt_signals(seconds=40))
    out = tmp_path / "out"
    assert main(["analyze", str(rec), "--model", "tcn_encoder@champion", "--models", str(SHIPPED),
                 "--out", str(out), "--temporal", "hmm", "--mean-dwell-s", "20"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["temporal"] == "hmm" and res["config"]["mean_dwell_s"] == 20.0
    segs = res["ethogram"]["activity"]
    assert segs[0]["t_start"] == 0.0 and segs[-1]["t_end"] == res["timeline"][-1]["t_end"]
    assert all(a["t_end"] == b["t_start"] for a, b in zip(segs, segs[1:]))


def test_unknown_temporal_model_is_refused() -> None:
    from tcnvae.analysis.pipeline import AnalysisConfig

    with pytest.raises(AnalysisInputError, match="temporal must be one of majority, hmm"):
        AnalysisConfig(temporal="lstm")

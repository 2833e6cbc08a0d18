"""parity.json: every bound written with its measurement, and a failing bound stops the export."""

from __future__ import annotations

import json

import pytest

from tcnvae.errors import TcnvaeError
from tcnvae.export import export_release
from tcnvae.export import parity as P
from tcnvae.registry.checksums import read_sums
from tcnvae.registry.store import Registry
from tests.export.conftest import REF, copy_registry


def test_parity_json_holds_bounds_measurements_and_passes(exported):
    report = json.loads((exported["release"].export_dir / "parity.json").read_text())
    assert report["passed"] is True
    assert set(report["checks"]) == set(P.BOUNDS)
    n = report["heldout"]["windows"]
    for name, check in report["checks"].items():
        want = P.argmax_agreement_bound(n) if name == "int8_argmax_agreement" else P.BOUNDS[name][1]
        assert check["bound"] == want == report["bounds"][name]["limit"] and check["pass"] is True
    assert report["checks"]["fp32_cosine_min"]["measured"] >= 0.9999
    assert report["checks"]["fp32_max_abs_diff"]["measured"] <= 1e-4
    assert report["heldout"]["windows"] > 0
    assert set(report["fp32_vs_pytorch"]["static"]) == {"latent", "motif_scores", "activity_probs"}
    assert exported["summary"]["passed"] is True


def test_verdict_and_require_pass_name_the_failed_bound():
    checks = P.verdict({"fp32_max_abs_diff": 1.0, "int8_argmax_agreement": 1.0})
    assert checks["fp32_max_abs_diff"]["pass"] is False and checks["int8_argmax_agreement"]["pass"] is True
    with pytest.raises(TcnvaeError, match="fp32_max_abs_diff"):
        P.require_pass(checks, "here")


def test_int8_agreement_allows_one_flipped_window_below_100_windows():
    # 0.99 of 91 windows would allow no flip at all; one is allowed, two are not
    assert P.argmax_agreement_bound(91) == pytest.approx(90 / 91)
    assert P.argmax_agreement_bound(100) == P.argmax_agreement_bound(2048) == P.BOUNDS["int8_argmax_agreement"][1]
    limits = {"int8_argmax_agreement": P.argmax_agreement_bound(91)}
    assert P.verdict({"int8_argmax_agreement": 90 / 91}, limits)["int8_argmax_agreement"]["pass"] is True
    assert P.verdict({"int8_argmax_agreement": 89 / 91}, limits)["int8_argmax_agreement"]["pass"] is False


def test_a_failing_bound_raises_and_adds_nothing(registry_root, tmp_path, monkeypatch):
    root = copy_registry(registry_root, tmp_path / "models")
    release = Registry(root).open(REF)
    sums_before = read_sums(release.path)
    monkeypatch.setitem(P.BOUNDS, "fp32_max_abs_diff", ("max", -1.0))  # impossible
    with pytest.raises(TcnvaeError, match="fp32_max_abs_diff"):
        export_release(Registry(root), REF, int8=False)
    assert not release.export_dir.exists()
    assert read_sums(release.path) == sums_before
    Registry(root).open(REF)  # still verifies

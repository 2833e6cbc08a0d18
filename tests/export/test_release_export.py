"""export_release and `tcnvae export` against a registry: files, checksums, idempotence, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx

from tcnvae.export import expected_files, export_release
from tcnvae.registry.checksums import read_sums
from tcnvae.registry.store import Registry
from tests.export.conftest import REF, copy_registry

TCNVAE = Path(sys.executable).parent / "tcnvae"


def test_all_files_exist_and_are_covered_by_sha256sums(exported):
    release = exported["release"]
    names = expected_files(release, int8=True)
    sums = read_sums(release.path)
    for name in names:
        assert (release.export_dir / name).is_file(), name
        assert f"export/{name}" in sums, name
    on_disk = {p.relative_to(release.export_dir).as_posix() for p in release.export_dir.rglob("*") if p.is_file()}
    assert on_disk == set(names)
    Registry(exported["root"]).open(REF)  # verification still passes


def test_calibration_and_hailo_report(exported):
    release = exported["release"]
    cal = np.load(release.export_dir / "calibration.npy")
    assert cal.ndim == 3 and cal.shape[1:] == (100, 9) and len(cal) >= 1024
    np.testing.assert_array_equal(cal, np.load(release.path / "samples" / "calibration.npy")[: len(cal)])
    report = json.loads((release.export_dir / "hailo_report.json").read_text())
    assert report["static_shapes"] and report["hailo_ready"] and report["off_allowlist"] == []
    assert report["inputs"] == {"x": [1, 100, 9]} and report["opset"] == 11
    assert report["macs"]["total"] > report["macs"]["Gemm"] > 0 and report["parameters"] > 0
    assert report["host_normalization"]["mean"] == release.read_json("normalization.json")["mean"]
    assert report["dfc"]["inputs"]["calibration_shape"] == list(cal.shape)
    assert any(s.startswith("hailo parser onnx") for s in report["dfc"]["steps"])
    assert "DFC" in report["dfc"]["note"]
    static = onnx.load(release.export_dir / "encoder_static.onnx")
    convs = {n.name for n in static.graph.node if n.op_type == "Conv"}
    assert set(report["dfc"]["high_precision_layers"]["nodes"]) & convs  # the first conv reads the raw window


def test_re_export_of_a_complete_release_is_a_verified_no_op(exported):
    sums = read_sums(exported["release"].path)
    again = export_release(Registry(exported["root"]), REF)
    assert again["already_exported"] is True and again["passed"] is True
    assert read_sums(exported["release"].path) == sums


def test_cli_exports_then_refuses_to_modify_a_partial_export(registry_root, tmp_path):
    root = copy_registry(registry_root, tmp_path / "models")
    cmd = [str(TCNVAE), "export", REF, "--models", str(root)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # shared 2-core machine
    done = subprocess.run([*cmd, "--skip-int8", "--json"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["passed"] and "encoder_int8.onnx" not in summary["files"]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert refused.returncode == 1
    assert "encoder_int8.onnx" in refused.stderr and "never modified" in refused.stderr
    bad = subprocess.run([str(TCNVAE), "export", "tcn_encoder@v9.9.9", "--models", str(root)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "v9.9.9" in bad.stderr

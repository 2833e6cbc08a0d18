"""`serve --precision int8` (gated by parity.json) and `serve --workers 2` (one port, summed metrics)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from tcnvae.runtime.errors import EngineError
from tcnvae.runtime.precision import int8_gate
from tests.serve.server import ServerProcess

TCNVAE = Path(sys.executable).with_name("tcnvae")
REF = "tcn_encoder@champion"
EXPORT = Path("tcn_encoder") / "v1.0.0" / "export"


@pytest.fixture(scope="module")
def exported_models(serve_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the serve registry with a full export (encoder.onnx, encoder_int8.onnx, parity.json)."""
    from tcnvae.export import export_release
    from tcnvae.registry.store import Registry

    root = tmp_path_factory.mktemp("int8") / "models"
    shutil.copytree(serve_models, root)
    export_release(Registry(root), REF, int8=True)
    return root


@pytest.fixture(scope="module")
def int8_server(exported_models: Path):
    """INT8 graph, two worker processes sharing the port."""
    server = ServerProcess(exported_models, "--precision", "int8", "--workers", "2").wait_ready()
    yield server
    server.stop()


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_int8_server_says_which_graph_runs(int8_server):
    meta = httpx.get(f"{int8_server.url}/v2/models/tcn_encoder", timeout=30.0).json()
    assert meta["parameters"]["precision"] == "int8" and meta["parameters"]["graph"] == "encoder_int8.onnx"
    text = httpx.get(f"{int8_server.url}/metrics", timeout=30.0).text
    info = [line for line in text.splitlines() if line.startswith("tcnvae_model_info{")]
    assert len(info) == 1 and 'graph="encoder_int8.onnx"' in info[0] and 'precision="int8"' in info[0], text
    status = httpx.get(f"{int8_server.url}/status", timeout=30.0).json()
    assert status["precision"] == "int8" and status["workers"] == 2


def test_int8_outputs_track_fp32(int8_server, server, windows, exported_models):
    body = {"windows": windows.tolist()}
    fp32 = httpx.post(f"{server.url}/infer/batch", json=body, timeout=60.0).json()
    int8 = httpx.post(f"{int8_server.url}/infer/batch", json=body, timeout=60.0).json()
    parity = json.loads((exported_models / EXPORT / "parity.json").read_text())
    bound = parity["bounds"]["int8_latent_cosine_mean"]["limit"]
    cos = _cosine(np.asarray(int8["latent"]), np.asarray(fp32["latent"]))
    assert cos.mean() >= bound and cos.min() > 0.9


def test_workers_share_the_port_and_sum_metrics(int8_server, conformance):
    sample = conformance["realistic_imu_sample"]
    before = _infer_count(int8_server.url)
    pids = set()
    for _ in range(12):  # a fresh connection each time, so the kernel may pick either worker
        with httpx.Client(timeout=30.0) as c:
            assert c.post(f"{int8_server.url}/infer", json=sample).status_code == 200
            pids.add(c.get(f"{int8_server.url}/status").json()["pid"])
    assert _infer_count(int8_server.url) == before + 12  # every worker's requests, summed
    assert 1 <= len(pids) <= 2
    bad = httpx.post(f"{int8_server.url}/infer", json={"x": [[0.0] * 9] * 99}, timeout=30.0)
    assert bad.status_code == 422 and "x" in bad.json()["error"]


def _infer_count(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=30.0).text
    m = re.search(r'^tcnvae_requests_total\{endpoint="/infer",status="200"\} ([\d.e+]+)$', text, re.M)
    return float(m[1]) if m else 0.0


def test_workers_drain_on_sigterm(int8_server):
    code = int8_server.stop()
    assert code == 0, int8_server.output()


def test_int8_gate_reads_the_numbers(exported_models: Path, tmp_path: Path):
    export = exported_models / EXPORT
    assert set(int8_gate(export)) == {"int8_latent_cosine_mean", "int8_argmax_agreement", "int8_macro_f1_drop"}
    bad = tmp_path / "export"
    shutil.copytree(export, bad)
    doc = json.loads((bad / "parity.json").read_text())
    doc["checks"]["int8_argmax_agreement"]["measured"] = 0.9  # the gate re-judges; the pass flag stays true
    (bad / "parity.json").write_text(json.dumps(doc))
    with pytest.raises(EngineError, match=r"int8_argmax_agreement = 0\.9 \(bound >= 0\.99\)"):
        int8_gate(bad)
    (bad / "parity.json").unlink()
    with pytest.raises(EngineError, match="parity.json: missing"):
        int8_gate(bad)


def test_int8_refused_without_int8_graph(serve_models: Path):
    """The plain (unexported) release has no encoder_int8.onnx: one line, exit 1, before binding."""
    r = subprocess.run([str(TCNVAE), "serve", REF, "--models", str(serve_models), "--precision", "int8",
                        "--port", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "encoder_int8.onnx" in r.stderr and "--precision fp32" in r.stderr

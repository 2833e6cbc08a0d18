"""The edge stack with PyTorch blocked: unpack + verify, sidecar, gateway, `analyze --backend onnx`.

The shipped champion is packed (full install), then everything an edge device does runs in
interpreters where the `train` extra's modules cannot be imported, as on `pip install tcnvae`
without extras: the sidecar must prove its ONNX graph against the release's stored reference
outputs (no PyTorch to compare with) before /healthz turns 200.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tcnvae.cli import main as tcnvae_main
from tcnvae.runtime.engine import PARITY_ATOL
from tests.analysis.hapt_recording import hapt_signals, write_csv
from tests.serve.server import Process, free_port
from tests.test_extras import BLOCK

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / ".." / "shared" / "conformance"
API = "/api/v1/analysis"
MAIN = BLOCK + "import sys\nfrom tcnvae.cli import main\nsys.exit(main(sys.argv[1:]))"


class EdgeProcess(Process):
    """`tcnvae ARGS --port P` in an interpreter with the train extra blocked."""

    def __init__(self, args: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.port, self.log, self.url = port, log, f"http://127.0.0.1:{port}"
        self._fh = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-c", MAIN, *args, "--port", str(port)], stdout=self._fh,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})


def edge_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MAIN, *argv], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def edge_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shipped champion packed by the full install and unpacked + verified by the edge one."""
    tmp = tmp_path_factory.mktemp("edge")
    version = json.loads((ROOT / "models" / "tcn_encoder" / "aliases.json").read_text())["champion"]
    ref = f"tcn_encoder@{version}"
    assert tcnvae_main(["registry", "pack", ref, "--models", str(ROOT / "models"), "--out", str(tmp)]) == 0
    tarball = next(tmp.glob("*.tar.gz"))
    models = tmp / "models"
    proc = edge_cli("registry", "unpack", str(tarball), "--models", str(models))
    assert proc.returncode == 0, proc.stderr
    proc = edge_cli("registry", "verify", ref, "--models", str(models))
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr
    return models, ref


@pytest.fixture(scope="module")
def edge_stack(edge_models, tmp_path_factory: pytest.TempPathFactory):
    models, ref = edge_models
    tmp = tmp_path_factory.mktemp("edge-stack")
    side_port, gw_port = free_port(), free_port()
    side = EdgeProcess(["serve", ref, "--models", str(models)], side_port, tmp / "sidecar.log")
    gw = EdgeProcess(["gateway"], gw_port, tmp / "gateway.log",
                     env={"USE_REAL_MODEL": "true", "MODEL_BACKEND_URL": f"http://127.0.0.1:{side_port}",
                          "SESSIONS_DIR": str(tmp / "sessions"), "GATEWAY_BACKEND_TIMEOUT_S": "30"})
    try:
        yield {"sidecar": side.wait_ready(), "gateway": gw.wait_ready(), "tmp": tmp, "ref": ref}
    finally:
        gw.stop()
        side.stop()


def test_sidecar_proves_onnx_against_stored_reference_without_torch(edge_stack) -> None:
    status = httpx.get(f"{edge_stack['sidecar'].url}/status", timeout=10).json()
    assert status["ready"] is True and status["backend"] == "onnx"
    assert set(status["startup_parity"]) == {"reference"}  # no torch here to compare with
    assert 0 <= status["startup_parity"]["reference"] <= PARITY_ATOL


def test_gateway_analyses_a_real_recording_through_the_edge_sidecar(edge_stack) -> None:
    with httpx.Client(base_url=edge_stack["gateway"].url, timeout=60) as client:
        body = json.loads((CONFORMANCE / "realistic_imu_sample.json").read_text())
        r = client.post(f"{API}/infer", json=body)
        assert r.status_code == 200 and r.json()["source"] == "model", r.text
        csv = write_csv(edge_stack["tmp"] / "hapt.csv", hapt_signals(seconds=20))
        r = client.post(f"{API}/sessions", params={"units": "acc:g", "filename": csv.name},
                        content=csv.read_bytes(), headers={"Content-Type": "text/csv"})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        end = time.monotonic() + 120
        while (done := client.get(f"{API}/sessions/{sid}")).status_code == 202:
            assert time.monotonic() < end, "session not done in 120 s"
            time.sleep(0.1)  # paced poll of a background job (the server is known up), bounded
        assert done.status_code == 200 and done.json()["source"] == "model", done.text
        png = client.get(f"{API}/sessions/{sid}/ethogram.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_analyze_backend_onnx_without_torch(edge_models, tmp_path: Path) -> None:
    models, ref = edge_models
    csv = write_csv(tmp_path / "walk.csv", hapt_signals(seconds=20))
    out = tmp_path / "out"
    proc = edge_cli("analyze", str(csv), "--model", ref, "--models", str(models), "--backend", "onnx",
                    "--units", "acc:g", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["source"] == "model" and res["model"] == ref and res["n_windows"] > 0
    assert (out / "ethogram.png").read_bytes()[:4] == b"\x89PNG"


def test_torch_backend_on_the_edge_install_names_the_extra(edge_models, tmp_path: Path) -> None:
    models, ref = edge_models
    csv = write_csv(tmp_path / "walk.csv", hapt_signals(seconds=5))
    proc = edge_cli("analyze", str(csv), "--model", ref, "--models", str(models), "--backend", "torch",
                    "--units", "acc:g", "--out", str(tmp_path / "o"))
    assert proc.returncode == 1 and "pip install 'tcnvae[train]'" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()

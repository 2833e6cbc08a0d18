"""A release served by a real `tritonserver` (PyTriton's, python backend binding the Engine).

The OIP checks of test_oip.py, with the real tritonclient over HTTP and gRPC, against the
Triton process; outputs must equal the sidecar's. Skipped (with the reason) where the
`triton` extra (nvidia-pytriton) is not installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

pytest.importorskip("pytriton", reason="nvidia-pytriton (the `triton` extra) is not installed")
import tritonclient.grpc as tgrpc  # noqa: E402
import tritonclient.http as thttp  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402

from tests.serve.server import free_port  # noqa: E402

MODEL = "tcn_encoder"
OUTPUTS = ("latent", "motif_scores", "activity_probs")
START_DEADLINE_S = 300.0


@pytest.fixture(scope="module")
def triton(serve_models: Path, tmp_path_factory: pytest.TempPathFactory):
    """`python -m tcnvae.serve.triton_python` on free loopback ports, ready when /v2/health/ready is 200."""
    http, grpc, metrics = free_port(), free_port(), free_port()
    log = tmp_path_factory.mktemp("triton") / "triton.log"
    fh = open(log, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tcnvae.serve.triton_python", "tcn_encoder@champion",
                             "--models", str(serve_models), "--http-port", str(http), "--grpc-port", str(grpc),
                             "--metrics-port", str(metrics)], stdout=fh, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"127.0.0.1:{http}"
    end = time.monotonic() + START_DEADLINE_S
    try:
        with httpx.Client(timeout=2.0) as client:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"tritonserver exited {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
                try:
                    if client.get(f"http://{url}/v2/models/{MODEL}/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > end:
                    pytest.fail(f"tritonserver not ready in {START_DEADLINE_S} s:\n{log.read_text()[-4000:]}")
                try:
                    proc.wait(timeout=0.2)  # bounded poll interval
                except subprocess.TimeoutExpired:
                    pass
        yield {"http": url, "grpc": f"127.0.0.1:{grpc}", "proc": proc, "log": log}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        fh.close()


@pytest.fixture(scope="module")
def reference(server, windows):
    """The sidecar's outputs for the same windows."""
    r = httpx.post(f"{server.url}/infer/batch", json={"windows": windows.tolist()}, timeout=60.0)
    body = r.json()
    return {"latent": np.asarray(body["latent"], np.float32), "motif_scores": np.asarray(body["motif_scores"], np.float32),
            "activity_probs": np.asarray([[p[k] for k in p] for p in body["activity_probs"]], np.float32)}


@pytest.fixture(scope="module", params=["http", "grpc"])
def client(request, triton):
    mod = thttp if request.param == "http" else tgrpc
    c = mod.InferenceServerClient(triton[request.param])
    yield mod, c
    c.close()


def test_health_and_metadata(client):
    mod, c = client
    assert c.is_server_live() and c.is_server_ready() and c.is_model_ready(MODEL)
    meta = c.get_model_metadata(MODEL, as_json=True) if mod is tgrpc else c.get_model_metadata(MODEL)
    assert meta["inputs"][0]["name"] == "x" and meta["inputs"][0]["datatype"] == "FP32"
    assert [int(d) for d in meta["inputs"][0]["shape"]] == [-1, 100, 9]
    assert [o["name"] for o in meta["outputs"]] == list(OUTPUTS)


@pytest.mark.parametrize("binary", [True, False])
def test_outputs_equal_the_sidecar(client, windows, reference, binary):
    mod, c = client
    if mod is tgrpc and not binary:
        pytest.skip("gRPC tensors are always binary")
    inp = mod.InferInput("x", list(windows.shape), "FP32")
    kw = {"binary_data": binary} if mod is thttp else {}
    inp.set_data_from_numpy(windows, **kw)
    outs = [mod.InferRequestedOutput(n, **kw) for n in OUTPUTS]
    result = c.infer(MODEL, [inp], outputs=outs, request_id="req-42")
    for name in OUTPUTS:
        np.testing.assert_allclose(result.as_numpy(name), reference[name], atol=1e-5, err_msg=name)


def test_contract_errors_name_the_value(client, windows):
    mod, c = client
    bad = windows[:2].copy()
    bad[1, 3, 0] = np.nan
    inp = mod.InferInput("x", list(bad.shape), "FP32")
    inp.set_data_from_numpy(bad)
    with pytest.raises(InferenceServerException) as e:
        c.infer(MODEL, [inp])
    assert "window 1, sample 3, channel ax" in e.value.message()
    with pytest.raises(InferenceServerException):
        c.get_model_metadata("nope")

"""Start-up refuses a tampered release; SIGTERM lets in-flight requests finish."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serve.server import ServerProcess

TCNVAE = Path(sys.executable).with_name("tcnvae")


def hold_request(server: ServerProcess, path: str, body: bytes) -> socket.socket:
    """A request whose client has sent the headers and only part of `body`: the server holds it
    (it counts in /status `inflight`) until the rest is sent on the returned socket."""
    held = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    held.sendall(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % (path.encode(), len(body)) + body[:100])
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.url}/status").json()["inflight"] < 1:  # the server is reading the body
        assert time.monotonic() < deadline, "the held request never arrived"
    return held


def test_tampered_release_is_refused(tmp_path, serve_models):
    models = tmp_path / "models"
    shutil.copytree(serve_models, models)
    weights = models / "tcn_encoder" / "v1.0.0" / "encoder.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    r = subprocess.run([str(TCNVAE), "serve", "tcn_encoder@champion", "--models", str(models), "--port", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "failed verification" in r.stderr and "encoder.safetensors" in r.stderr


def test_unsafe_settings_are_refused(serve_models):
    r = subprocess.run([str(TCNVAE), "serve", "--models", str(serve_models), "--host", "0.0.0.0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "API keys" in r.stderr


def test_sigterm_drains_in_flight_requests(serve_models, windows):
    """A request the server holds when SIGTERM arrives is still answered, and the server then
    exits cleanly. The request is held deterministically (`hold_request`): its client has sent
    only part of the body (timing a batch of fast requests against a poll raced on a loaded machine)."""
    server = ServerProcess(serve_models).wait_ready()
    body = json.dumps({"windows": windows.tolist()}).encode()
    held = hold_request(server, "/infer/batch", body)
    server.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 60
    # The shutdown has begun once the listener is closed: new connections are refused.
    while True:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
        except ConnectionRefusedError:
            break
        assert time.monotonic() < deadline, "the server kept accepting connections after SIGTERM"
        time.sleep(0.05)
    held.sendall(body[100:])
    answer = http.client.HTTPResponse(held)
    answer.begin()
    status, reply = answer.status, answer.read()
    held.close()
    code = server.stop()
    assert status == 200, reply[:300]
    assert json.loads(reply)["n"] == len(windows)
    # uvicorn re-raises the captured SIGTERM after a clean shutdown, so the parent sees it.
    assert code in (0, -signal.SIGTERM), server.output()


def test_max_inflight_refuses_on_arrival_with_503_and_retry_after(serve_models, windows):
    """A client still sending its body holds the one slot: the next request is refused before its
    body is read; the held request then completes normally."""
    server = ServerProcess(serve_models, "--max-inflight", "1").wait_ready()
    try:
        body = json.dumps({"x": windows[0].tolist()}).encode()
        slow = hold_request(server, "/infer", body)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            refused = client.post("/infer", json={"x": windows[1].tolist()})
            assert refused.status_code == 503 and refused.headers["retry-after"]
            assert "limit 1" in refused.json()["error"]
            slow.sendall(body[100:])
            answer = slow.makefile("rb").readline()
            assert answer.startswith(b"HTTP/1.1 200"), answer
            slow.close()
            assert client.post("/infer", json={"x": windows[1].tolist()}).status_code == 200
    finally:
        server.stop()

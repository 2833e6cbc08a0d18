"""A real `tcnvae serve --api-key` sidecar behind real `tcnvae gateway` processes.

The gateway sends MODEL_BACKEND_API_KEY as X-API-Key and gets real answers; without the key it
answers with the marked stub and /healthz says `degraded` with the reason. Both servers close
connections whose headers or body do not arrive within their deadlines (raw sockets), while
everyone else is served; a client that disconnects mid-body is a 499, never a 500.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.analysis.hapt_recording import hapt_signals, write_csv
from tests.serve.server import Process, ServerProcess, free_port

KEY = "stack-key-0123456789abcdef"
API = "/api/v1/analysis"
CONFORMANCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"
DEADLINE_S = 60.0
TIMEOUTS = {"header": 1.0, "body": 1.0}


def gateway(tmp: Path, sidecar_url: str, name: str, key: str | None) -> Process:
    env = {"USE_REAL_MODEL": "true", "MODEL_BACKEND_URL": sidecar_url, "SESSIONS_DIR": str(tmp / name),
           "GATEWAY_BACKEND_TIMEOUT_S": "10", "GATEWAY_HEALTH_PROBE_TIMEOUT_S": "5",
           "GATEWAY_HEADER_TIMEOUT_S": str(TIMEOUTS["header"]), "GATEWAY_BODY_TIMEOUT_S": str(TIMEOUTS["body"])}
    if key is not None:
        env["MODEL_BACKEND_API_KEY"] = key
    return Process(["gateway"], free_port(), tmp / f"{name}.log", env=env)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, serve_models: Path):
    tmp = tmp_path_factory.mktemp("keyed")
    side = ServerProcess(serve_models, "--api-key", KEY, "--header-timeout-s", str(TIMEOUTS["header"]),
                         "--body-timeout-s", str(TIMEOUTS["body"]), log=tmp / "sidecar.log")
    keyed = gateway(tmp, side.url, "keyed", KEY)
    keyless = gateway(tmp, side.url, "keyless", None)
    procs = {"sidecar": side, "gateway": keyed, "keyless": keyless}
    try:
        for p in procs.values():
            p.wait_ready()
        yield procs
    finally:
        for p in procs.values():
            p.stop()


def body() -> dict:
    return json.loads((CONFORMANCE / "realistic_imu_sample.json").read_text())


def test_gateway_sends_its_backend_key_and_gets_real_answers(stack, tmp_path: Path) -> None:
    with httpx.Client(base_url=stack["gateway"].url, timeout=60.0) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["reason"] is None, health
        assert health["backend"]["credentials_accepted"] is True and health["backend"]["sends_api_key"] is True
        r = client.post(f"{API}/infer", json=body())
        assert r.status_code == 200 and r.json()["source"] == "model", r.text
        csv = write_csv(tmp_path / "hapt.csv", hapt_signals(seconds=10)).read_bytes()
        sid = client.post(f"{API}/sessions", params={"units": "acc:g"}, content=csv,
                          headers={"Content-Type": "text/csv"}).json()["id"]
        end = time.monotonic() + DEADLINE_S
        while (done := client.get(f"{API}/sessions/{sid}")).status_code == 202 and time.monotonic() < end:
            time.sleep(0.1)  # paced poll of a background job, bounded by the deadline
        assert done.status_code == 200 and done.json()["source"] == "model", done.text


def test_gateway_without_the_key_is_degraded_and_says_why(stack) -> None:
    with httpx.Client(base_url=stack["keyless"].url, timeout=60.0) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and health["backend"]["credentials_accepted"] is False
        assert "refuses the gateway's credentials" in health["reason"] and "MODEL_BACKEND_API_KEY" in health["reason"]
        r = client.post(f"{API}/infer", json=body())
        assert r.status_code == 200 and r.json()["source"] == "stub"
        assert r.headers["X-Tcnvae-Fallback-Reason"] == "unauthorized"


def _recv_all(sock: socket.socket, limit_s: float = 30.0) -> bytes:
    """Everything the server sends until it closes the connection (bounded by limit_s)."""
    sock.settimeout(limit_s)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _served_meanwhile(url: str, path: str, payload: dict, headers: dict) -> None:
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for _ in range(10):
            r = client.post(path, json=payload, headers=headers)
            assert r.status_code == 200, r.text


ROUTES = {"sidecar": ("/infer", {"X-API-Key": KEY}), "gateway": (f"{API}/infer", {})}


@pytest.mark.parametrize("server", list(ROUTES))
@pytest.mark.parametrize("sent", ["nothing", "half the headers", "headers and half the body"])
def test_a_slow_client_costs_one_connection_and_gets_a_408(stack, server: str, sent: str) -> None:
    proc = stack[server]
    path, headers = ROUTES[server]
    payload = json.dumps(body()).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + f"Content-Length: {len(payload)}\r\n\r\n").encode()
    partial = {"nothing": b"", "half the headers": head[:30], "headers and half the body":
               head + payload[:len(payload) // 2]}[sent]
    with socket.create_connection(("127.0.0.1", proc.port)) as slow:
        slow.sendall(partial)
        _served_meanwhile(proc.url, path, body(), headers)  # others are answered while it hangs
        answer = _recv_all(slow)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    what = "body" if sent.endswith("body") else "headers"
    assert f"request {what} not received within 1 s" in error
    _served_meanwhile(proc.url, path, body(), headers)


@pytest.mark.parametrize("server, metric", [("sidecar", "tcnvae_requests_total"),
                                            ("gateway", "tcnvae_gateway_requests_total")])
def test_a_client_that_disconnects_mid_body_is_not_a_500(stack, server: str, metric: str) -> None:
    proc = stack[server]
    path, headers = ROUTES[server]
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Content-Length: 5000\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", proc.port)) as gone:
        gone.sendall(head + b'{"x": [[0.0, 0.0')
    end = time.monotonic() + DEADLINE_S
    with httpx.Client(base_url=proc.url, timeout=10.0) as client:
        while time.monotonic() < end:
            metrics = client.get("/metrics").text
            if 'status="499"' in metrics:
                break
            time.sleep(0.05)  # paced poll of the server's own counters, bounded by the deadline
    lines = [ln for ln in metrics.splitlines() if ln.startswith(metric)]
    assert any('status="499"' in ln for ln in lines), lines
    assert not any('status="500"' in ln for ln in lines), lines
    assert "Exception in ASGI application" not in proc.output()

"""Helpers for the gateway tests (no tests here): a misbehaving sidecar and real processes.

FakeSidecar: a real HTTP server on 127.0.0.1 in a thread.

`mode` picks the fault: "garbage" (200 with wrong JSON), "notjson", "error" (500), "hang"
(never answers until stopped), "reject" (422 naming a window), "ok" (valid stub-like answers).
Process: a `tcnvae serve` / `tcnvae gateway` subprocess on a FIXED port, so a killed sidecar
can come back where the gateway expects it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np

from tests.serve.server import START_DEADLINE_S, TCNVAE


class FakeSidecar:
    def __init__(self, mode: str = "garbage") -> None:
        self.mode = mode
        self.calls = 0
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                return

            def do_GET(self) -> None:
                self._send(200, {"status": "ok"})

            def do_POST(self) -> None:
                fake.calls += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.answer(self, body)

            def _send(self, status: int, payload: object, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, handler, body: dict) -> None:
        n = len(body.get("windows", [None]))
        if self.mode == "garbage":
            handler._send(200, {"latent": "nope", "motif_scores": [1, 2, 3]})
        elif self.mode == "notjson":
            handler._send(200, None, raw=b"<html>oops</html>")
        elif self.mode == "error":
            handler._send(500, {"error": "boom"})
        elif self.mode == "hang":
            self._release.wait(10.0)
            handler._send(200, {})
        elif self.mode == "reject":
            handler._send(422, {"error": "value at window 0, sample 3, channel ax exceeds the limit"})
        else:
            scores = np.full((n, 12), 1 / 12).tolist()
            probs = [{"walking": 0.9, "sitting": 0.1}] * n
            if "windows" in body:
                handler._send(200, {"latent": np.zeros((n, 64)).tolist(), "motif_scores": scores,
                                    "activity_probs": probs, "model_version": "fake@v1"})
            else:
                handler._send(200, {"latent": [0.0] * 64, "motif_scores": scores[0],
                                    "activity_probs": probs[0]})

    def __enter__(self) -> "FakeSidecar":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class Process:
    """A `tcnvae` subprocess on 127.0.0.1:port, ready when GET /healthz answers 200 (polled, deadline)."""

    def __init__(self, args: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.port, self.log = port, log
        self.url = f"http://127.0.0.1:{port}"
        self._fh = open(log, "ab")
        self.proc = subprocess.Popen([str(TCNVAE), *args, "--port", str(port)], stdout=self._fh,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def wait_ready(self, deadline_s: float = START_DEADLINE_S) -> "Process":
        end = time.monotonic() + deadline_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"exited {self.proc.returncode}:\n{self.log.read_text(errors='replace')}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                try:
                    self.proc.wait(timeout=0.1)  # bounded poll interval
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError(f"not ready within {deadline_s} s:\n{self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL: a sidecar that dies without a goodbye."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._fh.close()

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._fh.close()

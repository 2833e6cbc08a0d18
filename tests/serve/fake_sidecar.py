"""FakeSidecar: a misbehaving model sidecar, a real HTTP server on 127.0.0.1 in a thread.

`mode` picks the fault: "garbage" (200 with wrong JSON), "notjson", "error" (500), "hang"
(never answers until stopped), "reject" (422 naming a window), "ok" (valid stub-like answers).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


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

"""A real `tcnvae serve` subprocess on a free loopback port, polled ready via /healthz (no sleeps)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TCNVAE = Path(sys.executable).with_name("tcnvae")
START_DEADLINE_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`tcnvae serve tcn_encoder@champion --models DIR --port P ...`, stopped with SIGTERM."""

    def __init__(self, models: Path, *args: str, env: dict[str, str] | None = None,
                 log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or models.parent / f"serve-{self.port}.log"
        cmd = [str(TCNVAE), "serve", "tcn_encoder@champion", "--models", str(models),
               "--port", str(self.port), *args]
        self._fh = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._fh, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})

    def wait_ready(self, deadline_s: float = START_DEADLINE_S) -> "ServerProcess":
        end = time.monotonic() + deadline_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.output()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                try:
                    self.proc.wait(timeout=0.1)  # a bounded poll interval, not a sleep-and-hope
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError(f"server not ready within {deadline_s} s:\n{self.output()}")

    def output(self) -> str:
        self._fh.flush()
        return self.log.read_text(errors="replace")

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._fh.close()
        return self.proc.returncode

"""Real `tcnvae serve` / `tcnvae gateway` subprocesses on loopback ports, polled ready via /healthz (no sleeps)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TCNVAE = Path(sys.executable).with_name("tcnvae")
START_DEADLINE_S = 300.0  # a start on a 2-core machine shared with other jobs can take minutes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A `tcnvae ARGS --port P` subprocess on 127.0.0.1, ready when GET /healthz answers 200
    (polled against a deadline); its output goes to `log`."""

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
                    raise RuntimeError(f"exited {self.proc.returncode}:\n{self.output()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                try:
                    self.proc.wait(timeout=0.1)  # a bounded poll interval, not a sleep-and-hope
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError(f"not ready within {deadline_s} s:\n{self.output()}")

    def output(self) -> str:
        if not self._fh.closed:  # closed once stopped; the log holds everything then
            self._fh.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: a sidecar that dies without a goodbye."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._fh.close()

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


class ServerProcess(Process):
    """`tcnvae serve tcn_encoder@champion --models DIR ...` on a free port, or on `port` (a restart
    after a kill reuses the one a gateway points at)."""

    def __init__(self, models: Path, *args: str, env: dict[str, str] | None = None,
                 log: Path | None = None, port: int | None = None) -> None:
        port = port or free_port()
        super().__init__(["serve", "tcn_encoder@champion", "--models", str(models), *args], port,
                         log or models.parent / f"serve-{port}.log", env)


@contextlib.contextmanager
def gateway_stack(tmp: Path, registry_root: Path, **gateway_env: str):
    """A copy of the registry, a real sidecar and `tcnvae gateway` in front of it, both ready.

    Yields {"sidecar", "gateway", "models", "tmp", "side_port"}; a test may replace "sidecar"
    (killed and restarted) and the last one is stopped at the end. The breaker opens after two
    failures and half-opens after 1 s, so kill/restart tests run quickly.
    """
    models = tmp / "models"
    shutil.copytree(registry_root, models)
    side_port, gw_port = free_port(), free_port()
    env = {"USE_REAL_MODEL": "true", "MODEL_BACKEND_URL": f"http://127.0.0.1:{side_port}",
           "SESSIONS_DIR": str(tmp / "sessions"), "GATEWAY_BREAKER_FAILURES": "2",
           "GATEWAY_BREAKER_COOLDOWN_S": "1.0", "GATEWAY_BACKEND_TIMEOUT_S": "10",
           "GATEWAY_HEALTH_PROBE_TIMEOUT_S": "5", **gateway_env}
    procs = {"sidecar": ServerProcess(models, log=tmp / "sidecar.log", port=side_port), "models": models, "tmp": tmp,
             "side_port": side_port}
    procs["gateway"] = Process(["gateway"], gw_port, tmp / "gateway.log", env=env)
    try:
        procs["sidecar"].wait_ready()
        procs["gateway"].wait_ready()
        yield procs
    finally:
        procs["gateway"].stop()
        procs["sidecar"].stop()

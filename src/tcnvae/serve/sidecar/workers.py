"""Several sidecar processes on one port (`tcnvae serve --workers N`), supervised by the CLI process.

Why processes: one process parses HTTP and JSON on one core and hands each batch to a thread
under the GIL; on a busy machine every hand-off waits for the scheduler (BENCHMARKS.md, "where
the c=8 tail comes from"). N processes each own an engine, a micro-batcher and an event loop,
so parsing and inference run on N cores with no GIL between them.

The parent binds the listening socket once (so a bad port fails before any model loads) and
starts N spawned workers that accept on it; the kernel hands each new connection to an idle
worker. Each worker verifies the release, checks parity and only then accepts, so every answer
comes from a ready worker. Metrics go through prometheus_client's multi-process mode: each
worker writes its values to files in a private temporary folder, and /metrics on any worker
sums them. SIGTERM/SIGINT to the parent is forwarded once to every worker, which drains as a
single server does; a worker that exits on its own stops the others (the unit's supervisor,
systemd or Kubernetes, restarts the whole server).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sys
import tempfile
from multiprocessing.connection import wait
from typing import Any

import uvicorn

from tcnvae.serve.sidecar.settings import ServeSettings

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STARTUP_FAILURE = 3


def _worker(settings: ServeSettings, uvicorn_kwargs: dict[str, Any], sock: socket.socket) -> None:
    """One worker: its own process group (a terminal's Ctrl-C reaches only the parent, which
    forwards one SIGTERM; two signals would make uvicorn skip the drain)."""
    os.setpgrp()
    from tcnvae.serve.sidecar.app import create_app

    from tcnvae.serve.http.server import uvicorn_config

    # The protocol class with the header deadline is built here: a class made at run time
    # cannot be pickled to a spawned worker, the settings can.
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings.host, settings.port,
                                           settings.header_timeout_s, **uvicorn_kwargs))
    server.run(sockets=[sock])
    sys.exit(0 if server.started else STARTUP_FAILURE)


def run_workers(settings: ServeSettings, uvicorn_kwargs: dict[str, Any]) -> int:
    """Start settings.workers workers on one socket and wait; returns the exit code for the CLI."""
    probe = uvicorn.Config(app=None, host=settings.host, port=settings.port)
    sock = probe.bind_socket()  # raises (port in use) before any worker starts
    metrics_dir = tempfile.mkdtemp(prefix="tcnvae-metrics-")
    os.environ[MULTIPROC_ENV] = metrics_dir  # inherited by the spawned workers before they import prometheus
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(settings, uvicorn_kwargs, sock), name=f"tcnvae-serve-{i}")
             for i in range(settings.workers)]
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for p in procs:
            if p.pid is not None and p.is_alive():
                os.kill(p.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for p in procs:
            p.start()
        code = _supervise(procs, settings, lambda: stopping, stop)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        sock.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop(MULTIPROC_ENV, None)
    return code


def _supervise(procs: list, settings: ServeSettings, stopping, stop) -> int:
    """Wait until every worker has exited; the first unexpected exit stops the rest."""
    code = 0
    alive = list(procs)
    while alive:
        ready = wait([p.sentinel for p in alive])
        for p in [p for p in alive if p.sentinel in ready]:
            p.join()
            alive.remove(p)
            if not stopping():
                log.error("worker %s (pid %s) exited with %s; stopping the others", p.name, p.pid, p.exitcode)
                code = p.exitcode if p.exitcode else STARTUP_FAILURE
                stop(signal.SIGTERM, None)
            elif p.exitcode not in (0, None) and code == 0:
                code = p.exitcode if p.exitcode > 0 else 0
    for p in procs:  # a worker stuck past its drain gets no second chance
        p.join(timeout=settings.drain_timeout_s + 5)
        if p.is_alive():
            p.kill()
    return code

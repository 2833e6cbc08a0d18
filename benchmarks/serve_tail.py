"""Where does the sidecar's tail latency come from? An instrumented in-process sidecar under wrk.

    .venv/bin/python benchmarks/serve_tail.py --models models --ref tcn_encoder@champion -c 8

Runs the real sidecar app (create_app, uvicorn, uvloop + httptools like `tcnvae serve`) in this
process with probes attached, drives it with wrk, and attributes the slowest 1 % of requests:

- event-loop lag: a task that sleeps 1 ms and records how late it wakes (a stalled loop);
- GC pauses: gc.callbacks start/stop around every collection, by generation;
- batcher: queue wait (submit -> batch starts), the engine call in the worker thread, and the
  thread hand-off both ways (run_in_executor -> worker starts; worker ends -> loop resumes);
- request parse: orjson decode + number conversion + contract check, per request;
- metrics and logging: the middleware's Prometheus updates, timed per request.

Each probe keeps (start, duration) intervals; a slow request is "explained" by a probe when an
interval of that probe above 2 ms overlaps its lifetime. With --workers N it starts the CLI's
multi-process server instead and reports wrk only (the probes need one process).
Prints a report; nothing is appended to BENCHMARKS.md (quote the numbers you use).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "benchmarks" / "post.lua"
SAMPLE = ROOT / ".." / "shared" / "conformance" / "realistic_imu_sample.json"
SIGNIFICANT_S = 0.002


class Probes:
    """Interval recorders: name -> list of (start, duration) in perf_counter seconds."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self.requests: list[tuple[float, float]] = []
        self._gc_start = 0.0
        self._lock = threading.Lock()

    def add(self, name: str, start: float, dur: float) -> None:
        with self._lock:
            self.spans.setdefault(name, []).append((start, dur))

    def gc_callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.add(f"gc gen{info['generation']}", self._gc_start, time.perf_counter() - self._gc_start)

    async def loop_lag(self, period_s: float = 0.001) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(period_s)
            late = time.perf_counter() - t - period_s
            self.add("event-loop lag", t + period_s, max(0.0, late))


def instrument(app, probes: Probes) -> None:
    """Wrap the sidecar's parse, batcher and metrics steps with timers (measurement only)."""
    import tcnvae.serve.sidecar.infer as infer_mod
    from tcnvae.runtime import batcher as batcher_mod
    from tcnvae.serve.http import metrics as metrics_mod

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                probes.add(name, t, time.perf_counter() - t)
        return wrapper

    infer_mod.parse_json = timed("json decode", infer_mod.parse_json)
    infer_mod.as_number_array = timed("to numpy", infer_mod.as_number_array)
    from tcnvae.runtime.engine import Engine
    Engine.validate = timed("contract check", Engine.validate)

    original_execute = batcher_mod.MicroBatcher._execute

    @dataclasses.dataclass
    class TimedJob(batcher_mod._Job):
        def __post_init__(self) -> None:
            self.queued_at = time.perf_counter()
    batcher_mod._Job = TimedJob

    async def execute(self, batch, n):
        t_call = time.perf_counter()
        for job in batch:
            probes.add("queue wait (submit -> batch starts)", job.queued_at, t_call - job.queued_at)
        run = self._run
        marks: dict[str, float] = {}

        def traced(x):
            marks["start"] = time.perf_counter()
            try:
                return run(x)
            finally:
                marks["end"] = time.perf_counter()
        self._run = traced
        try:
            await original_execute(self, batch, n)
        finally:
            self._run = run
        t_back = time.perf_counter()
        if "end" in marks:
            probes.add("hand-off to worker", t_call, marks["start"] - t_call)
            probes.add("engine.run", marks["start"], marks["end"] - marks["start"])
            probes.add("hand-off back to loop", marks["end"], t_back - marks["end"])
    batcher_mod.MicroBatcher._execute = execute

    class Timed(metrics_mod.MetricsMiddleware):
        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                return await super().__call__(scope, receive, send)
            t = time.perf_counter()
            try:
                await super().__call__(scope, receive, send)
            finally:
                probes.requests.append((t, time.perf_counter() - t))
    # replace the app's metrics middleware class in its middleware stack before it is built
    for m in app.user_middleware:
        if m.cls is metrics_mod.MetricsMiddleware:
            m.cls = Timed


def metrics_microbench(app) -> float:
    """Microseconds per request of the middleware's Prometheus updates (inc, observe, gauge)."""
    m = app.state.serve.metrics
    n, t = 20000, time.perf_counter()
    for _ in range(n):
        m.inflight.inc()
        m.inflight.dec()
        m.requests.labels(endpoint="/infer", status="200").inc()
        m.duration.labels(endpoint="/infer").observe(0.001)
    return (time.perf_counter() - t) / n * 1e6


def attribute(probes: Probes) -> dict:
    lat = np.array([d for _, d in probes.requests])
    threshold = float(np.quantile(lat, 0.99))
    slow = [(s, d) for s, d in probes.requests if d >= threshold]
    report = {"requests": len(lat), "p50_ms": float(np.median(lat)) * 1e3, "p99_ms": threshold * 1e3,
              "max_ms": float(lat.max()) * 1e3, "probes": {}}
    for name, spans in sorted(probes.spans.items()):
        if name.startswith("_"):
            continue
        d = np.array([x for _, x in spans])
        big = [(s, x) for s, x in spans if x >= SIGNIFICANT_S]
        explained = sum(any(s < rs + rd and s + x > rs for s, x in big) for rs, rd in slow)
        report["probes"][name] = {"n": len(d), "p50_ms": float(np.median(d)) * 1e3,
                                  "p99_ms": float(np.quantile(d, 0.99)) * 1e3, "max_ms": float(d.max()) * 1e3,
                                  "total_ms": float(d.sum()) * 1e3, "over_2ms": len(big),
                                  "slow_overlapping": explained, "slow": len(slow)}
    return report


def run_instrumented(a: argparse.Namespace) -> dict:
    import uvicorn

    from tcnvae.serve.sidecar.app import create_app
    from tcnvae.serve.sidecar.settings import ServeSettings

    settings = ServeSettings(ref=a.ref, models=Path(a.models), port=a.port, max_batch=a.max_batch,
                             batch_wait_ms=a.batch_wait_ms, inference_thread=not a.inline,
                             gc_freeze=a.freeze)
    app = create_app(settings)
    probes = Probes()
    instrument(app, probes)
    config = uvicorn.Config(app, host="127.0.0.1", port=a.port, loop="uvloop", http="httptools",
                            access_log=False, log_level="warning")
    server = uvicorn.Server(config)

    async def main() -> dict:
        serve = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        gc.callbacks.append(probes.gc_callback)
        lag = asyncio.create_task(probes.loop_lag())
        proc = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{a.c}", f"-d{a.duration}s", "--latency", "-s", str(LUA),
            f"http://127.0.0.1:{a.port}/infer", stdout=subprocess.PIPE,
            env={**os.environ, "TCNVAE_BODY": str(SAMPLE)})
        out = (await proc.communicate())[0].decode()
        gc.callbacks.remove(probes.gc_callback)
        lag.cancel()
        server.should_exit = True
        await serve
        rep = attribute(probes)
        rep["wrk"] = out
        rep["metrics_us_per_request"] = metrics_microbench(app)
        return rep
    return asyncio.run(main())


def print_report(rep: dict) -> None:
    print(f"requests {rep['requests']}, server-side p50 {rep['p50_ms']:.2f} ms, p99 {rep['p99_ms']:.2f} ms, "
          f"max {rep['max_ms']:.1f} ms; metrics updates {rep['metrics_us_per_request']:.1f} us/request")
    print("| probe | n | p50 ms | p99 ms | max ms | total ms | spans > 2 ms | slow requests overlapping |")
    print("|---|---|---|---|---|---|---|---|")
    for name, p in rep["probes"].items():
        print(f"| {name} | {p['n']} | {p['p50_ms']:.3f} | {p['p99_ms']:.3f} | {p['max_ms']:.1f} | "
              f"{p['total_ms']:.0f} | {p['over_2ms']} | {p['slow_overlapping']} / {p['slow']} |")
    print(rep["wrk"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="models")
    p.add_argument("--ref", default="tcn_encoder@champion")
    p.add_argument("-c", type=int, default=8, help="wrk connections")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--port", type=int, default=9311)
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--batch-wait-ms", type=float, default=2.0)
    p.add_argument("--inline", action="store_true", help="run the engine on the event-loop thread")
    p.add_argument("--freeze", action="store_true", help="gc.collect(); gc.freeze() after start-up")
    p.add_argument("--json", help="also write the report here")
    a = p.parse_args()
    rep = run_instrumented(a)
    print_report(rep)
    if a.json:
        Path(a.json).write_text(json.dumps(rep, indent=1))


if __name__ == "__main__":
    main()

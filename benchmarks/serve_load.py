"""Load-test the inference sidecar with wrk on loopback, beside the naive seed-style server.

    .venv/bin/python benchmarks/serve_load.py --models models --ref tcn_encoder@champion

Measures single-window /infer (p50, p99, requests/s at concurrency 1, 8, 32), /infer/batch
windows/s (64 windows per request), the raw Engine's windows/s in-process, and the naive
server (FastAPI + pydantic per-element validation + PyTorch eager, batch 1). Prints a
markdown table and appends it to BENCHMARKS.md with the command, date and machine.
Needs `wrk` on PATH.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "benchmarks" / "post.lua"
SAMPLE = ROOT / ".." / "shared" / "conformance" / "realistic_imu_sample.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], url: str, deadline_s: float = 180.0) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        try:
            proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    raise SystemExit(f"{cmd} not ready in {deadline_s} s")


def wrk(url: str, body: Path, conns: int, seconds: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(LUA), url],
                         capture_output=True, text=True, env={**os.environ, "TCNVAE_BODY": str(body)},
                         check=True).stdout
    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m[1]) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m[2]] if m else float("nan")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"p50": ms("50"), "p99": ms("99"), "rps": rps, "errors": int(bad[1]) if bad else 0}


def engine_windows_per_s(models: str, ref: str, batch: int, seconds: float) -> float:
    from tcnvae.registry.store import Registry
    from tcnvae.runtime.engine import Engine

    engine = Engine.from_release(Registry(models).open(ref), backend="onnx", threads=1)
    x = np.repeat(np.asarray(json.loads(SAMPLE.read_text())["x"], np.float32)[None], batch, axis=0)
    engine.infer(x)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        engine.infer(x)
        n += batch
    return n / (time.perf_counter() - start)


def run_all(a: argparse.Namespace, tmp: Path) -> list[tuple[str, dict]]:
    rows: list[tuple[str, dict]] = []
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tcnvae = Path(sys.executable).with_name("tcnvae")
    proc = start([str(tcnvae), "serve", a.ref, "--models", a.models, "--port", str(port)], url)
    try:
        for c in a.concurrency:
            rows.append((f"sidecar /infer c={c}", wrk(f"{url}/infer", SAMPLE, c, a.duration)))
        x = json.loads(SAMPLE.read_text())["x"]
        batch_body = tmp / "batch.json"
        batch_body.write_text(json.dumps({"windows": [x] * a.batch}))
        r = wrk(f"{url}/infer/batch", batch_body, 2, a.duration)
        r["windows_s"] = r["rps"] * a.batch
        rows.append((f"sidecar /infer/batch ({a.batch} windows) c=2", r))
    finally:
        proc.terminate()
        proc.wait()
    rows.append((f"raw Engine onnx batch {a.batch} (in-process)",
                 {"windows_s": engine_windows_per_s(a.models, a.ref, a.batch, a.duration)}))
    if not a.skip_naive:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start([sys.executable, str(ROOT / "benchmarks" / "naive_server.py"), "--models", a.models,
                      "--ref", a.ref, "--port", str(port)], url)
        try:
            for c in (1, 8):
                rows.append((f"naive seed-style /infer c={c}", wrk(f"{url}/infer", SAMPLE, c, a.duration)))
        finally:
            proc.terminate()
            proc.wait()
    return rows


def table(rows: list[tuple[str, dict]]) -> str:
    def f(v, fmt):
        return "" if v is None else format(v, fmt)
    lines = ["| run | p50 ms | p99 ms | requests/s | windows/s | non-2xx |", "|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {f(r.get('p50'), '.2f')} | {f(r.get('p99'), '.2f')} | {f(r.get('rps'), '.0f')} "
                     f"| {f(r.get('windows_s'), '.0f')} | {f(r.get('errors'), 'd')} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="models")
    p.add_argument("--ref", default="tcn_encoder@champion")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--skip-naive", action="store_true")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    a = p.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(a, Path(tmp))
    text = table(rows)
    print(text)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
               f"load average at the end {os.getloadavg()[0]:.1f} (shared with other jobs)")
    cmd = " ".join(["python", "benchmarks/serve_load.py", *sys.argv[1:]])
    with open(a.out, "a") as fh:
        fh.write(f"\n## Inference sidecar load (wrk, loopback) — {dt.date.today().isoformat()}\n\n"
                 f"Command: `{cmd}`  \nMachine: {machine}; wrk -t1, {a.duration} s per run; fp32 model.\n\n"
                 f"{text}\n")


if __name__ == "__main__":
    main()

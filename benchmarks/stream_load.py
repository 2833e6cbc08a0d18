"""Load-test `/v2/stream` on a real sidecar with N concurrent real-time 100 Hz streams.

    .venv/bin/python benchmarks/stream_load.py --models models --ref tcn_encoder@champion

Each stream sends 10 samples (6 channels, a UCI-HAPT slice at 100 Hz) every 0.1 s, at real
time, starting at a random phase; the server answers every window (stride 50: 2 per second
per stream). End-to-end latency of a window is measured in the client: from sending the
chunk that holds the window's last sample to receiving its result. The reference, in the
same run and at the same concurrency: the pre-stream way, each client cutting windows itself
and POSTing each one to `/infer` (one HTTP request per window, httpx). Prints a markdown
table and appends it to BENCHMARKS.md with the command, date and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import publish  # noqa: E402
from benchmarks.serve_load import free_port, start  # noqa: E402
from tcnvae.data.resample import resample_signals  # noqa: E402
from tests.analysis.hapt_recording import hapt_signals  # noqa: E402

RATE, CHUNK, STRIDE, WINDOW = 100.0, 10, 50, 100
CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]


def signals(seconds: float) -> np.ndarray:
    """HAPT exp01 (acc in g, gyro rad/s) resampled to 100 Hz: what a 100 Hz device would send."""
    raw = hapt_signals(seconds=seconds / 2 + 2, offset_s=200.0)
    return resample_signals(raw, 50.0, RATE)[: int(seconds * RATE)]


async def one_stream(url: str, rows: np.ndarray, lat: list[float], counts: dict) -> None:
    await asyncio.sleep(random.uniform(0, CHUNK / RATE))  # devices do not tick in lockstep
    sent: dict[int, float] = {}  # chunk index -> when it left
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(orjson.dumps({"type": "open", "rate_hz": RATE, "channels": CHANNELS,
                                    "units": {"acc": "g"}}).decode())
        await ws.recv()

        async def receive() -> None:
            async for raw in ws:
                msg = orjson.loads(raw)
                if msg["type"] == "window":
                    last = msg["index"] * STRIDE + WINDOW - 1
                    lat.append(time.perf_counter() - sent[last // CHUNK])
                    counts["windows"] += 1
                elif msg["type"] == "error":
                    counts["errors"] += 1

        receiver = asyncio.create_task(receive())
        start_t = time.perf_counter()
        for k, i in enumerate(range(0, len(rows), CHUNK)):
            await asyncio.sleep(max(0.0, start_t + i / RATE - time.perf_counter()))
            await ws.send(orjson.dumps({"type": "samples", "samples": rows[i:i + CHUNK].tolist()}).decode())
            sent[k] = time.perf_counter()
        await ws.send('{"type": "end"}')
        await receiver


async def one_http_client(url: str, rows: np.ndarray, lat: list[float], counts: dict,
                          client: httpx.AsyncClient) -> None:
    """The reference: the client keeps the samples, cuts each window, POSTs it to /infer."""
    await asyncio.sleep(random.uniform(0, CHUNK / RATE))
    start_t = time.perf_counter()
    for start in range(0, len(rows) - WINDOW + 1, STRIDE):
        due = start_t + (start + WINDOW) / RATE  # the window's last sample has arrived
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        t = time.perf_counter()
        window = np.zeros((WINDOW, 9))
        window[:, :6] = rows[start:start + WINDOW]
        window[:, :3] *= 9.80665  # the seed contract takes SI units
        r = await client.post(f"{url}/infer", content=orjson.dumps({"x": window.tolist()}),
                              headers={"content-type": "application/json"})
        if r.status_code == 200:
            lat.append(time.perf_counter() - t)
            counts["windows"] += 1
        else:
            counts["errors"] += 1


async def level(base: str, n: int, seconds: float, mode: str) -> dict:
    rows = signals(seconds)
    lat: list[float] = []
    counts = {"windows": 0, "errors": 0}
    t0 = time.perf_counter()
    if mode == "stream":
        url = base.replace("http://", "ws://") + "/v2/stream"
        await asyncio.gather(*(one_stream(url, rows, lat, counts) for _ in range(n)))
    else:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
            await asyncio.gather(*(one_http_client(base, rows, lat, counts, client) for _ in range(n)))
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1e3 if lat else np.array([np.nan])
    return {"mode": mode, "streams": n, "windows": counts["windows"], "errors": counts["errors"],
            "per_s": counts["windows"] / wall, "p50": np.percentile(ms, 50), "p95": np.percentile(ms, 95),
            "p99": np.percentile(ms, 99), "max": ms.max()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--ref", default="tcn_encoder@champion")
    ap.add_argument("--streams", default="1,10,200")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds of samples per stream")
    ap.add_argument("--note", default="", help="what else was running (goes under the table)")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tcnvae = str(Path(sys.executable).with_name("tcnvae"))
    server = start([tcnvae, "serve", args.ref, "--models", args.models, "--port", str(port)], f"{base}/healthz")
    rows = []
    try:
        for n in (int(v) for v in args.streams.split(",")):
            for mode in ("stream", "http /infer"):
                r = asyncio.run(level(base, n, args.seconds, mode))
                rows.append(r)
                print(f"{mode:>12} {n:4d} streams: {r['windows']} windows, {r['per_s']:.1f}/s, "
                      f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, errors {r['errors']}", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    head = ("| way | streams (100 Hz each) | windows | windows/s | p50 ms | p95 ms | p99 ms | max ms | errors |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    body = "".join(f"| {r['mode']} | {r['streams']} | {r['windows']} | {r['per_s']:.1f} | {r['p50']:.1f} | "
                   f"{r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['errors']} |\n" for r in rows)
    text = (head + body + f"\n{args.seconds:g} s of samples per stream, 10 samples per message, stride 50; "
            "latency = the window's last sample sent -> its result received (stream) or the request "
            "sent -> its answer (http /infer, the client cutting windows itself). " + args.note)
    publish(f"Live streams: {args.ref} on /v2/stream (benchmarks/stream_load.py)", text, append=not args.no_append)


if __name__ == "__main__":
    main()

"""Load-test `/v2/stream` on a real sidecar with N concurrent real-time 100 Hz streams.

    .venv/bin/python benchmarks/stream_load.py --models models --ref tcn_encoder@champion

Each stream sends 10 samples (6 channels, a UCI-HAPT slice at 100 Hz) every 0.1 s, at real
time, starting at a random phase within one stride (0.5 s: devices that connected at different
moments finish their windows at different moments); `--aligned` starts them all within one chunk
(0.1 s) instead, as after a gateway restart when every device reconnects at once, so that the
200 windows of a stride arrive as one burst. The server answers every window (stride 50: 2 per
second per stream). End-to-end latency of a window is measured in the client: from sending the
chunk that holds the window's last sample to receiving its result. The server's share of it
(`lag_ms` in each result: the frame received -> the result sent) is reported beside it, with
the server's CPU time per window and the machine's load average, since the clients (one
separate process, `--pin` can put it and the server on different cores) and anything else
running share the CPUs. The reference, in the same run and at the same concurrency: the
pre-stream way, each client cutting windows itself and POSTing each one to `/infer` (one
HTTP request per window, httpx). Prints a markdown table and appends it to BENCHMARKS.md
with the command, date and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from benchmarks.serve_load import free_port, start, tree_cpu_s  # noqa: E402
from tcnvae.data.resample import resample_signals  # noqa: E402
from tests.analysis.hapt_recording import hapt_signals  # noqa: E402

RATE, CHUNK, STRIDE, WINDOW = 100.0, 10, 50, 100
CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]


def signals(seconds: float) -> np.ndarray:
    """HAPT exp01 (acc in g, gyro rad/s) resampled to 100 Hz: what a 100 Hz device would send."""
    raw = hapt_signals(seconds=seconds + 1, offset_s=200.0)  # seconds at 50 Hz, 1 s spare for the filter
    rows = resample_signals(raw, 50.0, RATE)[: int(seconds * RATE)]
    assert len(rows) == int(seconds * RATE), "the HAPT recording is shorter than --seconds"
    return rows


def encoded(rows: np.ndarray, binary: bool = False) -> list[str | bytes]:
    """Every chunk's frame (JSON text, or little-endian float32 rows), made once before the run:
    a device's encoding is not the server's cost."""
    if binary:
        return [np.ascontiguousarray(rows[i:i + CHUNK], dtype="<f4").tobytes() for i in range(0, len(rows), CHUNK)]
    return [orjson.dumps({"type": "samples", "samples": rows[i:i + CHUNK].tolist()}).decode()
            for i in range(0, len(rows), CHUNK)]


def phase_s(aligned: bool) -> float:
    """When a stream starts: devices do not tick in lockstep unless they all reconnected at once."""
    return random.uniform(0, (CHUNK if aligned else STRIDE) / RATE)


async def one_stream(url: str, frames: list[str | bytes], lat: list[float], lags: list[float], counts: dict,
                     aligned: bool) -> None:
    await asyncio.sleep(phase_s(aligned))
    sent: dict[int, float] = {}  # chunk index -> when it left
    async with websockets.connect(url, max_size=2**24, compression=None) as ws:
        await ws.send(orjson.dumps({"type": "open", "rate_hz": RATE, "channels": CHANNELS,
                                    "units": {"acc": "g"}}).decode())
        await ws.recv()

        async def receive() -> None:
            async for raw in ws:
                msg = orjson.loads(raw)
                if msg["type"] == "window":
                    last = msg["index"] * STRIDE + WINDOW - 1
                    lat.append(time.perf_counter() - sent[last // CHUNK])
                    lags.append(msg["lag_ms"])
                    counts["windows"] += 1
                elif msg["type"] == "error":
                    counts["errors"] += 1

        receiver = asyncio.create_task(receive())
        start_t = time.perf_counter()
        for k, frame in enumerate(frames):
            await asyncio.sleep(max(0.0, start_t + k * CHUNK / RATE - time.perf_counter()))
            await ws.send(frame)
            sent[k] = time.perf_counter()
        await ws.send('{"type": "end"}')
        await receiver


async def one_http_client(url: str, rows: np.ndarray, lat: list[float], counts: dict,
                          client: httpx.AsyncClient, aligned: bool) -> None:
    """The reference: the client keeps the samples, cuts each window, POSTs it to /infer."""
    await asyncio.sleep(phase_s(aligned))
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


async def level(base: str, n: int, seconds: float, mode: str, server_pid: int, binary: bool = False,
                aligned: bool = False) -> dict:
    rows = signals(seconds)
    lat: list[float] = []
    lags: list[float] = []
    counts = {"windows": 0, "errors": 0}
    cpu0, t0 = tree_cpu_s(server_pid), time.perf_counter()
    if mode == "stream":
        url = base.replace("http://", "ws://") + "/v2/stream"
        frames = encoded(rows, binary)
        await asyncio.gather(*(one_stream(url, frames, lat, lags, counts, aligned) for _ in range(n)))
    else:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
            await asyncio.gather(*(one_http_client(base, rows, lat, counts, client, aligned) for _ in range(n)))
    wall, cpu = time.perf_counter() - t0, tree_cpu_s(server_pid) - cpu0
    ms = np.array(lat) * 1e3 if lat else np.array([np.nan])
    lag = np.array(lags) if lags else np.array([np.nan])
    return {"mode": mode, "streams": n, "windows": counts["windows"], "errors": counts["errors"],
            "per_s": counts["windows"] / wall, "p50": np.percentile(ms, 50), "p95": np.percentile(ms, 95),
            "p99": np.percentile(ms, 99), "max": ms.max(), "lag50": np.percentile(lag, 50),
            "lag99": np.percentile(lag, 99), "cpu_ms": cpu / max(1, counts["windows"]) * 1e3,
            "load": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--ref", default="tcn_encoder@champion")
    ap.add_argument("--streams", default="1,10,200")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds of samples per stream")
    ap.add_argument("--precision", default="fp32", choices=("fp32", "int8"), help="the sidecar's graph")
    ap.add_argument("--no-reference", action="store_true", help="skip the http /infer reference rows")
    ap.add_argument("--binary", action="store_true", help="streams send float32 frames instead of JSON")
    ap.add_argument("--aligned", action="store_true",
                    help="start every stream within one chunk (a reconnect storm) instead of within one stride")
    ap.add_argument("--pin", default="", metavar="SERVER_CPUS:CLIENT_CPUS",
                    help='e.g. "0:1": the server on CPU 0 (taskset), the clients on CPU 1')
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
    cmd = [tcnvae, "serve", args.ref, "--models", args.models, "--port", str(port), "--precision", args.precision]
    if args.pin:
        server_cpus, client_cpus = args.pin.split(":")
        cmd = ["taskset", "-c", server_cpus] + cmd
        os.sched_setaffinity(0, {int(c) for c in client_cpus.split(",")})
    server = start(cmd, f"{base}/healthz")
    rows = []
    modes = ("stream",) if args.no_reference else ("stream", "http /infer")
    try:
        for n in (int(v) for v in args.streams.split(",")):
            for mode in modes:
                r = asyncio.run(level(base, n, args.seconds, mode, server.pid, args.binary, args.aligned))
                frames = ", float32 frames" if args.binary and mode == "stream" else ""
                r["mode"] = f"{mode} ({args.precision}{frames})"
                rows.append(r)
                print(f"{r['mode']:>18} {n:4d} streams: {r['windows']} windows, {r['per_s']:.1f}/s, "
                      f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, server lag p99 {r['lag99']:.1f} ms, "
                      f"server CPU {r['cpu_ms']:.2f} ms/window, load {r['load']:.1f}, errors {r['errors']}",
                      flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    head = ("| way | streams (100 Hz each) | windows | windows/s | p50 ms | p95 ms | p99 ms | max ms | "
            "server lag p50 / p99 ms | server CPU ms/window | load (1 min) | errors |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    body = "".join(f"| {r['mode']} | {r['streams']} | {r['windows']} | {r['per_s']:.1f} | {r['p50']:.1f} | "
                   f"{r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
                   f"{'%.1f / %.1f' % (r['lag50'], r['lag99']) if r['mode'].startswith('stream') else '-'} | "
                   f"{r['cpu_ms']:.2f} | {r['load']:.1f} | {r['errors']} |\n" for r in rows)
    pin = f"server pinned to CPU {args.pin.split(':')[0]}, clients to CPU {args.pin.split(':')[1]}" if args.pin \
        else "server and clients unpinned"
    per_stream = (int(args.seconds * RATE) - WINDOW) // STRIDE + 1
    starts = "within one chunk (aligned: a reconnect storm)" if args.aligned else "at random phases within one stride"
    text = (head + body + f"\n{args.seconds:g} s of samples per stream ({per_stream} windows; offered "
            f"{RATE / STRIDE:g} windows/s per stream), 10 samples per message, stride 50, "
            f"{pin}, streams started {starts}; latency = the window's last sample sent -> its result received "
            "(stream) or the request "
            "sent -> its answer (http /infer, the client cutting windows itself); server lag = the frame "
            "received -> the result sent, as the server reports it. " + args.note)
    publish(f"Live streams: {args.ref} on /v2/stream (benchmarks/stream_load.py)", text, append=not args.no_append)


if __name__ == "__main__":
    main()

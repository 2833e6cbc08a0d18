"""Shared pieces of the stream tests: a real HAPT recording replayed with the real `websockets`
client in uneven chunks, and the comparison with `tcnvae analyze` of the same file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import orjson
import pytest
import websockets

from tests.analysis.hapt_recording import RATE_HZ, UNITS

CHANNELS6 = ["ax", "ay", "az", "gx", "gy", "gz"]
SIZES = (1, 7, 3, 25, 64, 2, 130, 11)  # samples per chunk, cycled: chunk borders fall anywhere


def csv_rows(path: Path) -> np.ndarray:
    """The CSV's channel values exactly as `tcnvae analyze` parses them (float of each cell)."""
    lines = path.read_text().splitlines()[1:]
    return np.array([[float(v) for v in line.split(",")[1:]] for line in lines])


def uneven(n: int) -> list[slice]:
    out, i, k = [], 0, 0
    while i < n:
        out.append(slice(i, i + SIZES[k % len(SIZES)]))
        i, k = i + SIZES[k % len(SIZES)], k + 1
    return out


async def send_and_collect(url: str, rows: np.ndarray, *, binary: bool = False, latent: bool = False,
                           headers: dict | None = None, open_extra: dict | None = None,
                           pace=None) -> list[dict]:
    """Open, send every chunk (JSON with a `t` on every other one, or float32 frames), end, and
    return every message the server sent, in order. `pace(k, msgs)` is awaited before chunk k."""
    msgs: list[dict] = []
    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.send(orjson.dumps({"type": "open", "rate_hz": RATE_HZ, "channels": CHANNELS6,
                                    "units": UNITS, "latent": latent, **(open_extra or {})}).decode())

        async def receive() -> None:
            async for raw in ws:
                msgs.append(orjson.loads(raw))

        receiver = asyncio.create_task(receive())
        for k, s in enumerate(uneven(len(rows))):
            if pace is not None:
                await pace(k, msgs)
            if binary:
                await ws.send(np.ascontiguousarray(rows[s], dtype="<f4").tobytes())
            else:
                msg = {"type": "samples", "samples": rows[s].tolist()}
                if k % 2:
                    msg["t"] = s.start / RATE_HZ
                await ws.send(orjson.dumps(msg).decode())
        await ws.send('{"type": "end"}')
        await receiver
        assert ws.close_code == 1000, (ws.close_code, ws.close_reason, msgs[-1:])
    return msgs


def by_type(msgs: list[dict], kind: str) -> list[dict]:
    return [m for m in msgs if m["type"] == kind]


def assert_same_as_offline(msgs: list[dict], results: dict, atol: float = 1e-3) -> None:
    """Per-window results within float tolerance and the same ethogram segments as offline."""
    windows, offline = by_type(msgs, "window"), results["timeline"]
    assert len(windows) == len(offline) == results["n_windows"]
    for w, o in zip(windows, offline):
        assert (w["t_start"], w["t_end"]) == (o["t_start"], o["t_end"])
        assert w["activity"] == o["activity"] and w["top_motif"] == o["top_motif"]
        assert w["activity_probs"] == pytest.approx(o["activity_probs"], abs=atol)
        assert w["motif_scores"] == pytest.approx(o["motif_scores"], abs=atol)
    segs = by_type(msgs, "segment")
    for kind in ("activity", "motifs"):
        live = [{k: v for k, v in s.items() if k not in ("type", "kind")} for s in segs if s["kind"] == kind]
        assert live == results["ethogram"][kind], kind


def run(coro):
    return asyncio.run(coro)


def scrape(base_url: str) -> dict[str, float]:
    """GET /metrics -> {'name{label="v",...}': value} for every sample (labels sorted)."""
    from prometheus_client.parser import text_string_to_metric_families
    import httpx

    text = httpx.get(f"{base_url}/metrics", timeout=30.0).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


async def stream_metrics_scenario(url: str, base_url: str, prefix: str, rows: np.ndarray) -> dict:
    """Three real streams at once (each `rows`, so their windows can share model calls), one
    refused for bad samples, /metrics scraped while they are open and after; returns
    {"before", "during", "after", "windows"} for the caller's assertions."""
    before = await asyncio.to_thread(scrape, base_url)
    during: dict = {}
    opened, scraped = asyncio.Event(), asyncio.Event()
    scraping: list[bool] = []
    n_open = 0

    async def pace(k: int, msgs: list) -> None:
        nonlocal n_open
        if k == 0:
            end = asyncio.get_running_loop().time() + 60
            while not msgs:  # the server's "opened": this stream is counted
                assert asyncio.get_running_loop().time() < end, "no opened message"
                await asyncio.sleep(0.01)
            n_open += 1
            if n_open == 3:
                opened.set()
            await opened.wait()  # all three are open before any sends a sample
            if not scraping:  # the first one here scrapes; the others wait for it, so none has ended
                scraping.append(True)
                during.update(await asyncio.to_thread(scrape, base_url))
                scraped.set()
            await scraped.wait()

    results = await asyncio.gather(*(send_and_collect(url, rows, pace=pace) for _ in range(3)))
    async with websockets.connect(url) as ws:  # 4422: a value that is not a number
        await ws.send(orjson.dumps({"type": "open", "rate_hz": RATE_HZ, "channels": CHANNELS6,
                                    "units": UNITS}).decode())
        await ws.recv()
        await ws.send(orjson.dumps({"type": "samples", "samples": [[0, 0, 1, 0, 0, "x"]]}).decode())
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosedError:
            pass
    after = await asyncio.to_thread(scrape, base_url)
    return {"before": before, "during": during, "after": after,
            "windows": sum(len(by_type(m, "window")) for m in results), "prefix": prefix}


def assert_stream_metrics(got: dict, source: str = "model") -> None:
    """What stream_metrics_scenario must have moved: open gauge, windows, latency, closes."""
    b, d, a, prefix = got["before"], got["during"], got["after"], got["prefix"]

    def delta(key: str) -> float:
        return a.get(key, 0.0) - b.get(key, 0.0)

    assert d[f"{prefix}_streams_open"] == b.get(f"{prefix}_streams_open", 0.0) + 3
    assert a[f"{prefix}_streams_open"] == b.get(f"{prefix}_streams_open", 0.0)
    assert got["windows"] > 0
    assert delta(f'{prefix}_stream_windows_total{{source="{source}"}}') == got["windows"]
    assert delta(f"{prefix}_stream_window_latency_seconds_count") == got["windows"]
    assert delta(f"{prefix}_stream_window_latency_seconds_sum") > 0
    assert delta(f'{prefix}_streams_closed_total{{code="1000",reason="normal"}}') == 3
    assert delta(f'{prefix}_streams_closed_total{{code="4422",reason="bad samples"}}') == 1

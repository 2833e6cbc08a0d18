"""A stream client (the `websockets` package): replay rows at real time, or faster, and hand
every server message to a callback. What `tcnvae stream` and the stream benchmark use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson
import websockets

from tcnvae.errors import TcnvaeError


class StreamClosed(TcnvaeError):
    """The server closed the stream with an error; `code` is the WebSocket close code."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"stream closed ({code}): {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Replay:
    rate_hz: float
    channels: tuple[str, ...]
    rows: np.ndarray  # [T, len(channels)] in `units`
    units: dict[str, str]
    chunk_s: float = 0.1  # seconds of samples per chunk
    speed: float = 1.0  # 1 = real time, 10 = ten times faster, 0 = as fast as the server takes them
    binary: bool = False  # float32 frames instead of JSON
    latent: bool = False
    options: dict | None = None  # stride, smooth_windows, min_dwell_s, confidence_threshold

    def open_message(self) -> dict:
        return {"type": "open", "rate_hz": self.rate_hz, "channels": list(self.channels),
                "units": self.units, "latent": self.latent, **(self.options or {})}

    def chunks(self) -> list[slice]:
        step = max(1, int(round(self.chunk_s * self.rate_hz)))
        return [slice(i, i + step) for i in range(0, len(self.rows), step)]


def encode(rows: np.ndarray, binary: bool, t: float | None = None) -> str | bytes:
    if binary:
        return np.ascontiguousarray(rows, dtype="<f4").tobytes()
    msg: dict = {"type": "samples", "samples": rows.tolist()}
    if t is not None:
        msg["t"] = t
    return orjson.dumps(msg).decode()


async def replay(url: str, job: Replay, on_message: Callable[[dict], None],
                 headers: dict[str, str] | None = None,
                 on_sent: Callable[[int, float], None] | None = None) -> dict:
    """Open a stream, send `job.rows` paced by `job.speed`, end it; returns the "end" message.

    `on_message(msg)` sees every server message as it arrives; `on_sent(n_rows_so_far, t)` is
    called after each chunk with its perf_counter time. StreamClosed if the server refuses."""
    async with websockets.connect(url, additional_headers=headers, max_size=2**24) as ws:
        await ws.send(orjson.dumps(job.open_message()).decode())
        opened = orjson.loads(await ws.recv())
        if opened.get("type") != "opened":
            raise StreamClosed(ws.close_code, opened.get("error", str(opened)))
        on_message(opened)
        receiver = asyncio.create_task(_receive(ws, on_message))
        start = time.perf_counter()
        try:
            for s in job.chunks():
                if receiver.done():
                    break
                if job.speed > 0:
                    due = start + s.start / job.rate_hz / job.speed
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await ws.send(encode(job.rows[s], job.binary))
                if on_sent is not None:
                    on_sent(s.stop if s.stop < len(job.rows) else len(job.rows), time.perf_counter())
            if not receiver.done():
                await ws.send(orjson.dumps({"type": "end"}).decode())
        except websockets.ConnectionClosed:
            pass  # the receiver has the reason
        return await receiver


async def _receive(ws, on_message: Callable[[dict], None]) -> dict:
    error: dict | None = None
    try:
        async for raw in ws:
            msg = orjson.loads(raw)
            if msg.get("type") == "error":
                error = msg
            on_message(msg)
            if msg.get("type") == "end":
                return msg
    except websockets.ConnectionClosed:
        pass
    reason = error["error"] if error else (ws.close_reason or "connection closed")
    raise StreamClosed(ws.close_code, reason)

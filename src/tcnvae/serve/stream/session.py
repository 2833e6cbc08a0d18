"""One stream connection: read chunks, cut windows, ask the model, send results as they come.

Two tasks per connection. The reader receives frames, checks them and pushes the samples
through `analysis.live.LiveAnalysis`; each complete window goes into a bounded queue
(`max_pending_windows`). The worker takes whatever is queued (up to the batch size), asks
the model once (the server's `coalesce.WindowCoalescer`, shared by all its streams), and
sends the window results and any ethogram segments that closed.

Backpressure: when the model falls behind, the queue fills and the reader stops reading
the socket until the worker catches up; the WebSocket and TCP buffers then fill and the
client's sends block. Nothing is dropped: a client that sends faster than real time is
slowed to the model's pace. Memory per stream stays bounded by the queue, one chunk
(`max_chunk_rows`), the resampler's filter history and one window of samples.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.live import LiveAnalysis
from tcnvae.analysis.outputs import ModelOutputs
from tcnvae.analysis.pipeline import AnalysisConfig
from tcnvae.analysis.windows import AnalysisWindows
from tcnvae.contract import RATE_HZ, WINDOW
from tcnvae.serve.stream import protocol as p
from tcnvae.serve.stream.limits import StreamLimits, StreamSlots
from tcnvae.serve.stream.metrics import StreamMetrics

log = logging.getLogger(__name__)


@dataclass
class Answered:
    outputs: ModelOutputs
    reason: str | None = None  # why the stub answered, when it did


class StreamModel(Protocol):
    async def answer(self, x: np.ndarray) -> Answered:
        """Validated raw windows [N, 100, 9] -> outputs; StreamError to end the stream."""


class StreamRecorder(Protocol):
    session: str

    def write(self, rows: np.ndarray) -> None: ...

    async def finish(self) -> None: ...


@dataclass
class StreamContext:
    model: StreamModel
    limits: StreamLimits
    slots: StreamSlots
    config: AnalysisConfig  # the server's defaults; the open message may override them
    info: dict = field(default_factory=dict)  # extra fields of the "opened" message
    recorder: Callable[[p.Opening], StreamRecorder] | None = None
    metrics: StreamMetrics | None = None


@dataclass
class _Window:
    windows: AnalysisWindows  # one window
    arrived: float  # perf_counter when the chunk that completed it was received


class _Stream:
    def __init__(self, ws: WebSocket, ctx: StreamContext, opening: p.Opening) -> None:
        self.ws, self.ctx, self.opening = ws, ctx, opening
        self.live = LiveAnalysis(opening.spec, opening.config)
        self.queue: asyncio.Queue[_Window | None] = asyncio.Queue(ctx.limits.max_pending_windows)
        self.recorder = ctx.recorder(opening) if ctx.recorder else None
        self.id = uuid.uuid4().hex[:12]
        self.sources: dict[str, int] = {}
        self.gone_code = 1006  # the close code of a client that left without "end"
        self._last_frame = 0.0  # loop.time() of the last frame (the idle watchdog reads it)
        self._waiting = False  # the reader is blocked on a full queue (backpressure)

    async def read(self) -> bool:
        """Reader task; True when the client ended the stream, False when it went away.

        StreamError(IDLE) when no frame comes within the idle timeout. The watchdog is one timer
        per stream, re-armed only when it fires (a frame costs a clock read, not a timer or a
        task as wait_for would), and it does not count while the reader waits for the model:
        backpressure is not the client idling."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        idle = self.ctx.limits.idle_timeout_s
        self._last_frame, expired = loop.time(), False

        def watch() -> None:
            nonlocal handle, expired
            now = loop.time()
            due = now + idle if self._waiting else self._last_frame + idle
            if now < due:
                handle = loop.call_at(due, watch)
                return
            expired = True
            task.cancel()

        handle = loop.call_at(self._last_frame + idle, watch)
        try:
            return await self._read(loop)
        except asyncio.CancelledError:
            if expired:
                task.uncancel()
                raise p.StreamError(p.IDLE, f"nothing received for {idle:g} s") from None
            raise
        finally:
            handle.cancel()

    async def _read(self, loop: asyncio.AbstractEventLoop) -> bool:
        n_channels, max_rows = len(self.opening.spec.channels), self.ctx.limits.max_chunk_rows
        while True:
            msg = await self.ws.receive()
            self._last_frame = loop.time()
            if msg["type"] == "websocket.disconnect":
                self.gone_code = msg.get("code", 1006)
                return False
            chunk = p.parse_chunk(msg, n_channels, max_rows)
            arrived = time.perf_counter()
            try:
                windows = self.live.finish() if chunk.end else self.live.push(chunk.rows, chunk.t)
            except AnalysisInputError as exc:
                raise p.StreamError(p.BAD_SAMPLES, str(exc)) from None
            if self.recorder is not None and not chunk.end:
                self.recorder.write(chunk.rows)
            for i in range(len(windows)):
                await self._put(_Window(AnalysisWindows(windows.x[i:i + 1], windows.starts[i:i + 1]), arrived))
            if chunk.end:
                await self._put(None)
                return True

    async def _put(self, item: _Window | None) -> None:
        if not self.queue.full():
            self.queue.put_nowait(item)
            return
        self._waiting = True  # the model is behind: the reader waits, the client is not idle
        try:
            await self.queue.put(item)
        finally:
            self._waiting = False
            self._last_frame = asyncio.get_running_loop().time()

    async def work(self) -> None:
        """Worker task: batches of queued windows -> the model -> results to the client."""
        batch_size = self.opening.config.batch_size
        while True:
            item = await self.queue.get()
            if item is None:
                return
            batch, ending = [item], False
            while len(batch) < batch_size and not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is None:
                    ending = True
                    break
                batch.append(nxt)
            await self._answer(batch)
            if ending:
                return

    async def _answer(self, batch: list[_Window]) -> None:
        windows = AnalysisWindows(np.concatenate([b.windows.x for b in batch]),
                                  np.concatenate([b.windows.starts for b in batch]))
        answered = await self.ctx.model.answer(windows.x)
        timeline, segments = self.live.accept(windows, answered.outputs)
        source = answered.outputs.source
        self.sources[source] = self.sources.get(source, 0) + len(batch)
        now = time.perf_counter()
        lags = [now - item.arrived for item in batch]
        if self.ctx.metrics is not None:
            self.ctx.metrics.answered(source, len(batch), lags)
        for k, (entry, lag) in enumerate(zip(timeline, lags)):
            msg = {"type": "window", "index": int(windows.starts[k]) // self.opening.config.stride, **entry,
                   "source": source, "lag_ms": round(lag * 1e3, 3)}
            if answered.reason:
                msg["reason"] = answered.reason
            if self.opening.latent:
                msg["latent"] = answered.outputs.latent[k]
            await self.ws.send_text(p.dumps(msg))
        for seg in segments:
            await self.ws.send_text(p.dumps({"type": "segment", **seg}))

    def opened(self) -> dict:
        spec, config = self.opening.spec, self.opening.config
        msg = {"type": "opened", "stream": self.id, "rate_hz": spec.rate_hz, "channels": list(spec.channels),
               "units": spec.units, "analysis_rate_hz": RATE_HZ, "window": WINDOW,
               "config": {k: getattr(config, k) for k in ("stride", "smooth_windows", "min_dwell_s",
                                                           "confidence_threshold")},
               "latent": self.opening.latent, "limits": {"idle_timeout_s": self.ctx.limits.idle_timeout_s,
                                                         "max_chunk_rows": self.ctx.limits.max_chunk_rows},
               **self.ctx.info}
        if self.recorder is not None:
            msg["session"] = self.recorder.session
        return msg

    def ended(self) -> dict:
        msg = {"type": "end", "stream": self.id, "samples": self.live.n_samples,
               "windows": self.live.n_windows, "sources": self.sources}
        if self.recorder is not None:
            msg["session"] = self.recorder.session
        return msg


async def run_stream(ws: WebSocket, ctx: StreamContext) -> None:
    """Serve one stream from accept to close (see the module docstring and `protocol`)."""
    await ws.accept()
    if not ctx.slots.acquire():
        await _fail(ws, p.StreamError(p.TRY_AGAIN, f"{ctx.slots.limit} streams are open, the most this "
                                                   "server takes; retry later"), ctx.metrics)
        return
    if ctx.metrics is not None:
        ctx.metrics.open.inc()
    stream: _Stream | None = None
    try:
        first = await asyncio.wait_for(ws.receive(), ctx.limits.idle_timeout_s)
        if first["type"] == "websocket.disconnect":
            _gone(ctx, first.get("code", 1006))
            return
        stream = _Stream(ws, ctx, p.parse_open(first.get("text"), ctx.config))
        await ws.send_text(p.dumps(stream.opened()))
        if await _serve(stream):
            for seg in stream.live.close():
                await ws.send_text(p.dumps({"type": "segment", **seg}))
            await ws.send_text(p.dumps(stream.ended()))
            await ws.close(p.NORMAL)
            if ctx.metrics is not None:
                ctx.metrics.ended(p.NORMAL)
        else:
            _gone(ctx, stream.gone_code)
    except TimeoutError:
        await _fail(ws, p.StreamError(p.IDLE, f"no open message within {ctx.limits.idle_timeout_s:g} s"),
                    ctx.metrics)
    except p.StreamError as exc:
        await _fail(ws, exc, ctx.metrics)
    except (WebSocketDisconnect, RuntimeError, OSError) as exc:  # the client went away mid-send
        log.info("stream %s: client gone (%s)", stream.id if stream else "-", type(exc).__name__)
        _gone(ctx, getattr(exc, "code", 1006))
    except Exception:  # noqa: BLE001 - the client gets a close code, the log gets the traceback
        log.exception("stream failed")
        await _fail(ws, p.StreamError(p.INTERNAL, "internal error; see the server log"), ctx.metrics)
    finally:
        ctx.slots.release()
        if ctx.metrics is not None:
            ctx.metrics.open.dec()
        if stream is not None and stream.recorder is not None:
            await stream.recorder.finish()  # whatever arrived is kept, however the stream ended


def _gone(ctx: StreamContext, code: int) -> None:
    if ctx.metrics is not None:
        ctx.metrics.ended(code, client_gone=True)


async def _serve(stream: _Stream) -> bool:
    """Run reader and worker; True after a clean end, False when the client went away."""
    reader = asyncio.create_task(stream.read(), name=f"stream-{stream.id}-read")
    worker = asyncio.create_task(stream.work(), name=f"stream-{stream.id}-work")
    try:
        done, _ = await asyncio.wait({reader, worker}, return_when=asyncio.FIRST_COMPLETED)
        if worker in done:
            worker.result()  # a model error ends the stream (raises); else the reader is ending too
        if not await reader:  # the client went away: nobody to answer
            return False
        await worker
        return True
    finally:
        for task in (reader, worker):
            if not task.done():
                task.cancel()
        await asyncio.gather(reader, worker, return_exceptions=True)


async def refuse(ws: WebSocket, code: int, message: str, metrics: StreamMetrics | None = None) -> None:
    """Refuse a stream before it opens (e.g. a missing API key): accept, say why, close with `code`."""
    await ws.accept()
    await _fail(ws, p.StreamError(code, message), metrics)


async def _fail(ws: WebSocket, exc: p.StreamError, metrics: StreamMetrics | None = None) -> None:
    """Say why in a JSON message, then close with the code (if the client is still there)."""
    log.info("stream closed %d (%s): %s", exc.code, p.CLOSE_CODES.get(exc.code, "?"), exc.message)
    if metrics is not None:
        metrics.ended(exc.code)
    if ws.application_state != WebSocketState.CONNECTED or ws.client_state != WebSocketState.CONNECTED:
        return
    try:
        await ws.send_text(p.dumps({"type": "error", "code": exc.code, "error": exc.message}))
        await ws.close(exc.code, p.close_reason(exc.message))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass

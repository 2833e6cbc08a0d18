"""`/v2/stream`: a live IMU stream answered by the sidecar's own engine, through its micro-batcher.

Windows of every open stream are coalesced into one engine call at a time (`stream.coalesce`),
and those calls share micro-batches with HTTP requests.
See `serve.stream` for the protocol, limits and backpressure.
"""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, WebSocket

from tcnvae.analysis.outputs import check_outputs, concat_outputs
from tcnvae.analysis.pipeline import AnalysisConfig
from tcnvae.contract import ContractError
from tcnvae.runtime.errors import InferenceTimeout, Overloaded, ShuttingDown
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.sidecar.state import ServeState
from tcnvae.serve.stream import protocol as p
from tcnvae.serve.stream.coalesce import WindowCoalescer
from tcnvae.serve.stream.session import Answered, StreamContext, refuse, run_stream

router = APIRouter(tags=["streaming"])
OVERLOAD_RETRIES = 8  # the batcher queue is full: wait 5, 10, 20 ... ms (the stream pauses meanwhile)


class EngineModel:
    def __init__(self, state: ServeState) -> None:
        self.state = state

    async def answer(self, x: np.ndarray) -> Answered:
        try:
            engine, batcher = self.state.parts()
        except ApiError as exc:
            raise p.StreamError(p.GOING_AWAY if self.state.draining else p.TRY_AGAIN, exc.message) from None
        try:
            x = engine.validate(x)
            out = await self._submit(batcher, x)
        except ContractError as exc:
            raise p.StreamError(p.BAD_SAMPLES, str(exc)) from None
        except ShuttingDown as exc:
            raise p.StreamError(p.GOING_AWAY, str(exc)) from None
        except (Overloaded, InferenceTimeout) as exc:
            raise p.StreamError(p.TRY_AGAIN, f"the model cannot keep up: {exc}") from None
        outputs = concat_outputs([check_outputs(out, len(x))], engine.labels, "model", engine.info.ref)
        return Answered(outputs)

    async def _submit(self, batcher, x: np.ndarray) -> dict:
        for attempt in range(OVERLOAD_RETRIES):
            try:
                return await batcher.submit(x, self.state.settings.request_timeout_s)
            except Overloaded:
                await asyncio.sleep(0.005 * 2 ** attempt)  # backoff while HTTP traffic fills the queue
        return await batcher.submit(x, self.state.settings.request_timeout_s)


def stream_context(state: ServeState) -> StreamContext:
    engine = state.engine
    info = {"model": engine.info.ref if engine else state.settings.ref,
            "labels": list(engine.labels) if engine else []}
    if state.stream_model is None:  # one for every stream of this server: their windows share calls
        state.stream_model = WindowCoalescer(EngineModel(state), state.settings.max_batch)
    return StreamContext(state.stream_model, state.settings.stream_limits(), state.stream_slots,
                         AnalysisConfig(), info, metrics=state.metrics.stream)


@router.websocket("/v2/stream")
async def stream(ws: WebSocket) -> None:
    state: ServeState = ws.app.state.serve
    try:
        state.auth(ws)
    except ApiError as exc:
        await refuse(ws, p.POLICY, exc.message, state.metrics.stream)
        return
    await run_stream(ws, stream_context(state))


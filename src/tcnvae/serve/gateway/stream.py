"""`/api/v1/analysis/stream`: a live IMU stream through the gateway.

Windows of all open streams are coalesced (`stream.coalesce`: one sidecar call at a time for all
of them) and go to the sidecar through the gateway's `ModelGateway` (circuit breaker, timeouts);
when it fails, the marked deterministic stub answers (`"source": "stub"` and the reason on
every such window) and the stream goes on; real answers resume when the breaker lets a probe
through again. `?record=true` also records the stream as a session (see `recorder`).
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, WebSocket

from tcnvae.analysis.outputs import concat_outputs
from tcnvae.serve.gateway.client import BackendRejected
from tcnvae.serve.gateway.backend import ModelGateway
from tcnvae.serve.gateway.recorder import SessionRecorder
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.stream import protocol as p
from tcnvae.serve.stream.coalesce import WindowCoalescer
from tcnvae.serve.stream.session import Answered, StreamContext, refuse, run_stream

router = APIRouter(prefix="/api/v1/analysis", tags=["analysis"])
TRUE = ("1", "true", "yes")


class GatewayModel:
    """The sidecar through the breaker, else the stub; labels learnt from the first real answer."""

    def __init__(self, model: ModelGateway) -> None:
        self.model = model
        self.labels: tuple[str, ...] = ()

    async def answer(self, x: np.ndarray) -> Answered:
        try:
            ans = await self.model.infer(x)
        except BackendRejected as exc:
            raise p.StreamError(p.BAD_SAMPLES, f"model backend refused the input: {exc.detail}") from None
        if ans.source != "model":
            return Answered(concat_outputs([ans.outputs], (), "stub"), ans.reason)
        self.labels = ans.labels or self.labels or await self.model.client.labels()
        return Answered(concat_outputs([ans.outputs], self.labels, "model"))


@router.websocket("/stream")
async def stream(ws: WebSocket) -> None:
    state = ws.app.state
    try:
        state.auth(ws)
    except ApiError as exc:
        await refuse(ws, p.POLICY, exc.message, state.metrics.stream)
        return
    record = ws.query_params.get("record", "false").lower() in TRUE
    recorder = (lambda opening: SessionRecorder(state.store, state.runner, opening)) if record else None
    if getattr(state, "stream_model", None) is None:  # shared by every stream: their windows share calls
        state.stream_model = WindowCoalescer(GatewayModel(state.model), state.analysis_config.batch_size)
    ctx = StreamContext(state.stream_model, state.settings.stream_limits(), state.stream_slots,
                        state.analysis_config, {"use_real_model": state.settings.use_real_model,
                                                "backend": state.settings.model_backend_url},
                        recorder, state.metrics.stream)
    await run_stream(ws, ctx)

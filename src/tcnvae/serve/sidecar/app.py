"""The inference sidecar's app factory: it only assembles; the model loads in `lifespan`.

Start-up order: open the release through Registry.open (checksums verified, a tampered
release raises), build the engine (the ONNX graph checked against the release's stored reference
outputs, and against PyTorch too when torch is installed: Engine.check_parity), warm it up,
start the micro-batcher, and only then report ready. On shutdown the server stops taking
requests (uvicorn), /healthz turns 503, and the batcher finishes everything queued.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

import numpy as np
from fastapi import FastAPI

from tcnvae.registry.store import Registry
from tcnvae.runtime.batcher import MicroBatcher
from tcnvae.runtime.engine import Engine
from tcnvae.serve.sidecar import compat, health, infer, oip, stream
from tcnvae.serve.http.errors import install_error_handlers
from tcnvae.serve.http.metrics import MetricsMiddleware
from tcnvae.serve.sidecar.settings import ServeSettings
from tcnvae.serve.sidecar.state import ServeState, graph_name

log = logging.getLogger(__name__)


def load_engine(settings: ServeSettings) -> tuple[Engine, float]:
    """Verify, load and warm up; returns the engine and its warm batch-1 latency in ms."""
    release = Registry(settings.models).open(settings.ref, verify=True)
    limits = None
    if settings.check_limits and settings.limits is not None:
        limits = np.asarray(settings.limits, dtype=np.float32)
    engine = Engine.from_release(release, backend=settings.backend, threads=settings.threads, limits=limits,
                                 precision=settings.precision, device=settings.device)
    if not settings.check_limits:
        engine.limits = None
    latency = engine.warmup()
    log.info("serving %s on %s %s (%s), warm latency %.2f ms", release.ref, engine.backend.name,
             engine.precision, engine.backend.artifact, latency)
    return engine, latency


def _lifespan(state: ServeState):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = state.settings
        engine, state.warmup_ms = await asyncio.to_thread(load_engine, s)
        batcher = MicroBatcher(engine.run, max_batch=s.max_batch, max_wait_s=s.batch_wait_ms / 1e3,
                               max_queue=s.max_queue, on_batch=state.metrics.batch_size.observe,
                               inline=not s.engine_thread, max_inflight=s.max_inflight)
        batcher.start()
        if s.gc_freeze:  # move start-up objects (torch, onnx, the model) out of every later GC scan
            gc.collect()
            gc.freeze()
        state.metrics.set_model(engine.info.name, engine.info.version, engine.info.sha256, engine.backend.name,
                                engine.precision, graph_name(engine))
        state.engine, state.batcher = engine, batcher
        try:
            yield
        finally:
            state.draining = True
            await batcher.close(s.drain_timeout_s)
            engine.close()
            state.metrics.close()
            log.info("drained: %d requests, %d windows served", batcher.stats.requests, batcher.stats.windows)
    return lifespan


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """A FastAPI app for one release; nothing loads until the lifespan starts."""
    state = ServeState(settings or ServeSettings())
    app = FastAPI(title="tcnvae inference sidecar", version="1",
                  description="Raw IMU windows (100 x 9, SI units) -> latent, motif scores, activity. "
                              "Also speaks the Open Inference Protocol v2 under /v2.",
                  lifespan=_lifespan(state))
    app.state.serve = state
    install_error_handlers(app)
    app.include_router(infer.router)
    app.include_router(oip.router)
    app.include_router(health.router)
    app.include_router(stream.router)
    app.include_router(compat.router)  # GET /, as the old HailoRT sidecar
    state.metrics.add_derived(compat.LegacyMetrics(state))  # its hailo_* metric names, as aliases
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    return app
